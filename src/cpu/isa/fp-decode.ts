import type { Insn } from '../insn.js';
import { decodeFpIntConversion } from './fp-int.js';
import { decodeFpScalarClasses } from './fp-scalar.js';
import { decodeFpAcross, decodeFpByElement, decodeFpFixedShift, decodeFpScalarPairwise, decodeFpThreeSame, decodeFpTwoMisc } from './fp-vector-decode.js';

/**
 * Floating point: the scalar FP data-processing classes (arithmetic, compares, conditional
 * select, conversions, FMADD family) and the FP forms of the Advanced SIMD vector and scalar
 * classes. Called after the integer decoders declined the word; null: UNDEFINED.
 */
export function decodeFpScalar(word: number): Insn | null {
  return decodeFpIntConversion(word) ?? decodeFpScalarClasses(word);
}

/** Advanced SIMD vector classes, floating-point opcodes (0 Q U 0111x ...). */
export function decodeFpVector(word: number): Insn | null {
  if ((word & 0x9f200400) === 0x0e200400) return decodeFpThreeSame(word, false);
  if ((word & 0x9f3e0c00) === 0x0e200800) return decodeFpTwoMisc(word, false);
  if ((word & 0x9f3e0c00) === 0x0e300800) return decodeFpAcross(word);
  if ((word & 0x9f000400) === 0x0f000000) return decodeFpByElement(word, false);
  if ((word & 0x9f800400) === 0x0f000400) return decodeFpFixedShift(word, false);
  return null;
}

/** Advanced SIMD scalar classes, floating-point opcodes (01 U 1111x ...). */
export function decodeFpAdvSimdScalar(word: number): Insn | null {
  if ((word & 0xdf200400) === 0x5e200400) return decodeFpThreeSame(word, true);
  if ((word & 0xdf3e0c00) === 0x5e200800) return decodeFpTwoMisc(word, true);
  if ((word & 0xdf3e0c00) === 0x5e300800) return decodeFpScalarPairwise(word);
  if ((word & 0xdf000400) === 0x5f000000) return decodeFpByElement(word, true);
  if ((word & 0xdf800400) === 0x5f000400) return decodeFpFixedShift(word, true);
  return null;
}
