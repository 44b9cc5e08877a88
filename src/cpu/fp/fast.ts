import { FPCR_FZ, IXC, raise } from './core.js';

/**
 * Fast paths for round-to-nearest-even without flushing (the FPCR most code runs with): JS
 * double arithmetic is IEEE binary64 RNE, so a double result is correct as it is, and a single
 * result rounded from it (Math.fround) is correct for +, -, *, / and sqrt (53 >= 2 * 24 + 2: the
 * double rounding is innocuous). Each returns NaN when the exact path must decide (NaN operands
 * or result, infinities, tiny results, overflow), else the result, with IXC raised when inexact
 * (found with error-free transformations).
 */

/** FPCR bits that send every operation to the exact path: RMode != RNE, FZ. */
export const SLOW_FPCR = FPCR_FZ | (3 << 22);

const MIN64 = 2 ** -1022;
const MIN32 = 2 ** -126;
const SPLIT = 134217729; // 2^27 + 1

/** Whether x * y === p exactly (Dekker), or null when the check could overflow or underflow. */
function productExact(x: number, y: number, p: number): boolean | null {
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  const ap = Math.abs(p);
  if (!(ax < 2 ** 995 && ay < 2 ** 995 && ap > 2 ** -900 && ap < 2 ** 1000)) return null;
  let c = SPLIT * x;
  const xh = c - (c - x);
  const xl = x - xh;
  c = SPLIT * y;
  const yh = c - (c - y);
  const yl = y - yh;
  const err = xh * yh - p + xh * yl + xl * yh + xl * yl;
  return err === 0;
}

function sumExact(a: number, b: number, s: number): boolean {
  const bv = s - a;
  return a - (s - bv) + (b - bv) === 0;
}

export function add64(a: number, b: number): number {
  const r = a + b;
  if (r - r !== 0) return NaN;
  if (!sumExact(a, b, r)) raise(IXC);
  return r;
}

export function add32(a: number, b: number): number {
  const r = a + b;
  const f = Math.fround(r);
  if (f !== 0 && !(Math.abs(f) >= MIN32 && Math.abs(f) < Infinity)) return NaN;
  if (f !== r || !sumExact(a, b, r)) raise(IXC);
  return f;
}

export function mul64(a: number, b: number): number {
  const r = a * b;
  if (r === 0) return a === 0 || b === 0 ? r : NaN;
  if (!(Math.abs(r) > MIN64 && Math.abs(r) < Infinity)) return NaN;
  const exact = productExact(a, b, r);
  if (exact === null) return NaN;
  if (!exact) raise(IXC);
  return r;
}

export function mul32(a: number, b: number): number {
  const r = a * b; // exact: 48 significant bits
  const f = Math.fround(r);
  if (r === 0) return r - r === 0 ? r : NaN;
  if (!(Math.abs(r) >= MIN32 && Math.abs(f) < Infinity)) return NaN;
  if (f !== r) raise(IXC);
  return f;
}

export function div64(a: number, b: number): number {
  const q = a / b;
  if (a === 0 && b !== 0 && b - b === 0) return q;
  if (!(Math.abs(q) > MIN64 && Math.abs(q) < Infinity)) return NaN;
  const exact = productExact(q, b, a);
  if (exact === null) return NaN;
  if (!exact) raise(IXC);
  return q;
}

export function div32(a: number, b: number): number {
  const q = a / b;
  if (a === 0 && b !== 0 && b - b === 0) return q;
  if (!(Math.abs(q) > MIN32)) return NaN;
  const f = Math.fround(q);
  if (!(Math.abs(f) < Infinity)) return NaN;
  if (f * b !== a) raise(IXC); // f * b is exact in double
  return f;
}

export function sqrt64(a: number): number {
  if (!(a > 0 && a < Infinity)) return a === 0 ? a : NaN;
  const r = Math.sqrt(a);
  const exact = productExact(r, r, a);
  if (exact === null) return NaN;
  if (!exact) raise(IXC);
  return r;
}

export function sqrt32(a: number): number {
  if (!(a > 0 && a < Infinity)) return a === 0 ? a : NaN;
  const f = Math.fround(Math.sqrt(a));
  if (f * f !== a) raise(IXC);
  return f;
}

/** a + b * c for doubles when the product is exact (else NaN: the exact path rounds once). */
export function fma64(a: number, b: number, c: number): number {
  const p = b * c;
  if (p === 0 || !(Math.abs(p) > MIN64)) return NaN;
  if (productExact(b, c, p) !== true) return NaN;
  return add64(a, p);
}

/** a + b * c for singles when the double sum is exact (the product of singles always is). */
export function fma32(a: number, b: number, c: number): number {
  const p = b * c;
  const s = a + p;
  if (s - s !== 0 || !sumExact(a, p, s)) return NaN;
  const f = Math.fround(s);
  if (f !== 0 && !(Math.abs(s) >= MIN32 && Math.abs(f) < Infinity)) return NaN;
  if (f === 0 && s !== 0) return NaN;
  if (f !== s) raise(IXC);
  return f;
}
