import { expect } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { TestMachine } from '../support/cpu-harness.js';
import { installVectors, TestMmu } from '../support/mmu.js';

/**
 * Engine equivalence: the same program on two machines, one interpreting and one with the JIT
 * compiling every block at its first entry (hotThreshold 0), run in slices of a few instructions;
 * after every slice the whole architectural state must be equal: registers, NZCV, PC, the
 * instruction count, the exception registers, and the data written so far.
 */
export function enginePair(setup: (m: TestMachine) => void): { interp: TestMachine; jit: TestMachine } {
  const interp = new TestMachine();
  const jit = new TestMachine();
  jit.cpu.setEngine('jit');
  jit.cpu.jit!.hotThreshold = 0;
  setup(interp);
  setup(jit);
  return { interp, jit };
}

/** A pair loading `source`, with the test vectors and TestMmu's MMU on; `extra` sets more up. */
export function withMmu(source: string, extra?: (m: TestMachine, mmu: TestMmu) => void): { interp: TestMachine; jit: TestMachine } {
  return enginePair((m) => {
    m.load(source);
    installVectors(m);
    const mmu = new TestMmu(m);
    extra?.(m, mmu);
  });
}

export function stateOf(m: TestMachine): string {
  const c = m.cpu;
  const sys = [Sys.ELR_EL1, Sys.ESR_EL1, Sys.FAR_EL1, Sys.SPSR_EL1, Sys.TFSR_EL1].map((r) => `${c.sysLo(r)}:${c.sysHi(r)}`);
  return `pc=${c.pcHi}:${c.pcLo} nzcv=${m.nzcv()} el=${c.el} icount=${c.icount} exit=${c.exitReason} tagFaults=${c.tagFaultCount} sys=${sys.join(',')} x=${[...c.x.subarray(0, 66)].join(',')}`;
}

/**
 * Runs both machines in slices of `slice` instructions until both stop at an exit or `maxSlices`
 * pass, expecting equal state after each slice and equal RAM in [from, from + length) at the end.
 * `between` may change both machines the same way between slices (DMA, TLB maintenance...).
 * Returns the JIT machine's count of instructions run by compiled code.
 */
export function runLockstep(
  pair: { interp: TestMachine; jit: TestMachine },
  options: { slice: number; maxSlices?: number; ram?: [number, number]; between?: (m: TestMachine, slice: number) => void },
): number {
  const { interp, jit } = pair;
  const max = options.maxSlices ?? 100_000;
  for (let i = 0; i < max; i++) {
    const ranA = interp.cpu.run(options.slice);
    const ranB = jit.cpu.run(options.slice);
    const a = stateOf(interp);
    const b = stateOf(jit);
    if (a !== b || ranA !== ranB) expect.fail(`slice ${i} of ${options.slice}: the engines differ\ninterp: ${a} (ran ${ranA})\njit:    ${b} (ran ${ranB})`);
    if (interp.cpu.exitReason !== 0) break;
    options.between?.(interp, i);
    options.between?.(jit, i);
  }
  if (options.ram) {
    const [from, length] = options.ram;
    const offset = from - 0x4000_0000;
    expect(Buffer.from(jit.ram.bytes.subarray(offset, offset + length)).equals(Buffer.from(interp.ram.bytes.subarray(offset, offset + length)))).toBe(true);
  }
  return jit.cpu.jit!.stats.jitInstructions;
}
