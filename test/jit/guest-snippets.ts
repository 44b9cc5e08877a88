import { Sys } from '../../src/cpu/sysreg-state.js';
import type { TestMachine } from '../support/cpu-harness.js';
import { TestMmu, VECTORS } from '../support/mmu.js';
import { enginePair } from './lockstep.js';

/**
 * Guest code shared by the JIT's lockstep tests that fault on purpose (mte.test.ts,
 * atomics.test.ts): a handler that skips every synchronous exception, and an LCG's constants.
 */

/** Synchronous vectors: count the exception in x23, mix ESR and FAR into x21/x22, return past the instruction (past SVC's next one). */
export const HANDLER = `
  mrs x20, esr_el1
  add x21, x21, x20
  mrs x20, far_el1
  eor x22, x22, x20, ror #7
  mrs x20, elr_el1
  add x20, x20, #4
  msr elr_el1, x20
  add x23, x23, #1
  eret
`;

/** LCG constants in x27/x28 (x1 = x1 * x27 + x28 steps it) and its seed in x1. */
export const PROLOGUE = `
  movz x27, #0x7f2d
  movk x27, #0x4c95, lsl #16
  movk x27, #0xf42d, lsl #32
  movk x27, #0x5851, lsl #48
  movz x28, #0xf74f
  movk x28, #0xb5ad, lsl #16
  movk x28, #0x4f6c, lsl #32
  movk x28, #0x1405, lsl #48
  mov x1, #0x1234
`;

/** Puts HANDLER at the current-EL synchronous vectors (SP_EL0 and SP_ELx) and VBAR_EL1 there. */
export function installHandler(m: TestMachine): void {
  for (const offset of [0x000, 0x200]) m.load(HANDLER, VECTORS + offset);
  m.cpu.setSys(Sys.VBAR_EL1, VECTORS, 0);
}

/** An engine pair (lockstep.ts) running `program` with HANDLER installed and TestMmu's MMU on; `setup` sets more up. */
export function handlerPair(program: string, setup?: (m: TestMachine, mmu: TestMmu) => void): { interp: TestMachine; jit: TestMachine } {
  return enginePair((m) => {
    installHandler(m);
    m.load(program);
    const mmu = new TestMmu(m);
    setup?.(m, mmu);
  });
}
