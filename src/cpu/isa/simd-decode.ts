import type { Insn } from '../insn.js';
import { decodeFpAdvSimdScalar, decodeFpScalar, decodeFpVector } from './fp-decode.js';
import { decodeSimdIntExtra } from './simd-int-extra.js';
import { decodeFmovGeneral, decodeFmovImmediate, decodeFmovRegister } from './fp-move.js';
import { decodeAcross, decodeShiftImmediate, decodeThreeDifferent, decodeThreeSame, decodeTwoMisc } from './simd-int.js';
import { decodeSimdLoadLiteral, decodeSimdLoadStorePair, decodeSimdLoadStoreRegister } from './simd-ldst.js';
import { decodeSimdMultiple, decodeSimdSingle } from './simd-ldst-struct.js';
import { decodeCopy, decodeExt, decodeModifiedImmediate, decodePermute, decodeTable } from './simd-move.js';

/**
 * Decoding of the SIMD&FP encodings this CPU implements (docs/fp-simd.md lists them): the
 * "Data Processing -- Scalar Floating-Point and Advanced SIMD" group (op0 = x111) and the
 * SIMD&FP loads and stores (op0 = x1x0 with V, bit 26, set). Anything else is null: UNDEFINED.
 * Each class is recognised by a mask/value pair over its fixed bits (DDI 0487, C4.1.96).
 */
export function decodeSimdDataProcessing(word: number): Insn | null {
  // Each group: the integer classes first, then the rest of the integer SIMD (simd-int-extra),
  // then floating point (fp-decode); a word no family claims is UNDEFINED.
  if (word >>> 31 === 0 && ((word >>> 28) & 1) === 0) return decodeVector(word) ?? decodeSimdIntExtra(word, false) ?? decodeFpVector(word);
  if ((word & 0xd0000000) === 0x50000000) return decodeScalar(word) ?? decodeSimdIntExtra(word, true) ?? decodeFpAdvSimdScalar(word);
  if ((word & 0x5f200000) === 0x1e200000) return decodeFloat(word) ?? decodeFpScalar(word);
  if ((word & 0x5f000000) === 0x1f000000) return decodeFpScalar(word); // FMADD family (data processing, 3 source)
  if ((word & 0x5f200000) === 0x1e000000) return decodeFpScalar(word); // conversion between FP and fixed point
  return null;
}

/** 0 Q U 0111x ...: the vector classes. */
function decodeVector(word: number): Insn | null {
  if ((word & 0x9f200400) === 0x0e200400) return decodeThreeSame(word, false);
  if ((word & 0x9f200c00) === 0x0e200000) return decodeThreeDifferent(word);
  if ((word & 0x9f3e0c00) === 0x0e200800) return decodeTwoMisc(word, false);
  if ((word & 0x9f3e0c00) === 0x0e300800) return decodeAcross(word);
  if ((word & 0x9fe08400) === 0x0e000400) return decodeCopy(word, false);
  if ((word & 0xbf208c00) === 0x0e000000) return decodeTable(word);
  if ((word & 0xbf208c00) === 0x0e000800) return decodePermute(word);
  if ((word & 0xbf208400) === 0x2e000000) return decodeExt(word);
  if ((word & 0x9ff80400) === 0x0f000400) return decodeModifiedImmediate(word);
  if ((word & 0x9f800400) === 0x0f000400) return decodeShiftImmediate(word, false);
  return null;
}

/** 01 U 1111x ...: the scalar Advanced SIMD classes (64-bit lanes, and DUP/ADDP). */
function decodeScalar(word: number): Insn | null {
  if ((word & 0xdf200400) === 0x5e200400) return decodeThreeSame(word, true);
  if ((word & 0xdf3e0c00) === 0x5e200800) return decodeTwoMisc(word, true);
  if ((word & 0xffff_fc00) === 0x5ef1b800) return decodeScalarAddp(word);
  if ((word & 0xdfe08400) === 0x5e000400) return decodeCopy(word, true);
  if ((word & 0xdf800400) === 0x5f000400) return decodeShiftImmediate(word, true);
  return null;
}

/** ADDP Dd, Vn.2D: the pairwise add of a 2D vector's two lanes, as the 2D vector ADDP's low lane. */
function decodeScalarAddp(word: number): Insn | null {
  // ADDP (vector) 2D with Vm = Vn computes both lanes from Vn; keeping the low one (Q = 0 writes
  // 8 bytes) is exactly the scalar form.
  const rn = (word >>> 5) & 31;
  const vectorWord = 0x4ee0bc00 | (rn << 16) | (word & 0x3ff);
  const insn = decodeThreeSame(vectorWord, false);
  if (insn) {
    insn.word = word;
    insn.t = 0;
  }
  return insn;
}

/** M 0 S 11110 ftype 1 ...: scalar floating point; only the moves are implemented. */
function decodeFloat(word: number): Insn | null {
  if ((word >>> 29) & 1) return null; // S must be 0
  if ((word & 0xfc00) === 0) return decodeFmovGeneral(word); // bit 31 is sf here
  if (word >>> 31) return null; // M must be 0
  if ((word & 0x7c00) === 0x4000 && ((word >>> 15) & 0x3f) === 0) return decodeFmovRegister(word);
  if ((word & 0x1c00) === 0x1000) return decodeFmovImmediate(word);
  return null;
}

/** op0 = x1x0 with bit 26 (V) set: SIMD&FP loads and stores. */
export function decodeSimdLoadStore(word: number): Insn | null {
  switch ((word >>> 28) & 3) {
    case 0:
      if (word >>> 31 !== 0 || ((word >>> 24) & 0x3e) !== 0x0c) return null;
      return (word >>> 24) & 1 ? decodeSimdSingle(word) : decodeSimdMultiple(word);
    case 1:
      return (word >>> 24) & 1 ? null : decodeSimdLoadLiteral(word); // SIMD&FP LDAPUR/STLUR: FEAT_LRCPC3
    case 2:
      return decodeSimdLoadStorePair(word);
    default:
      return decodeSimdLoadStoreRegister(word);
  }
}
