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

/** x * y - p exactly, for p = x * y rounded (Dekker's product; no overflow or underflow). */
function productError(x: number, y: number, p: number): number {
  let c = SPLIT * x;
  const xh = c - (c - x);
  const xl = x - xh;
  c = SPLIT * y;
  const yh = c - (c - y);
  const yl = y - yh;
  return xh * yh - p + xh * yl + xl * yh + xl * yl;
}

/** Whether x * y === p exactly, or null when the check could overflow or underflow. */
function productExact(x: number, y: number, p: number): boolean | null {
  const ap = Math.abs(p);
  if (!(Math.abs(x) < 2 ** 995 && Math.abs(y) < 2 ** 995 && ap > 2 ** -900 && ap < 2 ** 1000)) return null;
  return productError(x, y, p) === 0;
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

const oddView = new Float64Array(1);
const oddWords = new Uint32Array(oddView.buffer);

/** v, made odd (one ulp towards the discarded part r) when r is not 0: round to odd. */
function roundToOdd(v: number, r: number): number {
  if (r === 0) return v;
  oddView[0] = v;
  if (oddWords[0]! & 1) return v;
  // Even and inexact: the neighbour towards the exact value is odd.
  const up = r > 0 === v > 0;
  const lo = oddWords[0]!;
  if (up) {
    oddWords[0] = lo + 1;
    if (lo === 0xffffffff) oddWords[1] = oddWords[1]! + 1;
  } else {
    oddWords[0] = lo - 1;
    if (lo === 0) oddWords[1] = oddWords[1]! - 1;
  }
  return oddView[0]!;
}

/**
 * a + b * c for doubles, rounded once (Boldo and Melquiond, "Emulation of FMA and correctly
 * rounded sums: proved algorithms using rounding to odd", 2008): b * c = p + e exactly (Dekker),
 * a + p = th + tl exactly (TwoSum), then RN(th + RO(tl + e)). Away from underflow and overflow only.
 */
export function fma64(a: number, b: number, c: number): number {
  const p = b * c;
  const ap = Math.abs(p);
  if (!(ap > 2 ** -900 && ap < 2 ** 1000 && Math.abs(b) < 2 ** 995 && Math.abs(c) < 2 ** 995)) return NaN;
  const aa = Math.abs(a);
  if (!(aa < 2 ** 1000 && (aa > 2 ** -900 || a === 0))) return NaN;
  const e = productError(b, c, p);
  const th = a + p;
  let bv = th - a;
  const tl = a - (th - bv) + (p - bv);
  const s = tl + e;
  bv = s - tl;
  const r = tl - (s - bv) + (e - bv);
  const v = roundToOdd(s, r);
  const z = th + v;
  if (!(Math.abs(z) > 2 ** -900 && Math.abs(z) < 2 ** 1000)) return NaN;
  bv = z - th;
  const w = th - (z - bv) + (v - bv);
  if (r !== 0 || w !== 0) raise(IXC);
  return z;
}

/**
 * a + b * c for singles: the product of singles is exact in a double, the sum rounded to odd in
 * 53 bits (TwoSum, then the odd neighbour when inexact) and then to 24 by Math.fround is correctly
 * rounded (53 >= 24 + 2), and on the right side of the tininess threshold.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = b * c;
  const s = a + p;
  if (s - s !== 0) return NaN;
  const bv = s - a;
  const r = a - (s - bv) + (p - bv);
  const v = roundToOdd(s, r);
  const f = Math.fround(v);
  if (!(Math.abs(v) >= MIN32 && Math.abs(f) < Infinity)) return v === 0 && r === 0 ? v : NaN;
  if (r !== 0 || f !== v) raise(IXC);
  return f;
}
