import type { Cpu } from './cpu.js';

/** Status an executor returns: fall through to the next instruction... */
export const NEXT = 0;
/** ...or the executor wrote the PC (branch, exception, exit) and the loop must follow it. */
export const JUMP = 1;

export type Exec = (cpu: Cpu, insn: Insn) => number;

/** The executor of every instruction that does nothing (hints, barriers, PRFM): the JIT compiles it to nothing. */
export function nop(): number {
  return NEXT;
}

/**
 * A decoded instruction: the executor for its exact form plus pre-extracted operands. Every
 * instance has the same shape, so the interpreter's property loads stay monomorphic; a future JIT
 * reads the same fields. Register operands are already slot indices times two (lo word index),
 * with register 31 resolved to SP, XZR or the write sink at decode time (see regs.ts).
 */
export class Insn {
  exec: Exec;
  /** The instruction word, for syndromes and disassembly. */
  word: number;
  d = 0;
  n = 0;
  m = 0;
  a = 0;
  /** Immediate, low 32 bits (or the whole immediate when it fits). */
  imm = 0;
  /** Immediate, high 32 bits. */
  immHi = 0;
  /** Small per-form parameters: shift amount, size, option, condition... */
  s = 0;
  t = 0;
  u = 0;

  constructor(exec: Exec, word: number) {
    this.exec = exec;
    this.word = word;
  }
}
