/**
 * Lane operations of the integer Advanced SIMD instructions, as tables the executors
 * (simd-int.ts) loop over: one entry per operation, for every arrangement. Lanes up to 32 bits
 * are unsigned numbers (the result is truncated when it is stored); 64-bit lanes are BigInts.
 * An entry without `big` does not exist for 64-bit lanes (size = 0b11 is unallocated).
 */

export interface BinaryOp {
  readonly num: (a: number, b: number, bits: number) => number;
  readonly big?: (a: bigint, b: bigint) => bigint;
}

/** Set by a saturating operation that saturated: the executor then sets FPSR.QC. */
export const saturation = { hit: false };

const s32 = (v: number, bits: number): number => (bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits));
const sBig = (v: bigint): bigint => BigInt.asIntN(64, v);
const TRUE = -1;
const TRUE_BIG = -1n;

function umax(bits: number): number {
  return bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

function saturateU(v: number, bits: number): number {
  const max = umax(bits);
  if (v > max) {
    saturation.hit = true;
    return max;
  }
  if (v < 0) {
    saturation.hit = true;
    return 0;
  }
  return v;
}

function saturateS(v: number, bits: number): number {
  const max = 2 ** (bits - 1) - 1;
  const min = -(2 ** (bits - 1));
  if (v > max || v < min) {
    saturation.hit = true;
    return v > max ? max : min;
  }
  return v;
}

function saturateBig(v: bigint, signed: boolean): bigint {
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  const min = signed ? -(1n << 63n) : 0n;
  if (v > max || v < min) {
    saturation.hit = true;
    return v > max ? max : min;
  }
  return v;
}

/** SSHL/USHL: shift by the signed low byte of the second operand, right when negative. */
function shiftBy(a: number, b: number, bits: number, signed: boolean): number {
  const shift = s32(b & 0xff, 8);
  const x = signed ? s32(a, bits) : a;
  if (shift >= 0) return shift >= bits ? 0 : x * 2 ** shift;
  return -shift >= bits ? (x < 0 ? -1 : 0) : Math.floor(x / 2 ** -shift);
}

function shiftByBig(a: bigint, b: bigint, signed: boolean): bigint {
  const shift = BigInt.asIntN(8, b);
  const x = signed ? sBig(a) : a;
  if (shift >= 0n) return shift >= 64n ? 0n : x << shift;
  return -shift >= 64n ? (x < 0n ? -1n : 0n) : x >> -shift;
}

/** Three registers of the same arrangement, by U:opcode (bit 5 = U). */
export const THREE_SAME: Partial<Record<number, BinaryOp>> = {
  0x01: { num: (a, b, n) => saturateS(s32(a, n) + s32(b, n), n), big: (a, b) => saturateBig(sBig(a) + sBig(b), true) }, // SQADD
  0x21: { num: (a, b, n) => saturateU(a + b, n), big: (a, b) => saturateBig(a + b, false) }, // UQADD
  0x05: { num: (a, b, n) => saturateS(s32(a, n) - s32(b, n), n), big: (a, b) => saturateBig(sBig(a) - sBig(b), true) }, // SQSUB
  0x25: { num: (a, b, n) => saturateU(a - b, n), big: (a, b) => saturateBig(a - b, false) }, // UQSUB
  0x06: { num: (a, b, n) => (s32(a, n) > s32(b, n) ? TRUE : 0), big: (a, b) => (sBig(a) > sBig(b) ? TRUE_BIG : 0n) }, // CMGT
  0x26: { num: (a, b) => (a > b ? TRUE : 0), big: (a, b) => (a > b ? TRUE_BIG : 0n) }, // CMHI
  0x07: { num: (a, b, n) => (s32(a, n) >= s32(b, n) ? TRUE : 0), big: (a, b) => (sBig(a) >= sBig(b) ? TRUE_BIG : 0n) }, // CMGE
  0x27: { num: (a, b) => (a >= b ? TRUE : 0), big: (a, b) => (a >= b ? TRUE_BIG : 0n) }, // CMHS
  0x0c: { num: (a, b, n) => (s32(a, n) >= s32(b, n) ? a : b) }, // SMAX
  0x2c: { num: (a, b) => (a >= b ? a : b) }, // UMAX
  0x0d: { num: (a, b, n) => (s32(a, n) <= s32(b, n) ? a : b) }, // SMIN
  0x2d: { num: (a, b) => (a <= b ? a : b) }, // UMIN
  0x0e: { num: (a, b, n) => Math.abs(s32(a, n) - s32(b, n)) }, // SABD
  0x2e: { num: (a, b) => Math.abs(a - b) }, // UABD
  0x10: { num: (a, b) => a + b, big: (a, b) => a + b }, // ADD
  0x30: { num: (a, b) => a - b, big: (a, b) => a - b }, // SUB
  0x11: { num: (a, b) => ((a & b) !== 0 ? TRUE : 0), big: (a, b) => ((a & b) !== 0n ? TRUE_BIG : 0n) }, // CMTST
  0x31: { num: (a, b) => (a === b ? TRUE : 0), big: (a, b) => (a === b ? TRUE_BIG : 0n) }, // CMEQ
  0x13: { num: (a, b) => Math.imul(a, b) }, // MUL
  0x08: { num: (a, b, n) => shiftBy(a, b, n, true), big: (a, b) => shiftByBig(a, b, true) }, // SSHL
  0x28: { num: (a, b, n) => shiftBy(a, b, n, false), big: (a, b) => shiftByBig(a, b, false) }, // USHL
};

/** Pairwise operations (the pairs of the concatenation Vm:Vn), by U:opcode. */
export const PAIRWISE: Partial<Record<number, BinaryOp>> = {
  0x14: { num: (a, b, n) => (s32(a, n) >= s32(b, n) ? a : b) }, // SMAXP
  0x34: { num: (a, b) => (a >= b ? a : b) }, // UMAXP
  0x15: { num: (a, b, n) => (s32(a, n) <= s32(b, n) ? a : b) }, // SMINP
  0x35: { num: (a, b) => (a <= b ? a : b) }, // UMINP
  0x17: { num: (a, b) => a + b, big: (a, b) => a + b }, // ADDP
};

export interface UnaryOp {
  readonly num: (a: number, bits: number) => number;
  readonly big?: (a: bigint) => bigint;
}

function popcount(v: number): number {
  let c = 0;
  for (; v !== 0; v &= v - 1) c++;
  return c;
}

function rbit8(v: number): number {
  let r = 0;
  for (let k = 0; k < 8; k++) r |= ((v >>> k) & 1) << (7 - k);
  return r;
}

function clz(v: number, bits: number): number {
  return v === 0 ? bits : Math.clz32(v) - (32 - bits);
}

/** Two-register miscellaneous, lane by lane, by U:opcode (CNT, NOT and RBIT are byte-only). */
export const TWO_MISC: Partial<Record<number, UnaryOp>> = {
  0x04: { num: (a, n) => clz((s32(a, n) < 0 ? ~a : a) & umax(n), n) - 1 }, // CLS
  0x24: { num: (a, n) => clz(a, n) }, // CLZ
  0x05: { num: (a) => popcount(a) }, // CNT
  0x08: { num: (a, n) => (s32(a, n) > 0 ? TRUE : 0), big: (a) => (sBig(a) > 0n ? TRUE_BIG : 0n) }, // CMGT #0
  0x28: { num: (a, n) => (s32(a, n) >= 0 ? TRUE : 0), big: (a) => (sBig(a) >= 0n ? TRUE_BIG : 0n) }, // CMGE #0
  0x09: { num: (a) => (a === 0 ? TRUE : 0), big: (a) => (a === 0n ? TRUE_BIG : 0n) }, // CMEQ #0
  0x29: { num: (a, n) => (s32(a, n) <= 0 ? TRUE : 0), big: (a) => (sBig(a) <= 0n ? TRUE_BIG : 0n) }, // CMLE #0
  0x0a: { num: (a, n) => (s32(a, n) < 0 ? TRUE : 0), big: (a) => (sBig(a) < 0n ? TRUE_BIG : 0n) }, // CMLT #0
  0x0b: { num: (a, n) => Math.abs(s32(a, n)), big: (a) => (sBig(a) < 0n ? -sBig(a) : a) }, // ABS
  0x2b: { num: (a) => -a, big: (a) => -a }, // NEG
};

/** Byte-only two-register miscellaneous forms whose size field picks the operation (U:opcode:size). */
export const NOT_RBIT: Partial<Record<number, UnaryOp>> = {
  [(0x25 << 2) | 0]: { num: (a) => ~a }, // NOT (MVN)
  [(0x25 << 2) | 1]: { num: (a) => rbit8(a) }, // RBIT
};

/** Across-lanes reductions, by U:opcode; `wide` results are twice the element size. */
export interface Reduction {
  readonly step: (acc: number, v: number, bits: number) => number;
  readonly signed: boolean;
  readonly wide: boolean;
}

export const ACROSS: Partial<Record<number, Reduction>> = {
  0x03: { step: (acc, v) => acc + v, signed: true, wide: true }, // SADDLV
  0x23: { step: (acc, v) => acc + v, signed: false, wide: true }, // UADDLV
  0x0a: { step: (acc, v) => (v > acc ? v : acc), signed: true, wide: false }, // SMAXV
  0x2a: { step: (acc, v) => (v > acc ? v : acc), signed: false, wide: false }, // UMAXV
  0x1a: { step: (acc, v) => (v < acc ? v : acc), signed: true, wide: false }, // SMINV
  0x3a: { step: (acc, v) => (v < acc ? v : acc), signed: false, wide: false }, // UMINV
  0x1b: { step: (acc, v) => acc + v, signed: false, wide: false }, // ADDV
};

export { s32 as signExtend };
