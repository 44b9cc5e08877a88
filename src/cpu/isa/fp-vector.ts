import type { Cpu } from '../cpu.js';
import { Cmp, fpCompareCond } from '../fp/compare.js';
import { fixedToFp, fpConvert, fpToFixed } from '../fp/convert.js';
import { F16, F32, F64, fpAbs, fpcrRounding, IXC, raise, Rounding } from '../fp/core.js';
import { FAST_ROUND } from './fp-int.js';
import { type Insn, NEXT } from '../insn.js';
import {
  applyBinary, binaryLanes, bitsAt, commitFlags, fastAllowed, flushing, formatOf, type FpBinary, type FpTernary, type FpUnary,
  setBits, ternaryLanes, tmpF32, unaryLanes, valueAt,
} from './fp-lanes.js';
import { tmp, tmpW, writeTmp } from './simd-common.js';

/**
 * Executors of the Advanced SIMD floating-point forms (vector and scalar): lane-wise operations,
 * by-element operations, pairwise and across-lanes reductions, compares producing lane masks,
 * conversions to and from integer lanes (with fraction bits) and between precisions.
 *
 * Insn fields (set by fp-vector-decode.ts): d, n, m = register byte offsets (m already at the
 * element for by-element forms); s = log2 element size; t = bytes written (8 or 16, or the
 * element size for scalars); u = lanes; imm = form-specific (mStep, compare kind, fraction bits...).
 */

export type Exec = (cpu: Cpu, i: Insn) => number;
const cache = new Map<object, Map<string, Exec>>();

/** One executor per (operation, form), shared by every Insn of that form. */
export function execFor(op: object, form: string, make: () => Exec): Exec {
  let forms = cache.get(op);
  if (!forms) cache.set(op, (forms = new Map()));
  let e = forms.get(form);
  if (!e) forms.set(form, (e = make()));
  return e;
}

export function lanesBinary(op: FpBinary): Exec {
  return execFor(op, 'lanes', () => (cpu, i) => {
    binaryLanes(cpu, op, i.d, i.n, i.m, i.s, i.u, i.t, i.imm);
    return NEXT;
  });
}

export function lanesUnary(op: FpUnary): Exec {
  return execFor(op, 'lanes', () => (cpu, i) => {
    unaryLanes(cpu, op, i.d, i.n, i.s, i.u, i.t);
    return NEXT;
  });
}

/** FMLA/FMLS: the accumulator is Vd. */
export function lanesAccumulate(op: FpTernary): Exec {
  return execFor(op, 'lanes', () => (cpu, i) => {
    ternaryLanes(cpu, op, i.d, i.d, i.n, i.m, i.s, i.u, i.t, i.imm);
    return NEXT;
  });
}

/** Pairwise: result lane e is op of elements 2e and 2e+1 of Vm:Vn (Vn the low half). */
export function lanesPairwise(op: FpBinary): Exec {
  return execFor(op, 'pairwise', () => (cpu, i) => {
    const fast = fastAllowed(cpu);
    const lanes = i.u;
    for (let e = 0; e < lanes; e++) {
      const src = 2 * e < lanes ? i.n : i.m;
      const k = (2 * e) % lanes;
      setBits(e, i.s, applyBinary(cpu, op, fast, i.s, bitsAt(cpu, src, k, i.s), bitsAt(cpu, src, k + 1, i.s)));
    }
    writeTmp(cpu, i.d, i.t);
    commitFlags(cpu);
    return NEXT;
  });
}

/** Scalar pairwise (FADDP Sd, Vn.2S...): op(Vn[0], Vn[1]). */
export function scalarPairwise(op: FpBinary): Exec {
  return execFor(op, 'scalar-pairwise', () => (cpu, i) => {
    setBits(0, i.s, applyBinary(cpu, op, fastAllowed(cpu), i.s, bitsAt(cpu, i.n, 0, i.s), bitsAt(cpu, i.n, 1, i.s)));
    writeTmp(cpu, i.d, 1 << i.s);
    commitFlags(cpu);
    return NEXT;
  });
}

/** Across lanes (FMAXV...): op(op(e0, e1), op(e2, e3)) of a 4S vector, into a scalar. */
export function acrossLanes(op: FpBinary): Exec {
  return execFor(op, 'across', () => (cpu, i) => {
    const fast = fastAllowed(cpu);
    const lo = applyBinary(cpu, op, fast, 2, bitsAt(cpu, i.n, 0, 2), bitsAt(cpu, i.n, 1, 2));
    const hi = applyBinary(cpu, op, fast, 2, bitsAt(cpu, i.n, 2, 2), bitsAt(cpu, i.n, 3, 2));
    setBits(0, 2, applyBinary(cpu, op, fast, 2, lo, hi));
    writeTmp(cpu, i.d, 4);
    commitFlags(cpu);
    return NEXT;
  });
}

/**
 * Compares to lane masks. imm: cond (Cmp) | abs << 2 | zero << 3 | swap << 4 (swap: zero on the
 * left, for FCMLE/FCMLT).
 */
export const compareLanes: Exec = (cpu, i) => {
  const cond: Cmp = i.imm & 3;
  const abs = (i.imm & 4) !== 0;
  const zero = (i.imm & 8) !== 0;
  const swap = (i.imm & 16) !== 0;
  const log = i.s;
  const fmt = formatOf(log);
  const fast = !flushing(cpu);
  for (let e = 0; e < i.u; e++) {
    let result: boolean | null = null;
    if (fast) {
      let a = valueAt(cpu, i.n, e, log);
      let b = zero ? 0 : valueAt(cpu, i.m, e, log);
      if (a === a && b === b) {
        if (abs) {
          a = Math.abs(a);
          b = Math.abs(b);
        }
        if (swap) [a, b] = [b, a];
        result = cond === Cmp.EQ ? a === b : cond === Cmp.GE ? a >= b : a > b;
      }
    }
    if (result === null) {
      let a = bitsAt(cpu, i.n, e, log);
      let b = zero ? 0n : bitsAt(cpu, i.m, e, log);
      if (abs) {
        a = fpAbs(a, fmt);
        b = fpAbs(b, fmt);
      }
      result = swap ? fpCompareCond(b, a, cond, fmt, cpu.fpcr) : fpCompareCond(a, b, cond, fmt, cpu.fpcr);
    }
    setBits(e, log, result ? (log === 3 ? 0xffffffffffffffffn : 0xffffffffn) : 0n);
  }
  writeTmp(cpu, i.d, i.t);
  commitFlags(cpu);
  return NEXT;
};

/**
 * FP lanes to integer lanes of the same size (FCVT{N,P,M,Z,A}{S,U}, FCVTZ[SU] with fraction
 * bits). imm: fbits | rounding << 8 | unsigned << 12 (rounding 7: the FPCR's).
 */
export const toIntegerLanes: Exec = (cpu, i) => {
  const fbits = i.imm & 0xff;
  const r = (i.imm >>> 8) & 7;
  const rounding: Rounding = r === 7 ? fpcrRounding(cpu.fpcr) : r;
  const unsigned = (i.imm & 0x1000) !== 0;
  const fmt = formatOf(i.s);
  const width = 8 << i.s;
  // Single lanes rounded by ceil/floor/trunc without FZ: on doubles (v * 2^fbits is exact).
  const fast = i.s === 2 && !flushing(cpu) ? FAST_ROUND[rounding] : null;
  const scale = 2 ** fbits;
  const lo = unsigned ? 0 : -(2 ** 31);
  const hi = unsigned ? 2 ** 32 : 2 ** 31;
  for (let e = 0; e < i.u; e++) {
    if (fast) {
      const v = valueAt(cpu, i.n, e, 2) * scale;
      const r = fast(v);
      if (r >= lo && r < hi) {
        if (r !== v) raise(IXC);
        tmpW[e] = r;
        continue;
      }
    }
    const v = fpToFixed(bitsAt(cpu, i.n, e, i.s), fmt, fbits, unsigned, width, cpu.fpcr, rounding);
    setBits(e, i.s, BigInt.asUintN(width, v));
  }
  writeTmp(cpu, i.d, i.t);
  commitFlags(cpu);
  return NEXT;
};

/** Integer lanes to FP lanes (SCVTF, UCVTF, with fraction bits). imm: fbits | unsigned << 12. */
export const toFloatLanes: Exec = (cpu, i) => {
  const fbits = i.imm & 0xff;
  const unsigned = (i.imm & 0x1000) !== 0;
  const width = 8 << i.s;
  // 32-bit integers are exact in a double: one Math.fround rounds them (RNE) to single.
  const fast = i.s === 2 && fpcrRounding(cpu.fpcr) === Rounding.TieEven;
  const scale = 2 ** -fbits;
  for (let e = 0; e < i.u; e++) {
    if (fast) {
      const word = cpu.vw[(i.n >>> 2) + e]!;
      const v = (unsigned ? word : word | 0) * scale;
      const f = Math.fround(v);
      if (f !== v) raise(IXC);
      tmpF32[e] = f;
      continue;
    }
    const raw = bitsAt(cpu, i.n, e, i.s);
    const v = unsigned ? raw : BigInt.asIntN(width, raw);
    setBits(e, i.s, fixedToFp(v, fbits, formatOf(i.s), cpu.fpcr));
  }
  writeTmp(cpu, i.d, i.t);
  commitFlags(cpu);
  return NEXT;
};

/** FCVTL(2): the low (Q = 0) or high half's narrow lanes widened. s = log2 of the wide size. */
export const widenLanes: Exec = (cpu, i) => {
  const wide = i.s;
  const from = wide === 3 ? F32 : F16;
  const to = wide === 3 ? F64 : F32;
  const lanes = 8 >> wide << 1;
  const first = i.imm ? lanes : 0;
  for (let e = 0; e < lanes; e++) setBits(e, wide, fpConvert(bitsAt(cpu, i.n, first + e, wide - 1), from, to, cpu.fpcr));
  writeTmp(cpu, i.d, 16);
  commitFlags(cpu);
  return NEXT;
};

/**
 * FCVTN(2) and FCVTXN(2): wide lanes narrowed into the low half (Q = 0, the high half cleared)
 * or the high half (Q = 1, the low half kept). s = log2 of the wide size; u = 1 for FCVTXN
 * (round to odd); t = 1 for a scalar FCVTXN (one lane).
 */
export const narrowLanes: Exec = (cpu, i) => {
  const wide = i.s;
  const from = wide === 3 ? F64 : F32;
  const to = wide === 3 ? F32 : F16;
  const lanes = i.t ? 1 : 16 >> wide;
  const rounding = i.u ? Rounding.Odd : fpcrRounding(cpu.fpcr);
  for (let e = 0; e < lanes; e++) setBits(e, wide - 1, fpConvert(bitsAt(cpu, i.n, e, wide), from, to, cpu.fpcr, rounding));
  if (i.t) writeTmp(cpu, i.d, 4);
  else if (i.imm) {
    cpu.vb.set(tmp.subarray(0, 8), i.d + 8);
  } else writeTmp(cpu, i.d, 8);
  commitFlags(cpu);
  return NEXT;
};
