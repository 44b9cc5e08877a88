import { describe, expect, it } from 'vitest';
import { Exit } from '../../src/cpu/cpu.js';
import { CpuDebug } from '../../src/cpu/debug-hooks.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';

/** A machine with a debugger attached to its CPU. */
function debugged(source: string): { m: TestMachine; debug: CpuDebug } {
  const m = new TestMachine().load(source);
  const debug = new CpuDebug(m.cpu);
  m.cpu.debug = debug;
  return { m, debug };
}

const at = (index: number) => BigInt(RAM_BASE + index * 4);

describe.skipIf(!assemblerAvailable())('CPU debug hooks', () => {
  const straight = `
    mov x0, #1
    mov x1, #2
    mov x2, #3
    mov x3, #4
    hvc #0
  `;

  it('stops before a breakpointed instruction without executing or counting it, then resumes past it', () => {
    const { m, debug } = debugged(straight);
    const before = Uint8Array.from(m.ram.bytes.subarray(0, 20));
    debug.addBreakpoint(at(2), false);
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.pc()).toBe(at(2));
    expect(m.x(1)).toBe(2n);
    expect(m.x(2)).toBe(0n); // not executed
    expect(m.cpu.icount).toBe(2);
    expect(debug.lastHit).toEqual({ kind: 'breakpoint', pc: at(2), hardware: false });
    // Guest memory is never modified by a breakpoint.
    expect(m.ram.bytes.subarray(0, 20)).toEqual(before);
    // Resuming executes the breakpointed instruction once and carries on.
    expect(m.run()).toBe(Exit.HVC);
    expect(m.x(2)).toBe(3n);
    expect(m.x(3)).toBe(4n);
    expect(m.cpu.icount).toBe(5);
  });

  it('hits a breakpoint in a loop on every iteration, and not after removal', () => {
    const { m, debug } = debugged(`
      mov x0, #0
    1:
      add x0, x0, #1
      cmp x0, #3
      b.ne 1b
      hvc #0
    `);
    debug.addBreakpoint(at(1), true);
    const seen: bigint[] = [];
    while (m.run() === Exit.DEBUG) seen.push(m.x(0));
    expect(seen).toEqual([0n, 1n, 2n]);
    expect(m.x(0)).toBe(3n);
    expect(debug.lastHit).toMatchObject({ kind: 'breakpoint', hardware: true });

    const { m: m2, debug: debug2 } = debugged(`
      mov x0, #0
    1:
      add x0, x0, #1
      cmp x0, #3
      b.ne 1b
      hvc #0
    `);
    debug2.addBreakpoint(at(1), false);
    expect(m2.run()).toBe(Exit.DEBUG);
    expect(debug2.removeBreakpoint(at(1), false)).toBe(true);
    expect(debug2.removeBreakpoint(at(1), false)).toBe(false);
    expect(m2.run()).toBe(Exit.HVC);
    expect(m2.x(0)).toBe(3n);
  });

  it('a single step from a breakpoint executes exactly that instruction', () => {
    const { m, debug } = debugged(straight);
    debug.addBreakpoint(at(1), false);
    debug.addBreakpoint(at(2), false);
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.cpu.run(1)).toBe(1);
    expect(m.pc()).toBe(at(2));
    expect(m.x(1)).toBe(2n);
    // The next breakpoint is reported when reached.
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.pc()).toBe(at(2));
    expect(m.x(2)).toBe(0n);
  });

  it('does not skip when the debugger moved the PC away from the stop', () => {
    const { m, debug } = debugged(straight);
    debug.addBreakpoint(at(0), false);
    debug.addBreakpoint(at(3), false);
    expect(m.run()).toBe(Exit.DEBUG);
    m.cpu.pcLo = Number(at(3)) | 0;
    m.cpu.refetch = true;
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.pc()).toBe(at(3));
  });

  it('write watchpoints stop before the store, on the fast path too, and report the watched byte', () => {
    const data = RAM_BASE + 0x1000;
    const { m, debug } = debugged(`
      ldr x2, =${data}
      mov x1, #0x55
      mov x3, #0
    1:
      ldr x4, [x2]
      str x1, [x2, #8]
      add x3, x3, #1
      cmp x3, #3
      b.ne 1b
      hvc #0
    `);
    // Warm the TLB first so the watchpoint must evict fast-path entries.
    expect(m.run(6)).toBe(Exit.NONE);
    expect(m.ram.view.getUint32(0x1008, true)).toBe(0x55);
    m.ram.view.setUint32(0x1008, 0, true);
    debug.addWatchpoint(BigInt(data + 12), 4, 'write');
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.pc()).toBe(at(4)); // the str, not executed
    expect(m.ram.view.getUint32(0x1008, true)).toBe(0);
    expect(debug.lastHit).toMatchObject({ kind: 'watchpoint', watch: 'write', dataAddress: BigInt(data + 12) });
    // Resume: the store happens, the loop comes round and stops again.
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.ram.view.getUint32(0x1008, true)).toBe(0x55);
    expect(m.x(3)).toBe(2n);
    expect(debug.removeWatchpoint(BigInt(data + 12), 4, 'write')).toBe(true);
    expect(m.run()).toBe(Exit.HVC);
  });

  it('read watchpoints ignore writes; access watchpoints see both', () => {
    const data = RAM_BASE + 0x2000;
    const program = `
      ldr x2, =${data}
      mov x1, #7
      str x1, [x2]
      ldr x4, [x2]
      hvc #0
    `;
    const read = debugged(program);
    read.debug.addWatchpoint(BigInt(data), 8, 'read');
    expect(read.m.run()).toBe(Exit.DEBUG);
    expect(read.m.pc()).toBe(at(3));
    const access = debugged(program);
    access.debug.addWatchpoint(BigInt(data + 4), 1, 'access');
    expect(access.m.run()).toBe(Exit.DEBUG);
    expect(access.m.pc()).toBe(at(2));
    expect(access.debug.lastHit).toMatchObject({ dataAddress: BigInt(data + 4) });
    expect(access.m.run()).toBe(Exit.DEBUG);
    expect(access.m.pc()).toBe(at(3));
    expect(access.m.run()).toBe(Exit.HVC);
    expect(access.m.x(4)).toBe(7n);
  });

  it('re-decodes the breakpoint when code is rewritten underneath it', () => {
    const { m, debug } = debugged(straight);
    debug.addBreakpoint(at(3), false);
    expect(m.run()).toBe(Exit.DEBUG);
    // Something (DMA, the debugger) rewrites the page: the breakpoint survives the re-decode.
    m.load(straight);
    m.cpu.reset();
    m.cpu.pcLo = RAM_BASE;
    debug.clearPending();
    expect(m.run()).toBe(Exit.DEBUG);
    expect(m.pc()).toBe(at(3));
  });
});
