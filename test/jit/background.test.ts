import { describe, expect, it } from 'vitest';
import { assemblerAvailable } from '../support/asm.js';
import { Exit } from '../../src/cpu/cpu.js';
import { DELIVERY_INSTRUCTIONS } from '../../src/cpu/jit/engine.js';
import { stateOf, withMmu } from './lockstep.js';

/**
 * Background compiling (Cpu.backgroundCompile; docs/jit.md, "Compiling"): hot regions are
 * interpreted while their batch compiles off the thread, and take over once the event loop
 * delivers it. Engine equivalence holds at every slice whenever the code lands, and code dropped
 * or rewritten while its batch was compiling is never installed.
 */

const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the pair in slices, turning the event loop after each, until both exit; states equal after each slice. */
async function runYielding(pair: ReturnType<typeof withMmu>, slice: number, between?: (slice: number) => void): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    const a = pair.interp.cpu.run(slice);
    const b = pair.jit.cpu.run(slice);
    expect(stateOf(pair.jit), `slice ${i}`).toBe(stateOf(pair.interp));
    expect(b).toBe(a);
    if (pair.interp.cpu.exitReason !== 0) return;
    between?.(i);
    await nextTask();
  }
}

const LOOP = `
  movz x2, #0x4020, lsl #16
  mov x9, #3000
1: ldr x3, [x2]
  add x3, x3, x9
  str x3, [x2]
  eor x4, x3, x9, lsl #3
  add x0, x0, x4
  subs x9, x9, #1
  b.ne 1b
  hvc #0
`;

describe.runIf(assemblerAvailable())('JIT compiling in the background', () => {
  it('interprets a hot loop until its batch is delivered, then runs it compiled, exact at every slice', async () => {
    const pair = withMmu(LOOP);
    const cpu = pair.jit.cpu;
    cpu.backgroundCompile = true;
    cpu.run(200); // the loop is hot at once (threshold 0): its region waits in a batch, submitted at the end of run()
    pair.interp.cpu.run(200);
    expect(cpu.jit!.stats.compiledRegions).toBe(0);
    expect(cpu.jit!.stats.jitInstructions).toBe(0);
    await runYielding(pair, 500);
    expect(cpu.exitImm).toBe(0);
    expect(cpu.jit!.stats.compiledRegions).toBeGreaterThan(0);
    expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(cpu.icount / 2);
  });

  it('drops a batch compiled across a flush, and compiles the code again when hot', async () => {
    const pair = withMmu(LOOP);
    const cpu = pair.jit.cpu;
    cpu.backgroundCompile = true;
    cpu.run(200);
    pair.interp.cpu.run(200);
    cpu.jit!.flush(); // while the batch compiles
    await new Promise((resolve) => setTimeout(resolve, 200)); // long enough for it to come back
    expect(cpu.jit!.stats.compiledRegions).toBe(0);
    await runYielding(pair, 500);
    expect(cpu.jit!.stats.compiledRegions).toBeGreaterThan(0);
    expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(0);
  });

  it('never installs code for a page rewritten while its batch was compiling', async () => {
    // The loop's "add x0, x0, #1" becomes "add x0, x0, #100" between the submit and the delivery.
    const pair = withMmu(`
      mov x9, #2000
    1: add x0, x0, #1
      subs x9, x9, #1
      b.ne 1b
      hvc #0
    `);
    const cpu = pair.jit.cpu;
    cpu.backgroundCompile = true;
    await runYielding(pair, 300, (slice) => {
      if (slice !== 0) return;
      for (const m of [pair.interp, pair.jit]) {
        m.ram.view.setUint32(4, 0x91019000, true); // add x0, x0, #100 (the program is at RAM_BASE)
        m.ram.noteDataWrite(4, 4);
      }
    });
    expect(pair.jit.x(0)).toBe(pair.interp.x(0));
    expect(pair.jit.x(0)).toBeGreaterThan(2000n);
  });

  it('ends a long run() once the compile has had time to finish, so the host can deliver it', async () => {
    const pair = withMmu(LOOP.replace('#3000', '#60000'));
    const cpu = pair.jit.cpu;
    cpu.backgroundCompile = true;
    const ran = cpu.run(10_000_000);
    expect(cpu.exitReason).toBe(Exit.STOP);
    expect(ran).toBeGreaterThan(DELIVERY_INSTRUCTIONS);
    expect(ran).toBeLessThan(2 * DELIVERY_INSTRUCTIONS);
    expect(pair.interp.cpu.run(ran)).toBe(ran);
    expect(stateOf(pair.jit).replace(/exit=\d+/, '')).toBe(stateOf(pair.interp).replace(/exit=\d+/, ''));
    for (let turns = 0; cpu.jit!.stats.compiledRegions === 0 && turns < 1000; turns++) await new Promise((resolve) => setTimeout(resolve, 1));
    cpu.run(100_000);
    expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(50_000);
  });
});
