import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CpuEngine } from '../../src/cpu/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, saveSnapshot } from '../../src/vmm/migration/index.js';

/**
 * Snapshot restore over a machine whose JIT holds compiled code for the very pages the snapshot
 * rewrites: the restored guest must run as if it had never left the snapshot point, to the same
 * output and the same instruction count as the interpreter.
 */
const image = (name: string) => readFileSync(join(import.meta.dirname, '../../guests/build', `${name}.elf`));

function machine(engine: CpuEngine, out: Uint8Array[]): VirtMachine {
  const m = new VirtMachine({ memoryBytes: 64 * 2 ** 20, cpuEngine: engine });
  m.events.on('output', (bytes) => out.push(bytes.slice()));
  return m;
}

function finish(m: VirtMachine): void {
  for (let slices = 0; m.state === 'running' && slices < 1000; slices++) m.runSlice(1_000_000);
}

describe('the JIT across snapshot restore', () => {
  it('bench-int restored over its own later, compiled state ends as the interpreter does', () => {
    const referenceOut: Uint8Array[] = [];
    const reference = machine('interp', referenceOut);
    reference.loadElf(image('bench-int'));
    finish(reference);

    const out: Uint8Array[] = [];
    const m = machine('jit', out);
    m.loadElf(image('bench-int'));
    m.runSlice(30_000_000);
    m.pause();
    const snapshot = Buffer.concat(saveSnapshot(m));
    const atSnapshot = out.length;
    m.resume();
    m.runSlice(20_000_000); // compiles and runs further, then goes back in time
    expect(m.vcpu.cpu.jit!.stats.jitInstructions).toBeGreaterThan(10_000_000);
    m.pause();
    out.length = atSnapshot;
    loadSnapshot(m, snapshot);
    m.resume();
    finish(m);
    expect(Buffer.concat(out).toString('latin1')).toBe(Buffer.concat(referenceOut).toString('latin1'));
    expect(m.vcpu.cpu.icount).toBe(reference.vcpu.cpu.icount);
  });
});
