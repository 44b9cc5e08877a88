import {
  bitLength, DZC, FPCR_FZ, fpcrRounding, type FpFormat, FpType, fpDefaultNaN, fpInfinity, fpMaxNormal, fpZero, IOC, isNaNType, IXC,
  OFC, processNaN, raise, Rounding, UFC, unpack, flushes,
} from './core.js';

/**
 * FRECPE, FRSQRTE and FRECPX: the Arm ARM's FPRecipEstimate, FPRSqrtEstimate and FPRecpX
 * (8-bit estimates; FEAT_RPRES is not implemented), on bit patterns.
 */

const big = BigInt;

/** RecipEstimate: `a` in 256..511 (0.5 <= x < 1 in 1/512 steps) to 256..511 (1 <= r < 2). */
function recipEstimate(a: number): number {
  const b = Math.floor((1 << 19) / (a * 2 + 1));
  return (b + 1) >>> 1;
}

/** RecipSqrtEstimate: `a` in 128..511 (0.25 <= x < 1) to 256..511. */
function recipSqrtEstimate(a: number): number {
  const x = a < 256 ? a * 2 + 1 : ((a >> 1) << 1) * 2 + 2;
  let b = 512;
  while (x * (b + 1) * (b + 1) < 2 ** 28) b++;
  return (b + 1) >>> 1;
}

/** The fraction as 52 bits and the biased exponent of a normal or denormal operand. */
function fraction52(x: bigint, fmt: FpFormat): { frac: bigint; exp: number } {
  const frac = (x & ((1n << big(fmt.f)) - 1n)) << big(52 - fmt.f);
  return { frac, exp: Number((x >> big(fmt.f)) & big((1 << fmt.e) - 1)) };
}

function result(sign: number, exp: number, frac52: bigint, fmt: FpFormat): bigint {
  return fpZero(sign, fmt) | (big(exp) << big(fmt.f)) | (frac52 >> big(52 - fmt.f));
}

export function fpRecipEstimate(x: bigint, fmt: FpFormat, fpcr: number): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  if (isNaNType(u.type)) return processNaN(u.type, x, fmt, fpcr);
  if (u.type === FpType.Infinity) return fpZero(u.sign, fmt);
  if (u.type === FpType.Zero) {
    raise(DZC);
    return fpInfinity(u.sign, fmt);
  }
  const bias = (1 << (fmt.e - 1)) - 1;
  // |value| < 2^-(bias+1): the reciprocal overflows.
  const leading = u.exp + bitLength(u.mant) - 1;
  if (leading < -(bias + 1)) {
    const r = fpcrRounding(fpcr);
    const toInf = r === Rounding.TieEven || (r === Rounding.PosInf && u.sign === 0) || (r === Rounding.NegInf && u.sign === 1);
    raise(OFC | IXC);
    return toInf ? fpInfinity(u.sign, fmt) : fpMaxNormal(u.sign, fmt);
  }
  if ((fpcr & FPCR_FZ) !== 0 && fmt.bits !== 16 && leading >= bias - 1) {
    raise(UFC);
    return fpZero(u.sign, fmt);
  }
  let { frac, exp } = fraction52(x, fmt);
  const top = (1n << 52n) - 1n;
  if (exp === 0) {
    if (((frac >> 51n) & 1n) === 0n) {
      exp = -1;
      frac = (frac << 2n) & top;
    } else frac = (frac << 1n) & top;
  }
  const scaled = 256 | Number(frac >> 44n);
  let resultExp = 2 * bias - 1 - exp;
  const estimate = recipEstimate(scaled);
  frac = big(estimate & 0xff) << 44n;
  if (resultExp === 0) frac = (1n << 51n) | (frac >> 1n);
  else if (resultExp === -1) {
    frac = (1n << 50n) | (frac >> 2n);
    resultExp = 0;
  }
  return result(u.sign, resultExp, frac, fmt);
}

export function fpRSqrtEstimate(x: bigint, fmt: FpFormat, fpcr: number): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  if (isNaNType(u.type)) return processNaN(u.type, x, fmt, fpcr);
  if (u.type === FpType.Zero) {
    raise(DZC);
    return fpInfinity(u.sign, fmt);
  }
  if (u.sign) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (u.type === FpType.Infinity) return fpZero(0, fmt);
  let { frac, exp } = fraction52(x, fmt);
  const top = (1n << 52n) - 1n;
  if (exp === 0) {
    while (((frac >> 51n) & 1n) === 0n) {
      frac = (frac << 1n) & top;
      exp--;
    }
    frac = (frac << 1n) & top;
  }
  const scaled = (exp & 1) === 0 ? 256 | Number(frac >> 44n) : 128 | Number(frac >> 45n);
  const bias = (1 << (fmt.e - 1)) - 1;
  const resultExp = Math.floor((3 * bias - 1 - exp) / 2);
  const estimate = recipSqrtEstimate(scaled);
  return result(0, resultExp, big(estimate & 0xff) << 44n, fmt);
}

export function fpRecpX(x: bigint, fmt: FpFormat, fpcr: number): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  if (isNaNType(u.type)) return processNaN(u.type, x, fmt, fpcr);
  const expMask = (1 << fmt.e) - 1;
  const exp = Number((x >> big(fmt.f)) & big(expMask));
  const out = exp === 0 ? expMask - 1 : ~exp & expMask;
  return fpZero(u.sign, fmt) | (big(out) << big(fmt.f));
}
