import { fpAddSub, fpDiv, fpMul, fpMulAdd, fpSqrt, fpStepFused } from '../fp/arith.js';
import { fpMinMax } from '../fp/compare.js';
import { fpRoundInt, fpRoundIntN } from '../fp/convert.js';
import { fpAbs, fpcrRounding, fpNeg, Rounding } from '../fp/core.js';
import { fpRecipEstimate, fpRecpX, fpRSqrtEstimate } from '../fp/estimate.js';
import { add32, add64, div32, div64, fma32, fma64, mul32, mul64, sqrt32, sqrt64 } from '../fp/fast.js';
import type { FpBinary, FpTernary, FpUnary } from './fp-lanes.js';

/**
 * The floating-point operations the scalar and vector executors run, each as its exact function
 * (Arm ARM pseudocode, src/cpu/fp) and its fast path (fp/fast.ts) when there is one.
 */

const negated = (f: (a: number, b: number) => number) => (a: number, b: number): number => {
  const r = f(a, b);
  return r === r ? -r : NaN;
};
const absolute = (f: (a: number, b: number) => number) => (a: number, b: number): number => {
  const r = f(a, b);
  return r === r ? Math.abs(r) : NaN;
};

/** Max/min of two numbers when neither is NaN and they are not two zeros (whose sign matters). */
const fastMax = (a: number, b: number): number => (a > b ? a : b > a ? b : a === b && a !== 0 ? a : NaN);
const fastMin = (a: number, b: number): number => (a < b ? a : b < a ? b : a === b && a !== 0 ? a : NaN);

export const FADD: FpBinary = { exact: (a, b, f, c) => fpAddSub(a, b, false, f, c), fast32: add32, fast64: add64 };
export const FSUB: FpBinary = { exact: (a, b, f, c) => fpAddSub(a, b, true, f, c), fast32: (a, b) => add32(a, -b), fast64: (a, b) => add64(a, -b) };
export const FMUL: FpBinary = { exact: (a, b, f, c) => fpMul(a, b, f, c), fast32: mul32, fast64: mul64 };
export const FMULX: FpBinary = { exact: (a, b, f, c) => fpMul(a, b, f, c, true), fast32: mul32, fast64: mul64 };
export const FNMUL: FpBinary = { exact: (a, b, f, c) => fpNeg(fpMul(a, b, f, c), f), fast32: negated(mul32), fast64: negated(mul64) };
export const FDIV: FpBinary = { exact: fpDiv, fast32: div32, fast64: div64 };
export const FABD: FpBinary = {
  exact: (a, b, f, c) => fpAbs(fpAddSub(a, b, true, f, c), f),
  fast32: absolute((a, b) => add32(a, -b)),
  fast64: absolute((a, b) => add64(a, -b)),
};
export const FMAX: FpBinary = { exact: (a, b, f, c) => fpMinMax(a, b, true, false, f, c), fast32: fastMax, fast64: fastMax };
export const FMIN: FpBinary = { exact: (a, b, f, c) => fpMinMax(a, b, false, false, f, c), fast32: fastMin, fast64: fastMin };
export const FMAXNM: FpBinary = { exact: (a, b, f, c) => fpMinMax(a, b, true, true, f, c), fast32: fastMax, fast64: fastMax };
export const FMINNM: FpBinary = { exact: (a, b, f, c) => fpMinMax(a, b, false, true, f, c), fast32: fastMin, fast64: fastMin };
export const FRECPS: FpBinary = { exact: (a, b, f, c) => fpStepFused(a, b, false, f, c) };
export const FRSQRTS: FpBinary = { exact: (a, b, f, c) => fpStepFused(a, b, true, f, c) };

/** addend + op1 * op2, and the forms that negate the addend and/or op1 first. */
export const FMADD: FpTernary = { exact: fpMulAdd, fast32: fma32, fast64: fma64 };
export const FMSUB: FpTernary = {
  exact: (a, b, c, f, r) => fpMulAdd(a, fpNeg(b, f), c, f, r),
  fast32: (a, b, c) => fma32(a, -b, c),
  fast64: (a, b, c) => fma64(a, -b, c),
};
export const FNMADD: FpTernary = {
  exact: (a, b, c, f, r) => fpMulAdd(fpNeg(a, f), fpNeg(b, f), c, f, r),
  fast32: (a, b, c) => fma32(-a, -b, c),
  fast64: (a, b, c) => fma64(-a, -b, c),
};
export const FNMSUB: FpTernary = {
  exact: (a, b, c, f, r) => fpMulAdd(fpNeg(a, f), b, c, f, r),
  fast32: (a, b, c) => fma32(-a, b, c),
  fast64: (a, b, c) => fma64(-a, b, c),
};

export const FABS: FpUnary = { exact: (a, f) => fpAbs(a, f), fast32: Math.abs, fast64: Math.abs };
export const FNEG: FpUnary = { exact: (a, f) => fpNeg(a, f), fast32: (a) => -a, fast64: (a) => -a };
export const FSQRT: FpUnary = { exact: fpSqrt, fast32: sqrt32, fast64: sqrt64 };
export const FRECPE: FpUnary = { exact: fpRecipEstimate };
export const FRSQRTE: FpUnary = { exact: fpRSqrtEstimate };
export const FRECPX: FpUnary = { exact: fpRecpX };

/** FRINT<mode>: N P M Z A (fixed rounding), X (FPCR's, exact), I (FPCR's). */
function frint(rounding: Rounding | null, exact: boolean, fast?: (a: number) => number): FpUnary {
  return { exact: (a, f, c) => fpRoundInt(a, f, c, rounding ?? fpcrRounding(c), exact), fast32: fast, fast64: fast };
}
export const FRINTN = frint(Rounding.TieEven, false);
export const FRINTP = frint(Rounding.PosInf, false, Math.ceil);
export const FRINTM = frint(Rounding.NegInf, false, Math.floor);
export const FRINTZ = frint(Rounding.Zero, false, Math.trunc);
export const FRINTA = frint(Rounding.TieAway, false);
export const FRINTX = frint(null, true);
export const FRINTI = frint(null, false);

/** FRINT32Z/X, FRINT64Z/X (FEAT_FRINTTS). */
function frintN(intSize: number, toZero: boolean): FpUnary {
  return { exact: (a, f, c) => fpRoundIntN(a, f, c, toZero ? Rounding.Zero : fpcrRounding(c), intSize) };
}
export const FRINT32Z = frintN(32, true);
export const FRINT32X = frintN(32, false);
export const FRINT64Z = frintN(64, true);
export const FRINT64X = frintN(64, false);
