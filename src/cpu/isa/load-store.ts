import type { Insn } from '../insn.js';

/** Loads and stores (C4.1.88). */
export function decodeLoadStore(word: number, mte: boolean): Insn | null {
  void word;
  void mte;
  return null;
}
