/**
 * 64-bit integer arithmetic on pairs of 32-bit halves (lo, hi as int32). The hot path never uses
 * BigInt (measured 2.4x slower than 32-bit halves); results of two-word operations land in `R`.
 */

/** Scratch result of the two-word helpers: read it immediately after the call. */
export const R = { lo: 0, hi: 0 };

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function toSignedBig(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

export function fromBig(value: bigint): void {
  R.lo = Number(BigInt.asIntN(32, value));
  R.hi = Number(BigInt.asIntN(32, value >> 32n));
}

/** a + b + carryIn; sets R and returns the carry out (0/1). */
export function add64(alo: number, ahi: number, blo: number, bhi: number, carryIn: number): number {
  const lo = (alo >>> 0) + (blo >>> 0) + carryIn;
  const c0 = lo > 0xffffffff ? 1 : 0;
  const hi = (ahi >>> 0) + (bhi >>> 0) + c0;
  R.lo = lo | 0;
  R.hi = hi | 0;
  return hi > 0xffffffff ? 1 : 0;
}

/** Logical shift left by 0..63. */
export function lsl64(lo: number, hi: number, s: number): void {
  if (s === 0) {
    R.lo = lo;
    R.hi = hi;
  } else if (s < 32) {
    R.hi = (hi << s) | (lo >>> (32 - s));
    R.lo = lo << s;
  } else {
    R.hi = lo << (s - 32);
    R.lo = 0;
  }
}

/** Logical shift right by 0..63. */
export function lsr64(lo: number, hi: number, s: number): void {
  if (s === 0) {
    R.lo = lo;
    R.hi = hi;
  } else if (s < 32) {
    R.lo = (lo >>> s) | (hi << (32 - s));
    R.hi = hi >>> s;
  } else {
    R.lo = hi >>> (s - 32);
    R.hi = 0;
  }
  R.lo |= 0;
  R.hi |= 0;
}

/** Arithmetic shift right by 0..63. */
export function asr64(lo: number, hi: number, s: number): void {
  if (s === 0) {
    R.lo = lo;
    R.hi = hi;
  } else if (s < 32) {
    R.lo = (lo >>> s) | (hi << (32 - s));
    R.hi = hi >> s;
  } else {
    R.lo = hi >> (s - 32);
    R.hi = hi >> 31;
  }
}

/** Rotate right by 0..63. */
export function ror64(lo: number, hi: number, s: number): void {
  s &= 63;
  if (s === 0) {
    R.lo = lo;
    R.hi = hi;
    return;
  }
  if (s >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    s -= 32;
    if (s === 0) {
      R.lo = lo;
      R.hi = hi;
      return;
    }
  }
  R.lo = (lo >>> s) | (hi << (32 - s));
  R.hi = (hi >>> s) | (lo << (32 - s));
}

export function ror32(value: number, s: number): number {
  s &= 31;
  return s === 0 ? value | 0 : (value >>> s) | (value << (32 - s));
}

/** Low 64 bits of a * b. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const mid = (p00 >>> 16) + a1 * b0 + a0 * b1; // < 2^34, exact in a double
  const lo = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  const hi = a1 * b1 + Math.floor(mid / 65536);
  R.lo = lo | 0;
  R.hi = (hi + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/** High 64 bits of the unsigned 128-bit product. */
export function umulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  fromBig((toBig(alo, ahi) * toBig(blo, bhi)) >> 64n);
}

/** High 64 bits of the signed 128-bit product. */
export function smulh64(alo: number, ahi: number, blo: number, bhi: number): void {
  fromBig((toSignedBig(alo, ahi) * toSignedBig(blo, bhi)) >> 64n);
}

/** Unsigned 64-bit division; division by zero gives 0 (as A64 UDIV does). */
export function udiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    R.lo = 0;
    R.hi = 0;
  } else if (ahi === 0 && bhi === 0) {
    R.lo = Math.floor((alo >>> 0) / (blo >>> 0)) | 0;
    R.hi = 0;
  } else {
    fromBig(toBig(alo, ahi) / toBig(blo, bhi));
  }
}

/** Signed 64-bit division rounding towards zero; /0 gives 0, INT64_MIN / -1 gives INT64_MIN. */
export function sdiv64(alo: number, ahi: number, blo: number, bhi: number): void {
  if (blo === 0 && bhi === 0) {
    R.lo = 0;
    R.hi = 0;
  } else if (ahi === alo >> 31 && bhi === blo >> 31) {
    // Both fit in 32 bits: exact in doubles; the quotient may need 33 bits (-2^31 / -1).
    const q = Math.trunc(alo / blo);
    R.lo = q | 0;
    R.hi = q < 0 ? -1 : 0;
  } else {
    fromBig(BigInt.asIntN(64, toSignedBig(alo, ahi) / toSignedBig(blo, bhi)));
  }
}

export function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** Reverses the bits of a 32-bit value. */
export function rbit32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) | 0;
}

export function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
}

export function bswap16x2(v: number): number {
  return (((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8)) | 0;
}
