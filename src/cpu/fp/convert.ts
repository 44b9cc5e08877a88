import {
  FPCR_AHP, FPCR_DN, flushes, fpcrRounding, type FpFormat, FpType, fpDefaultNaN, fpInfinity, fpZero, IOC, IXC, isNaNType,
  processNaN, raise, round, Rounding, roundsUp, unpack,
} from './core.js';

/**
 * Conversions (FPConvert, FPToFixed, FixedToFP, FPRoundInt) on bit patterns, as the Arm ARM
 * defines them. Half precision appears only here: conversions ignore FZ16 and observe AHP.
 */

const big = BigInt;

/** FPConvert from `from` to `to` (FCVT, FCVTL, FCVTN, FCVTXN with Rounding.Odd). */
export function fpConvert(x: bigint, from: FpFormat, to: FpFormat, fpcr: number, rounding: Rounding = fpcrRounding(fpcr)): bigint {
  const ahpIn = from.bits === 16 && (fpcr & FPCR_AHP) !== 0;
  const ahpOut = to.bits === 16 && (fpcr & FPCR_AHP) !== 0;
  const u = unpack(x, from, flushes(from, fpcr), ahpIn);
  if (isNaNType(u.type)) {
    if (ahpOut) {
      raise(IOC);
      return fpZero(u.sign, to);
    }
    if (u.type === FpType.SNaN) raise(IOC);
    if (fpcr & FPCR_DN) return fpDefaultNaN(to);
    // FPConvertNaN: the sign, the quiet bit set and the fraction's top bits.
    const frac = x & ((1n << big(from.f)) - 1n);
    const payload = from.f >= to.f ? frac >> big(from.f - to.f) : frac << big(to.f - from.f);
    return fpInfinity(u.sign, to) | payload | (1n << big(to.f - 1));
  }
  if (u.type === FpType.Infinity) {
    if (ahpOut) {
      raise(IOC);
      return fpZero(u.sign, to) | ((1n << big(to.bits - 1)) - 1n);
    }
    return fpInfinity(u.sign, to);
  }
  if (u.type === FpType.Zero) return fpZero(u.sign, to);
  return round(u.sign, u.mant, u.exp, to, rounding, flushes(to, fpcr), ahpOut);
}

/** Round-to-integral of an exact value (-1)^sign * mant * 2^exp: the integer and whether inexact. */
function roundToInteger(sign: number, mant: bigint, exp: number, rounding: Rounding): { int: bigint; inexact: boolean } {
  if (exp >= 0) return { int: sign ? -(mant << big(exp)) : mant << big(exp), inexact: false };
  const s = big(-exp);
  let int = mant >> s;
  const rem = mant & ((1n << s) - 1n);
  if (roundsUp(rounding, sign, (int & 1n) === 1n, rem, 1n << (s - 1n))) int++;
  return { int: sign ? -int : int, inexact: rem !== 0n };
}

/**
 * FPToFixed: to a `width`-bit signed or unsigned integer with `fbits` fraction bits. A NaN is IOC
 * and 0; out of range saturates with IOC (and no IXC).
 */
export function fpToFixed(x: bigint, fmt: FpFormat, fbits: number, unsigned: boolean, width: number, fpcr: number, rounding: Rounding): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  const max = unsigned ? (1n << big(width)) - 1n : (1n << big(width - 1)) - 1n;
  const min = unsigned ? 0n : -(1n << big(width - 1));
  if (isNaNType(u.type)) {
    raise(IOC);
    return 0n;
  }
  if (u.type === FpType.Infinity) {
    raise(IOC);
    return u.sign ? min : max;
  }
  if (u.type === FpType.Zero) return 0n;
  const r = roundToInteger(u.sign, u.mant, u.exp + fbits, rounding);
  if (r.int > max || r.int < min) {
    raise(IOC);
    return r.int > max ? max : min;
  }
  if (r.inexact) raise(IXC);
  return r.int;
}

/** FixedToFP: the integer `value` (already signed or unsigned) divided by 2^fbits, rounded. */
export function fixedToFp(value: bigint, fbits: number, fmt: FpFormat, fpcr: number, rounding: Rounding = fpcrRounding(fpcr)): bigint {
  if (value === 0n) return fpZero(0, fmt);
  const sign = value < 0n ? 1 : 0;
  return round(sign, sign ? -value : value, -fbits, fmt, rounding, flushes(fmt, fpcr));
}

/** FPRoundInt (FRINT*): `exact` (FRINTX) raises IXC when the value changed. */
export function fpRoundInt(x: bigint, fmt: FpFormat, fpcr: number, rounding: Rounding, exact: boolean): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  if (isNaNType(u.type)) return processNaN(u.type, x, fmt, fpcr);
  if (u.type === FpType.Infinity) return fpInfinity(u.sign, fmt);
  if (u.type === FpType.Zero) return fpZero(u.sign, fmt);
  const r = roundToInteger(u.sign, u.mant, u.exp, rounding);
  if (exact && r.inexact) raise(IXC);
  if (r.int === 0n) return fpZero(u.sign, fmt);
  const magnitude = r.int < 0n ? -r.int : r.int;
  return round(u.sign, magnitude, 0, fmt, Rounding.Zero, false);
}

/**
 * FPRoundIntN (FRINT32Z/X, FRINT64Z/X): like FPRoundInt, but a NaN, an infinity or a result out
 * of the `intSize`-bit signed range gives -2^(intSize-1) with IOC.
 */
export function fpRoundIntN(x: bigint, fmt: FpFormat, fpcr: number, rounding: Rounding, intSize: number): bigint {
  const u = unpack(x, fmt, flushes(fmt, fpcr));
  const limit = 1n << big(intSize - 1);
  const overflowResult = (): bigint => {
    raise(IOC);
    return round(1, limit, 0, fmt, Rounding.Zero, false);
  };
  if (isNaNType(u.type) || u.type === FpType.Infinity) return overflowResult();
  if (u.type === FpType.Zero) return fpZero(u.sign, fmt);
  const r = roundToInteger(u.sign, u.mant, u.exp, rounding);
  if (r.int >= limit || r.int < -limit) return overflowResult();
  if (r.inexact) raise(IXC);
  if (r.int === 0n) return fpZero(u.sign, fmt);
  return round(u.sign, r.int < 0n ? -r.int : r.int, 0, fmt, Rounding.Zero, false);
}
