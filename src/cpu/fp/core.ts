/**
 * The IEEE 754 core as the Arm ARM defines it (DDI 0487, "Floating-point" shared pseudocode):
 * FPUnpack, FPRoundBase, FPProcessNaN(s), on bit patterns held as bigint. Everything here is the
 * exact (slow) path; executors try their double-arithmetic fast path first (fast.ts).
 *
 * Exceptions are never trapped (the FPCR enable bits read as zero), so a raised exception is
 * only a cumulative FPSR flag: functions OR them into `fpFlags.value` and the executor moves
 * them into FPSR once per instruction.
 */

/** A binary floating-point format: total bits, exponent bits, fraction bits. */
export interface FpFormat {
  readonly bits: number;
  readonly e: number;
  readonly f: number;
}

export const F16: FpFormat = { bits: 16, e: 5, f: 10 };
export const F32: FpFormat = { bits: 32, e: 8, f: 23 };
export const F64: FpFormat = { bits: 64, e: 11, f: 52 };

/** FPSR cumulative exception flags. */
export const IOC = 1;
export const DZC = 2;
export const OFC = 4;
export const UFC = 8;
export const IXC = 16;
export const IDC = 128;

/** FPCR fields. */
export const FPCR_AHP = 1 << 26;
export const FPCR_DN = 1 << 25;
export const FPCR_FZ = 1 << 24;
export const RMODE_SHIFT = 22;

/** Rounding modes: FPCR.RMode values, then the two only instructions select. */
export const enum Rounding {
  TieEven = 0,
  PosInf = 1,
  NegInf = 2,
  Zero = 3,
  TieAway = 4,
  Odd = 5,
}

/** The flags raised by the current instruction (moved into FPSR by the executor). */
export const fpFlags = { value: 0 };

export function raise(flag: number): void {
  fpFlags.value |= flag;
}

export function fpcrRounding(fpcr: number): Rounding {
  return (fpcr >>> RMODE_SHIFT) & 3;
}

export const enum FpType {
  Zero,
  Normal,
  Infinity,
  QNaN,
  SNaN,
}

/** An unpacked operand: the value is (-1)^sign * mant * 2^exp (mant 0 for zeros and infinities). */
export interface Unpacked {
  type: FpType;
  sign: number;
  mant: bigint;
  exp: number;
}

const big = BigInt;

function fields(x: bigint, fmt: FpFormat): { sign: number; exp: number; frac: bigint } {
  return {
    sign: Number((x >> big(fmt.bits - 1)) & 1n),
    exp: Number((x >> big(fmt.f)) & big((1 << fmt.e) - 1)),
    frac: x & ((1n << big(fmt.f)) - 1n),
  };
}

/**
 * FPUnpack: classifies `x`; with `flush` (FPCR.FZ for single and double arithmetic) a denormal
 * reads as zero and raises IDC. `ahp`: alternative half precision (no infinities or NaNs).
 */
export function unpack(x: bigint, fmt: FpFormat, flush: boolean, ahp = false): Unpacked {
  const { sign, exp, frac } = fields(x, fmt);
  const maxExp = (1 << fmt.e) - 1;
  if (exp === 0) {
    if (frac === 0n) return { type: FpType.Zero, sign, mant: 0n, exp: 0 };
    if (flush) {
      raise(IDC);
      return { type: FpType.Zero, sign, mant: 0n, exp: 0 };
    }
    return { type: FpType.Normal, sign, mant: frac, exp: 2 - (1 << (fmt.e - 1)) - fmt.f };
  }
  if (exp === maxExp && !ahp) {
    if (frac === 0n) return { type: FpType.Infinity, sign, mant: 0n, exp: 0 };
    const quiet = (frac >> big(fmt.f - 1)) & 1n;
    return { type: quiet ? FpType.QNaN : FpType.SNaN, sign, mant: 0n, exp: 0 };
  }
  return { type: FpType.Normal, sign, mant: frac | (1n << big(fmt.f)), exp: exp - ((1 << (fmt.e - 1)) - 1) - fmt.f };
}

export function isNaNType(t: FpType): boolean {
  return t === FpType.QNaN || t === FpType.SNaN;
}

export function fpZero(sign: number, fmt: FpFormat): bigint {
  return big(sign) << big(fmt.bits - 1);
}

export function fpInfinity(sign: number, fmt: FpFormat): bigint {
  return fpZero(sign, fmt) | (big((1 << fmt.e) - 1) << big(fmt.f));
}

export function fpMaxNormal(sign: number, fmt: FpFormat): bigint {
  return fpZero(sign, fmt) | (big((1 << fmt.e) - 2) << big(fmt.f)) | ((1n << big(fmt.f)) - 1n);
}

export function fpDefaultNaN(fmt: FpFormat): bigint {
  return fpInfinity(0, fmt) | (1n << big(fmt.f - 1));
}

/** A value 2^k or 1.5 * 2^k (FPTwo, FPOnePointFive): `frac` is the top fraction bits. */
export function fpConst(sign: number, unbiasedExp: number, topFrac: number, fmt: FpFormat): bigint {
  const biased = big(unbiasedExp + (1 << (fmt.e - 1)) - 1);
  return fpZero(sign, fmt) | (biased << big(fmt.f)) | (big(topFrac) << big(fmt.f - 1));
}

export function fpNeg(x: bigint, fmt: FpFormat): bigint {
  return x ^ (1n << big(fmt.bits - 1));
}

export function fpAbs(x: bigint, fmt: FpFormat): bigint {
  return x & ((1n << big(fmt.bits - 1)) - 1n);
}

/** FPProcessNaN: a signalling NaN is quieted and raises IOC; FPCR.DN gives the default NaN. */
export function processNaN(type: FpType, x: bigint, fmt: FpFormat, fpcr: number): bigint {
  let result = x;
  if (type === FpType.SNaN) {
    raise(IOC);
    result = x | (1n << big(fmt.f - 1));
  }
  return fpcr & FPCR_DN ? fpDefaultNaN(fmt) : result;
}

/** FPProcessNaNs: signalling NaNs first (in operand order), then quiet ones; null if none. */
export function processNaNs(ta: FpType, tb: FpType, a: bigint, b: bigint, fmt: FpFormat, fpcr: number): bigint | null {
  if (ta === FpType.SNaN) return processNaN(ta, a, fmt, fpcr);
  if (tb === FpType.SNaN) return processNaN(tb, b, fmt, fpcr);
  if (ta === FpType.QNaN) return processNaN(ta, a, fmt, fpcr);
  if (tb === FpType.QNaN) return processNaN(tb, b, fmt, fpcr);
  return null;
}

/** FPProcessNaNs3, for the fused multiply-add: operand order addend, multiplicand, multiplier. */
export function processNaNs3(ta: FpType, tb: FpType, tc: FpType, a: bigint, b: bigint, c: bigint, fmt: FpFormat, fpcr: number): bigint | null {
  if (ta === FpType.SNaN) return processNaN(ta, a, fmt, fpcr);
  if (tb === FpType.SNaN) return processNaN(tb, b, fmt, fpcr);
  if (tc === FpType.SNaN) return processNaN(tc, c, fmt, fpcr);
  if (ta === FpType.QNaN) return processNaN(ta, a, fmt, fpcr);
  if (tb === FpType.QNaN) return processNaN(tb, b, fmt, fpcr);
  if (tc === FpType.QNaN) return processNaN(tc, c, fmt, fpcr);
  return null;
}

/** Number of significant bits of a non-negative bigint. */
export function bitLength(x: bigint): number {
  if (x < 0x100000000n) return 32 - Math.clz32(Number(x));
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0]!, 16));
}

/** Whether rounding the dropped part `rem` out of `half * 2` up by one is due. */
export function roundsUp(rounding: Rounding, sign: number, odd: boolean, rem: bigint, half: bigint): boolean {
  if (rem === 0n) return false;
  switch (rounding) {
    case Rounding.TieEven:
      return rem > half || (rem === half && odd);
    case Rounding.TieAway:
      return rem >= half;
    case Rounding.PosInf:
      return sign === 0;
    case Rounding.NegInf:
      return sign === 1;
    default:
      return false;
  }
}

/**
 * FPRoundBase: rounds the exact non-zero value (-1)^sign * mant * 2^exp to `fmt`. Tininess is
 * detected before rounding (Arm); `flush` (FPCR.FZ) turns a tiny result into zero with UFC and
 * no IXC. `ahp`: alternative half precision, whose overflow is IOC and the largest magnitude.
 * A caller whose value is not exact folds a sticky bit below the rounding point into `mant`.
 */
export function round(sign: number, mant: bigint, exp: number, fmt: FpFormat, rounding: Rounding, flush: boolean, ahp = false): bigint {
  const bias = (1 << (fmt.e - 1)) - 1;
  const minExp = 1 - bias;
  const exponent = exp + bitLength(mant) - 1; // of the leading bit
  if (flush && exponent < minExp) {
    raise(UFC);
    return fpZero(sign, fmt);
  }
  let biased = Math.max(exponent - minExp + 1, 0);
  const unit = (biased === 0 ? minExp : exponent) - fmt.f; // exponent of the result's last place
  const shift = exp - unit;
  let intMant: bigint;
  let rem = 0n;
  let half = 0n;
  if (shift >= 0) intMant = mant << big(shift);
  else {
    const s = big(-shift);
    intMant = mant >> s;
    rem = mant & ((1n << s) - 1n);
    half = 1n << (s - 1n);
  }
  if (biased === 0 && rem !== 0n) raise(UFC);
  if (roundsUp(rounding, sign, (intMant & 1n) === 1n, rem, half)) {
    intMant++;
    if (intMant === 1n << big(fmt.f)) biased = 1;
    if (intMant === 1n << big(fmt.f + 1)) {
      biased++;
      intMant >>= 1n;
    }
  }
  if (rem !== 0n && rounding === Rounding.Odd) intMant |= 1n;
  if (!ahp) {
    if (biased >= (1 << fmt.e) - 1) {
      raise(OFC | IXC);
      const toInf = rounding === Rounding.TieEven || rounding === Rounding.TieAway || (rounding === Rounding.PosInf && sign === 0) || (rounding === Rounding.NegInf && sign === 1);
      return toInf ? fpInfinity(sign, fmt) : fpMaxNormal(sign, fmt);
    }
  } else if (biased >= 1 << fmt.e) {
    raise(IOC);
    return fpZero(sign, fmt) | ((1n << big(fmt.bits - 1)) - 1n);
  }
  if (rem !== 0n) raise(IXC);
  return fpZero(sign, fmt) | (big(biased) << big(fmt.f)) | (intMant & ((1n << big(fmt.f)) - 1n));
}

/** FPRound with the FPCR's rounding mode and FZ (single and double arithmetic). */
export function roundFpcr(sign: number, mant: bigint, exp: number, fmt: FpFormat, fpcr: number): bigint {
  return round(sign, mant, exp, fmt, fpcrRounding(fpcr), (fpcr & FPCR_FZ) !== 0);
}

/** FZ applies to single and double operands (half precision has FZ16, not implemented). */
export function flushes(fmt: FpFormat, fpcr: number): boolean {
  return fmt.bits !== 16 && (fpcr & FPCR_FZ) !== 0;
}
