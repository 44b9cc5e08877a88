import type { Insn } from '../insn.js';
import { IMMEDIATE, LANE, laneInsn, laneOp, longExec, narrowExec, sameExec, satS, satU, sx } from './simd-big.js';

/**
 * Saturating, halving, rounding and doubling integer Advanced SIMD (DDI 0487, C7.2): the
 * three-same, three-same-extra (FEAT_RDM), two-register-miscellaneous and shift-by-immediate
 * forms simd-int.ts leaves out, vector and scalar. Each operation is one LaneFn over unbounded
 * integers (simd-big.ts), exactly as the pseudocode writes it; decoders check the element sizes
 * each form allows (the others are UNDEFINED) and pick the lane layout.
 */

const abs = (v: bigint): bigint => (v < 0n ? -v : v);
/** x << sh, or x >> -sh (rounding toward minus infinity) when sh is negative. */
const shiftLeft = (x: bigint, sh: bigint): bigint => (sh >= 0n ? x << sh : x >> -sh);
const roundShiftRight = (x: bigint, sh: bigint): bigint => (sh === 0n ? x : (x + (1n << (sh - 1n))) >> sh);

/** SQSHL/UQSHL/SRSHL/URSHL/SQRSHL/UQRSHL (register): shift by the signed low byte of Vm's lane. */
function shiftByRegister(signed: boolean, round: boolean, saturate: boolean): number {
  return laneOp((a, b, _acc, n) => {
    const sh = sx(b, 8);
    const x = signed ? sx(a, n) : a;
    const r = round && sh < 0n ? roundShiftRight(x, -sh) : shiftLeft(x, sh);
    if (!saturate) return r;
    return signed ? satS(r, n) : satU(r, n);
  });
}

/** SQDMULH/SQRDMULH: the high half of the doubled product, saturated (only MIN * MIN saturates). */
function doublingHigh(round: boolean): number {
  return laneOp((a, b, _acc, n) => satS((2n * sx(a, n) * sx(b, n) + (round ? 1n << BigInt(n - 1) : 0n)) >> BigInt(n), n));
}

/** SQRDMLAH/SQRDMLSH: (Vd << n) +/- 2 * a * b, rounded, the high half saturated. */
function doublingHighAccumulate(subtract: boolean): number {
  return laneOp((a, b, acc, n) => {
    const product = 2n * sx(a, n) * sx(b, n);
    const sum = (sx(acc, n) << BigInt(n)) + (subtract ? -product : product) + (1n << BigInt(n - 1));
    return satS(sum >> BigInt(n), n);
  });
}

export const SQDMULH = doublingHigh(false);
export const SQRDMULH = doublingHigh(true);
export const SQRDMLAH = doublingHighAccumulate(false);
export const SQRDMLSH = doublingHighAccumulate(true);

/** Carry-less product of two 32-bit values as its low and high 32-bit words. */
function clmul32(a: number, b: number): [number, number] {
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < 32; k++) {
    if ((b >>> k) & 1) {
      lo ^= a << k;
      if (k) hi ^= a >>> (32 - k);
    }
  }
  return [lo >>> 0, hi >>> 0];
}

/** Polynomial (carry-less) multiply of two `n`-bit values (n = 8 or 64): 2n - 1 bits. */
export function clmul(a: bigint, b: bigint, n: number): bigint {
  if (n <= 32) {
    const [lo, hi] = clmul32(Number(a), Number(b));
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  // 64 x 64 from four 32 x 32 products (words of the result: w0..w3).
  const a0 = Number(a & 0xffffffffn);
  const a1 = Number(a >> 32n);
  const b0 = Number(b & 0xffffffffn);
  const b1 = Number(b >> 32n);
  const [low0, low1] = clmul32(a0, b0);
  const [midA0, midA1] = clmul32(a0, b1);
  const [midB0, midB1] = clmul32(a1, b0);
  const [high0, high1] = clmul32(a1, b1);
  const words = [low0, low1 ^ midA0 ^ midB0, high0 ^ midA1 ^ midB1, high1];
  return words.reduceRight((acc, w) => (acc << 32n) | BigInt(w >>> 0), 0n);
}

/** Three same, by U:opcode: the entries simd-int.ts does not have. */
const THREE_SAME: Partial<Record<number, number>> = {
  0x00: laneOp((a, b, _c, n) => (sx(a, n) + sx(b, n)) >> 1n), // SHADD
  0x20: laneOp((a, b) => (a + b) >> 1n), // UHADD
  0x02: laneOp((a, b, _c, n) => (sx(a, n) + sx(b, n) + 1n) >> 1n), // SRHADD
  0x22: laneOp((a, b) => (a + b + 1n) >> 1n), // URHADD
  0x04: laneOp((a, b, _c, n) => (sx(a, n) - sx(b, n)) >> 1n), // SHSUB
  0x24: laneOp((a, b) => (a - b) >> 1n), // UHSUB
  0x09: shiftByRegister(true, false, true), // SQSHL
  0x29: shiftByRegister(false, false, true), // UQSHL
  0x0a: shiftByRegister(true, true, false), // SRSHL
  0x2a: shiftByRegister(false, true, false), // URSHL
  0x0b: shiftByRegister(true, true, true), // SQRSHL
  0x2b: shiftByRegister(false, true, true), // UQRSHL
  0x0f: laneOp((a, b, acc, n) => acc + abs(sx(a, n) - sx(b, n))), // SABA
  0x2f: laneOp((a, b, acc) => acc + abs(a - b)), // UABA
  0x33: laneOp((a, b) => clmul(a, b, 8)), // PMUL
  0x16: SQDMULH,
  0x36: SQRDMULH,
  0x01: laneOp((a, b, _c, n) => satS(sx(a, n) + sx(b, n), n)), // SQADD (scalar B/H/S)
  0x21: laneOp((a, b, _c, n) => satU(a + b, n)), // UQADD
  0x05: laneOp((a, b, _c, n) => satS(sx(a, n) - sx(b, n), n)), // SQSUB
  0x25: laneOp((a, b, _c, n) => satU(a - b, n)), // UQSUB
};

/** Element sizes (bit k = size k) each three-same entry allows, vector and scalar. */
function threeSameSizes(key: number, scalar: boolean): number {
  switch (key & 0x1f) {
    case 0x09:
    case 0x0b:
      return 0b1111; // SQSHL, SQRSHL and unsigned: every size, scalar too
    case 0x0a:
      return scalar ? 0b1000 : 0b1111; // SRSHL, URSHL: scalar D only
    case 0x16:
      return 0b0110; // SQDMULH, SQRDMULH: H and S
    case 0x01:
    case 0x05:
      return scalar ? 0b0111 : 0; // SQADD..UQSUB: simd-int.ts has the rest
    case 0x13:
      return scalar ? 0 : 0b0001; // PMUL: bytes
    default:
      return scalar ? 0 : 0b0111; // halving, SABA/UABA
  }
}

/** A same-size lane Insn, vector (Q: 8 or 16 bytes) or scalar (one lane); null if UNDEFINED. */
function sameLanes(word: number, scalar: boolean, size: number, allowed: number, op: number): Insn | null {
  const q = (word >>> 30) & 1;
  if (!((allowed >>> size) & 1) || (!scalar && size === 3 && !q)) return null;
  return laneInsn(sameExec, word, size, scalar ? 1 : (8 << q) >>> size, op);
}

export function decodeThreeSameExtra(word: number, scalar: boolean): Insn | null {
  const key = (((word >>> 29) & 1) << 5) | ((word >>> 11) & 15) | 0x40;
  const size = (word >>> 22) & 3;
  if (key === 0x60 || key === 0x61) return sameLanes(word, scalar, size, 0b0110, key === 0x60 ? SQRDMLAH : SQRDMLSH);
  return null;
}

export function decodeSatThreeSame(word: number, scalar: boolean): Insn | null {
  const key = (((word >>> 29) & 1) << 5) | ((word >>> 11) & 31);
  const op = THREE_SAME[key];
  if (op === undefined) return null;
  return sameLanes(word, scalar, (word >>> 22) & 3, threeSameSizes(key, scalar), op);
}

// ---- two-register miscellaneous ----

/** URECPE / URSQRTE: 9-bit estimates of 1/x and 1/sqrt(x) for x a 0.32 fixed-point fraction. */
function recipEstimate(a: bigint): bigint {
  if (a < 0x80000000n) return 0xffffffffn;
  const x = 2n * (a >> 23n) + 1n;
  return (((1n << 19n) / x + 1n) / 2n) << 23n;
}

function rsqrtEstimate(a: bigint): bigint {
  if (a < 0x40000000n) return 0xffffffffn;
  const top = Number(a >> 23n); // 128..511: [0.25, 1.0) in units of 1/512
  const x = top < 256 ? top * 2 + 1 : ((top >> 1) * 2 + 1) * 2;
  let b = 512; // the largest b with x (b + 1)^2 < 2^28, all exact in doubles
  while (x * (b + 1) * (b + 1) < 2 ** 28) b++;
  return BigInt((b + 1) >> 1) << 23n;
}

const TWO_MISC: Partial<Record<number, number>> = {
  0x03: laneOp((a, _b, acc, n) => satS(sx(acc, n) + a, n)), // SUQADD
  0x23: laneOp((a, _b, acc, n) => satU(acc + sx(a, n), n)), // USQADD
  0x07: laneOp((a, _b, _c, n) => satS(abs(sx(a, n)), n)), // SQABS
  0x27: laneOp((a, _b, _c, n) => satS(-sx(a, n), n)), // SQNEG
  0x1c: laneOp((a) => recipEstimate(a)), // URECPE
  0x3c: laneOp((a) => rsqrtEstimate(a)), // URSQRTE
};

/** Narrowing by U:opcode (two-misc) or U:opcode | 0x40 (shift by immediate); bits = narrow size. */
const NARROW: Partial<Record<number, number>> = {
  0x14: laneOp((a, _b, _c, n) => satS(sx(a, 2 * n), n)), // SQXTN
  0x34: laneOp((a, _b, _c, n) => satU(a, n)), // UQXTN
  0x32: laneOp((a, _b, _c, n) => satU(sx(a, 2 * n), n)), // SQXTUN
  0x52: laneOp((a, sh, _c, n) => satS(sx(a, 2 * n) >> sh, n)), // SQSHRN
  0x53: laneOp((a, sh, _c, n) => satS(roundShiftRight(sx(a, 2 * n), sh), n)), // SQRSHRN
  0x72: laneOp((a, sh, _c, n) => satU(a >> sh, n)), // UQSHRN
  0x73: laneOp((a, sh, _c, n) => satU(roundShiftRight(a, sh), n)), // UQRSHRN
  0x70: laneOp((a, sh, _c, n) => satU(sx(a, 2 * n) >> sh, n)), // SQSHRUN
  0x71: laneOp((a, sh, _c, n) => satU(roundShiftRight(sx(a, 2 * n), sh), n)), // SQRSHRUN
};

const SHLL = laneOp((a, _b, _c, n) => a << BigInt(n));

/** A narrowing Insn: `size` is the destination's element size; vector forms write half Q. */
function narrowing(word: number, scalar: boolean, size: number, op: number, shift: number): Insn {
  const q = scalar ? 0 : (word >>> 30) & 1;
  const count = scalar ? 1 : 8 >>> size;
  const insn = laneInsn(narrowExec, word, size, count, op);
  insn.t = q ? count : 0;
  insn.imm = shift;
  return insn;
}

export function decodeSatTwoMisc(word: number, scalar: boolean): Insn | null {
  const key = (((word >>> 29) & 1) << 5) | ((word >>> 12) & 31);
  const size = (word >>> 22) & 3;
  const narrowOp = NARROW[key];
  if (narrowOp !== undefined) return size === 3 ? null : narrowing(word, scalar, size, narrowOp, 0);
  if (key === 0x33) {
    if (scalar || size === 3) return null;
    const insn = laneInsn(longExec, word, size, 8 >>> size, SHLL); // SHLL, SHLL2
    insn.t = (word >>> 30) & 1 ? 8 >>> size : 0;
    return insn;
  }
  const op = TWO_MISC[key];
  if (op === undefined) return null;
  if ((key & 0x1f) === 0x1c) return scalar ? null : sameLanes(word, false, size, 0b0100, op);
  const insn = sameLanes(word, scalar, size, 0b1111, op);
  if (insn) insn.a = IMMEDIATE; // no second operand
  return insn;
}

// ---- shift by immediate ----

const SHIFT_SAME: Partial<Record<number, number>> = {
  0x06: laneOp((a, sh, acc, n) => acc + roundShiftRight(sx(a, n), sh)), // SRSRA
  0x26: laneOp((a, sh, acc) => acc + roundShiftRight(a, sh)), // URSRA
  0x0e: laneOp((a, sh, _c, n) => satS(sx(a, n) << sh, n)), // SQSHL (immediate)
  0x2e: laneOp((a, sh, _c, n) => satU(a << sh, n)), // UQSHL (immediate)
  0x2c: laneOp((a, sh, _c, n) => satU(sx(a, n) << sh, n)), // SQSHLU
};

export function decodeSatShiftImmediate(word: number, scalar: boolean): Insn | null {
  const immh = (word >>> 19) & 15;
  if (immh === 0) return null;
  const key = (((word >>> 29) & 1) << 5) | ((word >>> 11) & 31);
  const log = 31 - Math.clz32(immh);
  const immhb = (word >>> 16) & 0x7f;
  const narrowOp = NARROW[key | 0x40];
  if (narrowOp !== undefined) {
    if (log === 3) return null;
    return narrowing(word, scalar, log, narrowOp, (16 << log) - immhb);
  }
  const op = SHIFT_SAME[key];
  if (op === undefined) return null;
  const rounding = (key & 0x1f) === 0x06;
  const insn = sameLanes(word, scalar, log, rounding && scalar ? 0b1000 : 0b1111, op);
  if (insn) {
    insn.a = IMMEDIATE;
    insn.imm = rounding ? (16 << log) - immhb : immhb - (8 << log);
  }
  return insn;
}

// ---- three different: SQDMLAL, SQDMLSL, SQDMULL, PMULL ----

const doubled = (a: bigint, b: bigint, n: number): bigint => satS(2n * sx(a, n) * sx(b, n), 2 * n);

export const SQDMLAL = laneOp((a, b, acc, n) => satS(sx(acc, 2 * n) + doubled(a, b, n), 2 * n));
export const SQDMLSL = laneOp((a, b, acc, n) => satS(sx(acc, 2 * n) - doubled(a, b, n), 2 * n));
export const SQDMULL = laneOp((a, b, _acc, n) => doubled(a, b, n));
const PMULL = laneOp((a, b, _acc, n) => clmul(a, b, n));

/** A widening Insn: `size` is the source element size; the "2" forms (Q) read the high halves. */
export function widening(word: number, scalar: boolean, size: number, op: number): Insn {
  const count = scalar ? 1 : 8 >>> size;
  const insn = laneInsn(longExec, word, size, count, op);
  insn.t = !scalar && (word >>> 30) & 1 ? count : 0;
  insn.a = LANE;
  return insn;
}

export function decodeSatThreeDifferent(word: number, scalar: boolean): Insn | null {
  if ((word >>> 29) & 1) return null;
  const size = (word >>> 22) & 3;
  const opcode = (word >>> 12) & 15;
  if (opcode === 14) return !scalar && (size === 0 || size === 3) ? widening(word, false, size, PMULL) : null;
  const op = opcode === 9 ? SQDMLAL : opcode === 11 ? SQDMLSL : opcode === 13 ? SQDMULL : -1;
  if (op < 0 || size === 0 || size === 3) return null;
  return widening(word, scalar, size, op);
}
