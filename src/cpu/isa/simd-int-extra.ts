import type { Insn } from '../insn.js';
import { decodeAes, decodeShaThree, decodeShaTwo } from './simd-crypto.js';
import { decodeByElement, decodeDotVector } from './simd-elem.js';
import { decodeSatShiftImmediate, decodeSatThreeDifferent, decodeSatThreeSame, decodeSatTwoMisc, decodeThreeSameExtra } from './simd-sat.js';

/**
 * The integer Advanced SIMD simd-int.ts and simd-move.ts leave to others: saturating, halving and
 * rounding forms, narrows and shifts (simd-sat.ts), by-element multiplies and dot products
 * (simd-elem.ts), polynomial multiplies, and the AES/SHA-1/SHA-256 classes (simd-crypto.ts).
 * Called after simd-int/simd-move declined the word, with the same class masks as
 * simd-decode.ts (bit 28 set: the scalar classes); null passes it on to the floating-point decoders.
 */
export function decodeSimdIntExtra(word: number, scalar: boolean): Insn | null {
  if (scalar) {
    if ((word & 0xdf200400) === 0x5e200400) return decodeSatThreeSame(word, true);
    if ((word & 0xdf208400) === 0x5e008400) return decodeThreeSameExtra(word, true);
    if ((word & 0xdf3e0c00) === 0x5e200800) return decodeSatTwoMisc(word, true);
    if ((word & 0xdf200c00) === 0x5e200000) return decodeSatThreeDifferent(word, true);
    if ((word & 0xdf800400) === 0x5f000400) return decodeSatShiftImmediate(word, true);
    if ((word & 0xdf000400) === 0x5f000000) return decodeByElement(word, true);
    if ((word & 0xffe08c00) === 0x5e000000) return decodeShaThree(word);
    if ((word & 0xfffe0c00) === 0x5e280800) return decodeShaTwo(word);
    return null;
  }
  if ((word & 0x9f200400) === 0x0e200400) return decodeSatThreeSame(word, false);
  if ((word & 0x9f208400) === 0x0e008400) return decodeThreeSameExtra(word, false) ?? decodeDotVector(word);
  if ((word & 0x9f3e0c00) === 0x0e200800) return decodeSatTwoMisc(word, false);
  if ((word & 0x9f200c00) === 0x0e200000) return decodeSatThreeDifferent(word, false);
  if ((word & 0x9f800400) === 0x0f000400) return decodeSatShiftImmediate(word, false);
  if ((word & 0x9f000400) === 0x0f000000) return decodeByElement(word, false);
  if ((word & 0xfffe0c00) === 0x4e280800) return decodeAes(word);
  return null;
}
