/**
 * The integer-SIMD family of the generated SIMD&FP tests (seeds >= SIMD_INT_SEEDS_FROM): every
 * form simd-sat.ts, simd-elem.ts and simd-crypto.ts implement, vector and scalar, with random
 * registers, arrangements, element indexes and shift amounts (0 and the largest included), from
 * V registers drawn to hit the saturation edges (lanes of MIN, MAX, 0, +-1, small signed shift
 * counts). FPSR is cleared now and then (MSR FPSR, XZR) and read back (MRS), so QC is compared
 * per stretch of instructions, not only at the end.
 *
 * Seeds below SIMD_INT_SEEDS_FROM draw exactly what they drew before (golden/simd-seeds.json).
 */
import type { Rng } from './rng.js';

export const SIMD_INT_SEEDS_FROM = 1000;

/** A V register whose lanes (of one random size) are saturation edges or small shift counts. */
export function edgeVector(rng: Rng): bigint {
  const log = rng.below(4);
  const bits = 8 << log;
  const max = (1n << BigInt(bits - 1)) - 1n;
  const mask = (1n << BigInt(bits)) - 1n;
  let v = 0n;
  for (let e = 0; e < 16 >> log; e++) {
    const lane = rng.pick([max, max + 1n, 0n, 1n, mask, max - 1n, max + 2n, BigInt(rng.range(-70, 70)), BigInt(rng.range(-4, 4)) << BigInt(bits - 3)]);
    v |= (lane & mask) << BigInt(bits * e);
  }
  return v;
}

/** One instruction of the family (or an FPSR access), as a word. */
export function simdIntWord(rng: Rng): number {
  const q = rng.below(2);
  const d = rng.below(32);
  const n = rng.below(32);
  const m = rng.below(32);
  const u = rng.below(2);
  const regs = (m << 16) | (n << 5) | d;
  const size = (lo: number, hi: number): number => rng.range(lo, hi);
  /** Q for a size: 64-bit lanes exist only in the 128-bit arrangement. */
  const qFor = (s: number): number => (s === 3 ? 1 : q);
  return rng.weighted<() => number>([
    [12, () => {
      // three same: halving, SABA/UABA, shifts by register, PMUL, SQ(R)DMULH
      const [opcode, lo, hi, uu] = rng.pick([[0, 0, 2, u], [2, 0, 2, u], [4, 0, 2, u], [0x0f, 0, 2, u], [9, 0, 3, u], [0x0a, 0, 3, u], [0x0b, 0, 3, u], [0x13, 0, 0, 1], [0x16, 1, 2, u]] as const);
      const s = size(lo, hi);
      return 0x0e200400 | (qFor(s) << 30) | (uu << 29) | (s << 22) | (opcode << 11) | regs;
    }],
    [6, () => {
      // three same, scalar: SQSHL..UQRSHL, SRSHL/URSHL (D), SQ(R)DMULH, SQADD..UQSUB
      const [opcode, lo, hi] = rng.pick([[9, 0, 3], [0x0b, 0, 3], [0x0a, 3, 3], [0x16, 1, 2], [1, 0, 2], [5, 0, 2]] as const);
      return 0x5e200400 | (u << 29) | (size(lo, hi) << 22) | (opcode << 11) | regs;
    }],
    [5, () => {
      // three same extra: SQRDMLAH/SQRDMLSH (vector, scalar), SDOT/UDOT
      if (rng.chance(0.4)) return 0x0e008400 | (q << 30) | (u << 29) | (2 << 22) | (2 << 11) | regs;
      const top = rng.chance(0.3) ? 0x5e008400 : 0x0e008400 | (q << 30);
      return top | (1 << 29) | (size(1, 2) << 22) | (rng.below(2) << 11) | regs;
    }],
    [10, () => {
      // two-register miscellaneous
      const scalar = rng.chance(0.3);
      const [uu, opcode, lo, hi] = rng.pick([[u, 3, 0, 3], [u, 7, 0, 3], [0, 0x14, 0, 2], [1, 0x14, 0, 2], [1, 0x12, 0, 2], ...(scalar ? [] : [[1, 0x13, 0, 2], [u, 0x1c, 2, 2]] as const)] as const);
      const s = size(lo, hi);
      const top = scalar ? 0x5e200800 : 0x0e200800 | ((opcode === 3 || opcode === 7 ? qFor(s) : q) << 30);
      return top | (uu << 29) | (s << 22) | (opcode << 12) | (n << 5) | d;
    }],
    [12, () => {
      // shift by immediate: SRSRA/URSRA, SQSHLU, SQSHL/UQSHL, the saturating narrows
      const scalar = rng.chance(0.3);
      const [uu, opcode, kind] = rng.pick([[u, 6, 'r'], [1, 0x0c, 'l'], [u, 0x0e, 'l'], [1, 0x10, 'n'], [1, 0x11, 'n'], [u, 0x12, 'n'], [u, 0x13, 'n']] as const);
      const log = kind === 'n' ? size(0, 2) : kind === 'r' && scalar ? 3 : size(0, 3);
      const bits = 8 << log;
      const edge = rng.chance(0.3);
      const shift = kind === 'l' ? (edge ? rng.pick([0, bits - 1]) : rng.below(bits)) : edge ? rng.pick([1, bits]) : rng.range(1, bits);
      const immhb = kind === 'l' ? bits + shift : 2 * bits - shift;
      const top = scalar ? 0x5f000400 : 0x0f000400 | ((kind === 'n' ? q : qFor(log)) << 30);
      return top | (uu << 29) | (immhb << 16) | (opcode << 11) | (n << 5) | d;
    }],
    [6, () => {
      // three different: SQDMLAL/SQDMLSL/SQDMULL (vector, scalar), PMULL 8 and 64
      if (rng.chance(0.4)) return 0x0e200000 | (q << 30) | (rng.pick([0, 3]) << 22) | (14 << 12) | regs;
      const top = rng.chance(0.3) ? 0x5e200000 : 0x0e200000 | (q << 30);
      return top | (size(1, 2) << 22) | (rng.pick([9, 11, 13]) << 12) | regs;
    }],
    [14, () => byElement(rng, q, d, n)],
    [5, () => {
      // crypto
      const kind = rng.below(3);
      if (kind === 0) return 0x4e280800 | (rng.range(4, 7) << 12) | (n << 5) | d;
      if (kind === 1) return 0x5e000000 | (rng.below(7) << 12) | regs;
      return 0x5e280800 | (rng.below(3) << 12) | (n << 5) | d;
    }],
    [3, () => (rng.chance(0.5) ? 0xd51b443f : 0xd53b4420 | rng.below(31))], // MSR FPSR, XZR / MRS Xt, FPSR
  ])();
}

/** By element, vector and scalar: halfword index H:L:M with Vm in V0-V15, word index H:L. */
function byElement(rng: Rng, q: number, d: number, n: number): number {
  const scalar = rng.chance(0.25);
  const [uu, opcode] = scalar
    ? rng.pick([[0, 3], [0, 7], [0, 11], [0, 12], [0, 13], [1, 13], [1, 15]] as const)
    : rng.pick([[1, 0], [1, 4], [0, 8], [0, 2], [1, 2], [0, 6], [1, 6], [0, 10], [1, 10], [0, 3], [0, 7], [0, 11], [0, 12], [0, 13], [1, 13], [1, 15], [0, 14], [1, 14]] as const);
  const size = opcode === 14 ? 2 : rng.range(1, 2);
  let fields: number;
  if (size === 1) {
    const index = rng.below(8);
    fields = ((index >> 2) << 11) | (((index >> 1) & 1) << 21) | ((index & 1) << 20) | (rng.below(16) << 16);
  } else {
    const index = rng.below(4);
    fields = ((index >> 1) << 11) | ((index & 1) << 21) | (rng.below(32) << 16);
  }
  const top = scalar ? 0x5f000000 : 0x0f000000 | (q << 30);
  return top | (uu << 29) | (size << 22) | fields | (opcode << 12) | (n << 5) | d;
}
