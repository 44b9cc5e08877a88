import { flushes, type FpFormat, FpType, fpInfinity, fpZero, IOC, isNaNType, processNaNs, raise, unpack, type Unpacked } from './core.js';

/**
 * FPMax, FPMin, FPMaxNum, FPMinNum and the comparisons (FPCompare, FPCompareEQ/GE/GT) on bit
 * patterns, as the Arm ARM defines them.
 */

function compareValues(a: Unpacked, b: Unpacked): number {
  // Both numbers (zero, normal or infinity): -1, 0, 1.
  const va = a.type === FpType.Infinity ? Infinity : a.mant === 0n ? 0 : 1;
  const vb = b.type === FpType.Infinity ? Infinity : b.mant === 0n ? 0 : 1;
  if (va === 0 && vb === 0) return 0;
  const sa = a.sign ? -1 : 1;
  const sb = b.sign ? -1 : 1;
  if (va === 0) return -sb;
  if (vb === 0) return sa;
  if (a.sign !== b.sign) return sa;
  if (va === Infinity || vb === Infinity) return va === vb ? 0 : va === Infinity ? sa : -sa;
  // Same sign, both finite non-zero: compare magnitudes exactly.
  const e = Math.min(a.exp, b.exp);
  const ma = a.mant << BigInt(a.exp - e);
  const mb = b.mant << BigInt(b.exp - e);
  return ma === mb ? 0 : ma > mb ? sa : -sa;
}

/** FPMax (`max`) or FPMin; `num`: FPMaxNum/FPMinNum (a quiet NaN loses to a number). */
export function fpMinMax(a: bigint, b: bigint, max: boolean, num: boolean, fmt: FpFormat, fpcr: number): bigint {
  const flush = flushes(fmt, fpcr);
  let ua = unpack(a, fmt, flush);
  let ub = unpack(b, fmt, flush);
  let x = a;
  let y = b;
  if (num) {
    const loser = fpInfinity(max ? 1 : 0, fmt);
    if (ua.type === FpType.QNaN && ub.type !== FpType.QNaN) {
      x = loser;
      ua = unpack(x, fmt, false);
    } else if (ua.type !== FpType.QNaN && ub.type === FpType.QNaN) {
      y = loser;
      ub = unpack(y, fmt, false);
    }
  }
  const nan = processNaNs(ua.type, ub.type, x, y, fmt, fpcr);
  if (nan !== null) return nan;
  const c = compareValues(ua, ub);
  const pick = (max ? c > 0 : c < 0) ? ua : ub;
  const picked = pick === ua ? x : y;
  if (pick.type === FpType.Zero) {
    // max(+0, -0) = +0, min(+0, -0) = -0.
    const sign = max ? ua.sign & ub.sign : ua.sign | ub.sign;
    return fpZero(ua.type === FpType.Zero && ub.type === FpType.Zero ? sign : pick.sign, fmt);
  }
  return picked;
}

/** FPCompare: NZCV (0b0011 unordered); IOC for a signalling NaN, or any NaN when `signal`. */
export function fpCompare(a: bigint, b: bigint, signal: boolean, fmt: FpFormat, fpcr: number): number {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(a, fmt, flush);
  const ub = unpack(b, fmt, flush);
  if (isNaNType(ua.type) || isNaNType(ub.type)) {
    if (signal || ua.type === FpType.SNaN || ub.type === FpType.SNaN) raise(IOC);
    return 0b0011;
  }
  const c = compareValues(ua, ub);
  return c === 0 ? 0b0110 : c < 0 ? 0b1000 : 0b0010;
}

export const enum Cmp {
  EQ,
  GE,
  GT,
}

/** FPCompareEQ/GE/GT: false for NaNs; IOC for a signalling NaN (EQ) or any NaN (GE, GT). */
export function fpCompareCond(a: bigint, b: bigint, cond: Cmp, fmt: FpFormat, fpcr: number): boolean {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(a, fmt, flush);
  const ub = unpack(b, fmt, flush);
  if (isNaNType(ua.type) || isNaNType(ub.type)) {
    if (cond !== Cmp.EQ || ua.type === FpType.SNaN || ub.type === FpType.SNaN) raise(IOC);
    return false;
  }
  const c = compareValues(ua, ub);
  return cond === Cmp.EQ ? c === 0 : cond === Cmp.GE ? c >= 0 : c > 0;
}
