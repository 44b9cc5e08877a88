import { Cmp } from '../fp/compare.js';
import { Rounding } from '../fp/core.js';
import type { Insn } from '../insn.js';
import type { FpBinary, FpTernary, FpUnary } from './fp-lanes.js';
import * as O from './fp-ops.js';
import {
  acrossLanes, compareLanes, type Exec, lanesAccumulate, lanesBinary, lanesPairwise, lanesUnary, narrowLanes, scalarPairwise,
  toFloatLanes, toIntegerLanes, widenLanes,
} from './fp-vector.js';
import { simdInsn, vreg } from './simd-common.js';

/**
 * Decoding of the Advanced SIMD floating-point forms (DDI 0487, C4.1.96), single and double
 * precision: three same, two-register miscellaneous, across lanes, scalar pairwise, by element,
 * and the fixed-point conversions of the shift-by-immediate class; vector and scalar.
 */

type Entry =
  | { readonly kind: 'binary' | 'pairwise'; readonly op: FpBinary; readonly scalar?: boolean }
  | { readonly kind: 'accumulate'; readonly op: FpTernary }
  | { readonly kind: 'compare'; readonly code: number; readonly scalar?: boolean };

const cmp = (cond: Cmp, abs = false): Entry => ({ kind: 'compare', code: cond | (abs ? 4 : 0), scalar: true });
const bin = (op: FpBinary, scalar = false): Entry => ({ kind: 'binary', op, scalar });
const pair = (op: FpBinary): Entry => ({ kind: 'pairwise', op });

/** Three same, opcodes 0x18..0x1f, indexed by U:a:opcode<2:0>. */
const THREE_SAME: readonly (Entry | null)[] = [
  bin(O.FMAXNM), { kind: 'accumulate', op: O.FMADD }, bin(O.FADD), bin(O.FMULX, true), cmp(Cmp.EQ), null, bin(O.FMAX), bin(O.FRECPS, true),
  bin(O.FMINNM), { kind: 'accumulate', op: O.FMSUB }, bin(O.FSUB), null, null, null, bin(O.FMIN), bin(O.FRSQRTS, true),
  pair(O.FMAXNM), null, pair(O.FADD), bin(O.FMUL), cmp(Cmp.GE), cmp(Cmp.GE, true), pair(O.FMAX), bin(O.FDIV),
  pair(O.FMINNM), null, bin(O.FABD, true), null, cmp(Cmp.GT), cmp(Cmp.GT, true), pair(O.FMIN), null,
];

function make(exec: Exec, word: number, log: number, scalar: boolean): Insn {
  const insn = simdInsn(exec, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.m = vreg(word >>> 16);
  insn.s = log;
  const q = (word >>> 30) & 1;
  insn.t = scalar ? 1 << log : 8 << q;
  insn.u = scalar ? 1 : insn.t >> log;
  return insn;
}

/** Element size of the vector forms: sz = 1 (double) needs Q = 1. -1: reserved. */
function vectorLog(word: number, scalar: boolean): number {
  const sz = (word >>> 22) & 1;
  if (sz && !scalar && !((word >>> 30) & 1)) return -1;
  return 2 + sz;
}

export function decodeFpThreeSame(word: number, scalar: boolean): Insn | null {
  const opcode = (word >>> 11) & 31;
  if (opcode < 0x18) return null;
  const entry = THREE_SAME[(((word >>> 29) & 1) << 4) | (((word >>> 23) & 1) << 3) | (opcode & 7)];
  const log = vectorLog(word, scalar);
  if (!entry || log < 0) return null;
  if (scalar && (entry.kind === 'pairwise' || entry.kind === 'accumulate' || !entry.scalar)) return null;
  switch (entry.kind) {
    case 'binary': {
      const insn = make(lanesBinary(entry.op), word, log, scalar);
      insn.imm = 1;
      return insn;
    }
    case 'accumulate': {
      const insn = make(lanesAccumulate(entry.op), word, log, scalar);
      insn.imm = 1;
      return insn;
    }
    case 'pairwise':
      return make(lanesPairwise(entry.op), word, log, scalar);
    default: {
      const insn = make(compareLanes, word, log, scalar);
      insn.imm = entry.code;
      return insn;
    }
  }
}

type MiscEntry =
  | { readonly kind: 'unary'; readonly op: FpUnary; readonly scalar?: boolean; readonly vector?: boolean }
  | { readonly kind: 'compare-zero'; readonly code: number }
  | { readonly kind: 'to-int'; readonly rounding: number; readonly unsigned: boolean }
  | { readonly kind: 'to-float'; readonly unsigned: boolean }
  | { readonly kind: 'narrow' | 'widen' | 'narrow-odd' };

const un = (op: FpUnary, scalar = false, vector = true): MiscEntry => ({ kind: 'unary', op, scalar, vector });
const toInt = (rounding: number, unsigned: boolean): MiscEntry => ({ kind: 'to-int', rounding, unsigned });
const zcmp = (cond: Cmp, swap = false): MiscEntry => ({ kind: 'compare-zero', code: cond | 8 | (swap ? 16 : 0) });

/** Two-register miscellaneous: U:a:opcode -> entry. */
const TWO_MISC = new Map<number, MiscEntry>([
  [0x16, { kind: 'narrow' }], [0x17, { kind: 'widen' }],
  [0x18, un(O.FRINTN)], [0x19, un(O.FRINTM)], [0x1a, toInt(Rounding.TieEven, false)], [0x1b, toInt(Rounding.NegInf, false)],
  [0x1c, toInt(Rounding.TieAway, false)], [0x1d, { kind: 'to-float', unsigned: false }], [0x1e, un(O.FRINT32Z)], [0x1f, un(O.FRINT64Z)],
  [0x2c, zcmp(Cmp.GT)], [0x2d, zcmp(Cmp.EQ)], [0x2e, zcmp(Cmp.GT, true)], [0x2f, un(O.FABS)],
  [0x38, un(O.FRINTP)], [0x39, un(O.FRINTZ)], [0x3a, toInt(Rounding.PosInf, false)], [0x3b, toInt(Rounding.Zero, false)],
  [0x3d, un(O.FRECPE, true)], [0x3f, un(O.FRECPX, true, false)],
  [0x56, { kind: 'narrow-odd' }],
  [0x58, un(O.FRINTA)], [0x59, un(O.FRINTX)], [0x5a, toInt(Rounding.TieEven, true)], [0x5b, toInt(Rounding.NegInf, true)],
  [0x5c, toInt(Rounding.TieAway, true)], [0x5d, { kind: 'to-float', unsigned: true }], [0x5e, un(O.FRINT32X)], [0x5f, un(O.FRINT64X)],
  [0x6c, zcmp(Cmp.GE)], [0x6d, zcmp(Cmp.GE, true)], [0x6f, un(O.FNEG)],
  [0x79, un(O.FRINTI)], [0x7a, toInt(Rounding.PosInf, true)], [0x7b, toInt(Rounding.Zero, true)], [0x7d, un(O.FRSQRTE, true)],
  [0x7f, un(O.FSQRT)],
]);

export function decodeFpTwoMisc(word: number, scalar: boolean): Insn | null {
  const key = (((word >>> 29) & 1) << 6) | (((word >>> 23) & 1) << 5) | ((word >>> 12) & 31);
  const entry = TWO_MISC.get(key);
  if (!entry) return null;
  const q = (word >>> 30) & 1;
  const sz = (word >>> 22) & 1;
  switch (entry.kind) {
    case 'widen': {
      if (scalar) return null;
      const insn = make(widenLanes, word, 2 + sz, false);
      insn.imm = q;
      return insn;
    }
    case 'narrow':
    case 'narrow-odd': {
      const odd = entry.kind === 'narrow-odd';
      if ((odd && !sz) || (scalar && !odd)) return null;
      const insn = make(narrowLanes, word, 2 + sz, false);
      insn.u = odd ? 1 : 0;
      insn.t = scalar ? 1 : 0;
      insn.imm = q;
      return insn;
    }
    default:
      break;
  }
  const log = vectorLog(word, scalar);
  if (log < 0) return null;
  switch (entry.kind) {
    case 'unary':
      if (scalar ? !entry.scalar : !entry.vector) return null;
      return make(lanesUnary(entry.op), word, log, scalar);
    case 'compare-zero': {
      const insn = make(compareLanes, word, log, scalar);
      insn.imm = entry.code;
      return insn;
    }
    case 'to-int': {
      const insn = make(toIntegerLanes, word, log, scalar);
      insn.imm = (entry.rounding << 8) | (entry.unsigned ? 0x1000 : 0);
      return insn;
    }
    default: {
      const insn = make(toFloatLanes, word, log, scalar);
      insn.imm = entry.kind === 'to-float' && entry.unsigned ? 0x1000 : 0;
      return insn;
    }
  }
}

/** Across lanes, U = 1 (single precision, 4S only): FMAXNMV, FMINNMV, FMAXV, FMINV. */
export function decodeFpAcross(word: number): Insn | null {
  if (!((word >>> 29) & 1) || ((word >>> 22) & 1) || !((word >>> 30) & 1)) return null;
  const opcode = (word >>> 12) & 31;
  const min = (word >>> 23) & 1;
  const op = opcode === 0x0c ? (min ? O.FMINNM : O.FMAXNM) : opcode === 0x0f ? (min ? O.FMIN : O.FMAX) : null;
  return op ? make(acrossLanes(op), word, 2, true) : null;
}

/** Scalar pairwise, U = 1: FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP of Vn.2S or Vn.2D. */
export function decodeFpScalarPairwise(word: number): Insn | null {
  if (!((word >>> 29) & 1)) return null;
  const opcode = (word >>> 12) & 31;
  const min = (word >>> 23) & 1;
  let op: FpBinary | null = null;
  if (opcode === 0x0c) op = min ? O.FMINNM : O.FMAXNM;
  else if (opcode === 0x0d && !min) op = O.FADD;
  else if (opcode === 0x0f) op = min ? O.FMIN : O.FMAX;
  return op ? make(scalarPairwise(op), word, 2 + ((word >>> 22) & 1), true) : null;
}

/** By element: FMLA, FMLS, FMUL, FMULX (size 10: single, index H:L; 11: double, index H). */
export function decodeFpByElement(word: number, scalar: boolean): Insn | null {
  const size = (word >>> 22) & 3;
  const opcode = (word >>> 12) & 15;
  const u = (word >>> 29) & 1;
  if (size < 2) return null;
  const h = (word >>> 11) & 1;
  const l = (word >>> 21) & 1;
  const log = size;
  if (log === 3 && (l || (!scalar && !((word >>> 30) & 1)))) return null;
  const index = log === 2 ? (h << 1) | l : h;
  let exec: Exec;
  if (opcode === 1 && !u) exec = lanesAccumulate(O.FMADD);
  else if (opcode === 5 && !u) exec = lanesAccumulate(O.FMSUB);
  else if (opcode === 9) exec = lanesBinary(u ? O.FMULX : O.FMUL);
  else return null;
  const insn = make(exec, word, log, scalar);
  insn.m = vreg((word >>> 16) & 31) + (index << log);
  insn.imm = 0;
  return insn;
}

/** Shift by immediate: SCVTF/UCVTF (opcode 11100), FCVTZS/FCVTZU (11111) with fraction bits. */
export function decodeFpFixedShift(word: number, scalar: boolean): Insn | null {
  const opcode = (word >>> 11) & 31;
  if (opcode !== 0x1c && opcode !== 0x1f) return null;
  const immh = (word >>> 19) & 15;
  const immhb = (word >>> 16) & 127;
  let log: number;
  if (immh & 8) log = 3;
  else if (immh & 4) log = 2;
  else return null; // half precision (FEAT_FP16) or reserved
  if (log === 3 && !scalar && !((word >>> 30) & 1)) return null;
  const fbits = (16 << log) - immhb;
  const unsigned = (word >>> 29) & 1;
  const insn = make(opcode === 0x1c ? toFloatLanes : toIntegerLanes, word, log, scalar);
  insn.imm = fbits | (unsigned ? 0x1000 : 0) | (opcode === 0x1f ? Rounding.Zero << 8 : 0);
  return insn;
}
