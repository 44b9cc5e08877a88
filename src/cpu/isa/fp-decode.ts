import type { Insn } from '../insn.js';

/**
 * Floating point: the scalar FP data-processing classes (arithmetic, compares, conditional
 * select, conversions, FMADD family) and the FP forms of the Advanced SIMD vector and scalar
 * classes. Called after the integer decoders declined the word; null: UNDEFINED.
 */
export function decodeFpScalar(_word: number): Insn | null {
  return null;
}

/** Advanced SIMD vector classes, floating-point opcodes (0 Q U 0111x ...). */
export function decodeFpVector(_word: number): Insn | null {
  return null;
}

/** Advanced SIMD scalar classes, floating-point opcodes (01 U 1111x ...). */
export function decodeFpAdvSimdScalar(_word: number): Insn | null {
  return null;
}
