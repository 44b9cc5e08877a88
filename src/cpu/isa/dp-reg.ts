import type { Insn } from '../insn.js';

/** Data processing - register (C4.1.89). */
export function decodeDpReg(word: number, mte: boolean): Insn | null {
  void word;
  void mte;
  return null;
}
