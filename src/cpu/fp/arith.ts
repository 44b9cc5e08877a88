import {
  bitLength, flushes, fpcrRounding, type FpFormat, FpType, fpConst, fpDefaultNaN, fpInfinity, fpNeg, fpZero, IOC, DZC,
  isNaNType, processNaNs, processNaNs3, raise, round, Rounding, unpack, type Unpacked,
} from './core.js';

/**
 * Arithmetic on bit patterns, exactly as the Arm ARM's FPAdd, FPSub, FPMul, FPMulX, FPDiv,
 * FPSqrt, FPMulAdd, FPRecipStepFused and FPRSqrtStepFused: operands unpacked (with FZ), NaNs
 * processed, special cases, then the exact value rounded once.
 */

const big = BigInt;

/** Exact sum of two finite unpacked values as (sign, mant, exp); mant 0n when it cancels. */
function exactSum(a: Unpacked, b: Unpacked): { sign: number; mant: bigint; exp: number } {
  if (a.mant === 0n) return { sign: b.sign, mant: b.mant, exp: b.exp };
  if (b.mant === 0n) return { sign: a.sign, mant: a.mant, exp: a.exp };
  const exp = Math.min(a.exp, b.exp);
  const ma = a.mant << big(a.exp - exp);
  const mb = b.mant << big(b.exp - exp);
  const sa = a.sign ? -ma : ma;
  const sb = b.sign ? -mb : mb;
  const s = sa + sb;
  return s < 0n ? { sign: 1, mant: -s, exp } : { sign: 0, mant: s, exp };
}

/** The sign of an exact zero sum of non-zero or opposite-signed terms: -0 only rounding down. */
function zeroSumSign(fpcr: number): number {
  return fpcrRounding(fpcr) === Rounding.NegInf ? 1 : 0;
}

export function fpAddSub(a: bigint, b: bigint, subtract: boolean, fmt: FpFormat, fpcr: number): bigint {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(a, fmt, flush);
  const ub = unpack(b, fmt, flush);
  const nan = processNaNs(ua.type, ub.type, a, b, fmt, fpcr);
  if (nan !== null) return nan;
  if (subtract) ub.sign ^= 1;
  const infA = ua.type === FpType.Infinity;
  const infB = ub.type === FpType.Infinity;
  if (infA && infB && ua.sign !== ub.sign) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (infA) return fpInfinity(ua.sign, fmt);
  if (infB) return fpInfinity(ub.sign, fmt);
  if (ua.type === FpType.Zero && ub.type === FpType.Zero && ua.sign === ub.sign) return fpZero(ua.sign, fmt);
  const s = exactSum(ua, ub);
  if (s.mant === 0n) return fpZero(zeroSumSign(fpcr), fmt);
  return round(s.sign, s.mant, s.exp, fmt, fpcrRounding(fpcr), flush);
}

/** Two operands unpacked with FZ, after NaN processing: a NaN result, or what a product needs. */
interface Operands {
  readonly ua: Unpacked;
  readonly ub: Unpacked;
  readonly flush: boolean;
  readonly sign: number;
  readonly infA: boolean;
  readonly infB: boolean;
  readonly zeroA: boolean;
  readonly zeroB: boolean;
}

function operands(a: bigint, b: bigint, fmt: FpFormat, fpcr: number): Operands | bigint {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(a, fmt, flush);
  const ub = unpack(b, fmt, flush);
  const nan = processNaNs(ua.type, ub.type, a, b, fmt, fpcr);
  if (nan !== null) return nan;
  return {
    ua, ub, flush, sign: ua.sign ^ ub.sign,
    infA: ua.type === FpType.Infinity, infB: ub.type === FpType.Infinity, zeroA: ua.type === FpType.Zero, zeroB: ub.type === FpType.Zero,
  };
}

/** FPMul, or FPMulX (`mulx`: infinity times zero is 2 with the product's sign). */
export function fpMul(a: bigint, b: bigint, fmt: FpFormat, fpcr: number, mulx = false): bigint {
  const o = operands(a, b, fmt, fpcr);
  if (typeof o === 'bigint') return o;
  if ((o.infA && o.zeroB) || (o.zeroA && o.infB)) {
    if (mulx) return fpConst(o.sign, 1, 0, fmt);
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (o.infA || o.infB) return fpInfinity(o.sign, fmt);
  if (o.zeroA || o.zeroB) return fpZero(o.sign, fmt);
  return round(o.sign, o.ua.mant * o.ub.mant, o.ua.exp + o.ub.exp, fmt, fpcrRounding(fpcr), o.flush);
}

export function fpDiv(a: bigint, b: bigint, fmt: FpFormat, fpcr: number): bigint {
  const o = operands(a, b, fmt, fpcr);
  if (typeof o === 'bigint') return o;
  const { ua, ub, sign } = o;
  if ((o.infA && o.infB) || (o.zeroA && o.zeroB)) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (o.infA || o.zeroB) {
    if (!o.infA) raise(DZC);
    return fpInfinity(sign, fmt);
  }
  if (o.zeroA || o.infB) return fpZero(sign, fmt);
  // Enough quotient bits for any result (denormals included) plus a sticky bit.
  const extra = fmt.f + 3 + bitLength(ub.mant) - bitLength(ua.mant) + 2;
  const shift = Math.max(extra, 0);
  const num = ua.mant << big(shift);
  let q = num / ub.mant;
  const sticky = num % ub.mant !== 0n ? 1n : 0n;
  q = (q << 1n) | sticky;
  return round(sign, q, ua.exp - ub.exp - shift - 1, fmt, fpcrRounding(fpcr), o.flush);
}

/** Integer square root (floor) of a non-negative bigint. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = big(Math.floor(Math.sqrt(Number(n))));
  // Newton from a close start; corrects the double estimate both ways.
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

export function fpSqrt(a: bigint, fmt: FpFormat, fpcr: number): bigint {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(a, fmt, flush);
  if (isNaNType(ua.type)) return processNaNs(ua.type, FpType.Zero, a, 0n, fmt, fpcr)!;
  if (ua.type === FpType.Zero) return fpZero(ua.sign, fmt);
  if (ua.sign === 1) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (ua.type === FpType.Infinity) return fpInfinity(0, fmt);
  // mant * 2^exp with exp even and mant long enough for f + 3 result bits.
  let mant = ua.mant;
  let exp = ua.exp;
  const want = 2 * (fmt.f + 4);
  const grow = Math.max(want - bitLength(mant), 0);
  mant <<= big(grow);
  exp -= grow;
  if (exp & 1) {
    mant <<= 1n;
    exp--;
  }
  const r = isqrt(mant);
  const sticky = r * r !== mant ? 1n : 0n;
  return round(0, (r << 1n) | sticky, exp / 2 - 1, fmt, fpcrRounding(fpcr), flush);
}

/**
 * FPMulAdd: addend + op1 * op2 rounded once (the exact product is a bigint). The caller negates
 * operands first for FMSUB, FNMADD, FNMSUB and FMLS (FPNeg, which flips a NaN's sign too).
 */
export function fpMulAdd(addend: bigint, op1: bigint, op2: bigint, fmt: FpFormat, fpcr: number): bigint {
  const flush = flushes(fmt, fpcr);
  const ua = unpack(addend, fmt, flush);
  const u1 = unpack(op1, fmt, flush);
  const u2 = unpack(op2, fmt, flush);
  const inf1 = u1.type === FpType.Infinity;
  const inf2 = u2.type === FpType.Infinity;
  const zero1 = u1.type === FpType.Zero;
  const zero2 = u2.type === FpType.Zero;
  const nan = processNaNs3(ua.type, u1.type, u2.type, addend, op1, op2, fmt, fpcr);
  if (ua.type === FpType.QNaN && ((inf1 && zero2) || (zero1 && inf2))) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if (nan !== null) return nan;
  const infA = ua.type === FpType.Infinity;
  const zeroA = ua.type === FpType.Zero;
  const signP = u1.sign ^ u2.sign;
  const infP = inf1 || inf2;
  const zeroP = zero1 || zero2;
  if ((inf1 && zero2) || (zero1 && inf2) || (infA && infP && ua.sign !== signP)) {
    raise(IOC);
    return fpDefaultNaN(fmt);
  }
  if ((infA && ua.sign === 0) || (infP && signP === 0)) return fpInfinity(0, fmt);
  if (infA || infP) return fpInfinity(1, fmt);
  if (zeroA && zeroP && ua.sign === signP) return fpZero(ua.sign, fmt);
  const product: Unpacked = { type: FpType.Normal, sign: signP, mant: u1.mant * u2.mant, exp: u1.exp + u2.exp };
  const s = exactSum(ua, product);
  if (s.mant === 0n) return fpZero(zeroSumSign(fpcr), fmt);
  return round(s.sign, s.mant, s.exp, fmt, fpcrRounding(fpcr), flush);
}

/**
 * FPRecipStepFused (FRECPS, 2 - op1 * op2) and FPRSqrtStepFused (FRSQRTS, (3 - op1 * op2) / 2),
 * fused: op1 is negated first, infinity times zero gives 2 or 1.5.
 */
export function fpStepFused(op1: bigint, op2: bigint, rsqrt: boolean, fmt: FpFormat, fpcr: number): bigint {
  const neg1 = fpNeg(op1, fmt);
  const flush = flushes(fmt, fpcr);
  const u1 = unpack(neg1, fmt, flush);
  const u2 = unpack(op2, fmt, flush);
  const nan = processNaNs(u1.type, u2.type, neg1, op2, fmt, fpcr);
  if (nan !== null) return nan;
  const inf1 = u1.type === FpType.Infinity;
  const inf2 = u2.type === FpType.Infinity;
  const zero1 = u1.type === FpType.Zero;
  const zero2 = u2.type === FpType.Zero;
  if ((inf1 && zero2) || (zero1 && inf2)) return rsqrt ? fpConst(0, 0, 1, fmt) : fpConst(0, 1, 0, fmt);
  if (inf1 || inf2) return fpInfinity(u1.sign ^ u2.sign, fmt);
  const constant: Unpacked = { type: FpType.Normal, sign: 0, mant: rsqrt ? 3n : 2n, exp: 0 };
  const product: Unpacked = { type: FpType.Normal, sign: u1.sign ^ u2.sign, mant: u1.mant * u2.mant, exp: u1.exp + u2.exp };
  const s = exactSum(constant, product);
  if (s.mant === 0n) return fpZero(zeroSumSign(fpcr), fmt);
  return round(s.sign, s.mant, s.exp - (rsqrt ? 1 : 0), fmt, fpcrRounding(fpcr), flush);
}
