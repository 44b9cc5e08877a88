import { CRC32_TABLE, CRC32C_TABLE } from '../../common/crc32.js';
import type { Cpu } from '../cpu.js';
import { NEXT, type Insn } from '../insn.js';
import { R, asr64, bswap16x2, bswap32, clz64, lsl64, lsr64, mul64, rbit32, ror32, ror64, udiv64 } from '../int64.js';

/**
 * Executors of data processing (1, 2 and 3 source): bit and byte reversal, leading zero/sign
 * counts, division, shifts by register, CRC32/CRC32C and multiplies. Fields: d, n, m, a
 * registers; u the CRC table offset.
 */

// ---- 1 source ----

export function rbit64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]!;
  const hi = x[i.n + 1]!;
  x[i.d] = rbit32(hi);
  x[i.d + 1] = rbit32(lo);
  return NEXT;
}

export function rbit32x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = rbit32(x[i.n]!);
  x[i.d + 1] = 0;
  return NEXT;
}

export function rev16_64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]!;
  const hi = x[i.n + 1]!;
  x[i.d] = bswap16x2(lo);
  x[i.d + 1] = bswap16x2(hi);
  return NEXT;
}

export function rev16_32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = bswap16x2(x[i.n]!);
  x[i.d + 1] = 0;
  return NEXT;
}

/** REV32 (64-bit): bytes reversed within each word. */
export function rev32_64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]!;
  const hi = x[i.n + 1]!;
  x[i.d] = bswap32(lo);
  x[i.d + 1] = bswap32(hi);
  return NEXT;
}

/** REV (32-bit). */
export function rev32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = bswap32(x[i.n]!);
  x[i.d + 1] = 0;
  return NEXT;
}

/** REV (64-bit, REV64). */
export function rev64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]!;
  const hi = x[i.n + 1]!;
  x[i.d] = bswap32(hi);
  x[i.d + 1] = bswap32(lo);
  return NEXT;
}

export function clz64x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = clz64(x[i.n]!, x[i.n + 1]!);
  x[i.d + 1] = 0;
  return NEXT;
}

export function clz32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = Math.clz32(x[i.n]!);
  x[i.d + 1] = 0;
  return NEXT;
}

/** CLS: leading bits equal to the sign bit, not counting the sign bit. */
export function cls64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const hi = x[i.n + 1]!;
  const sign = hi >> 31;
  x[i.d] = clz64(x[i.n]! ^ sign, hi ^ sign) - 1;
  x[i.d + 1] = 0;
  return NEXT;
}

export function cls32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const v = x[i.n]!;
  x[i.d] = Math.clz32(v ^ (v >> 31)) - 1;
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- 2 source: division ----

/**
 * Unsigned 64-bit quotient of (ahi:alo) / (bhi:blo) into R; 0 for a zero divisor. Divisors that
 * fit in 32 bits (the common case) use exact double arithmetic, 16 quotient bits at a time.
 */
export function udiv64Fast(alo: number, ahi: number, blo: number, bhi: number): void {
  if (bhi !== 0) {
    udiv64(alo, ahi, blo, bhi); // quotient < 2^32; rare: BigInt
    return;
  }
  const b = blo >>> 0;
  if (b === 0) {
    R.lo = 0;
    R.hi = 0;
    return;
  }
  const ah = ahi >>> 0;
  const al = alo >>> 0;
  const qh = Math.floor(ah / b);
  let r = ah - qh * b;
  let t = r * 65536 + (al >>> 16); // < 2^48: exact
  const q1 = Math.floor(t / b);
  r = t - q1 * b;
  t = r * 65536 + (al & 0xffff);
  const q0 = Math.floor(t / b);
  R.lo = (q1 * 65536 + q0) | 0;
  R.hi = qh | 0;
}

export function udiv64x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  udiv64Fast(x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

/** Signed division through the unsigned one: |INT64_MIN| is 2^63 unsigned, so INT64_MIN / -1 wraps to INT64_MIN. */
export function sdiv64x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  let alo = x[i.n]!;
  let ahi = x[i.n + 1]!;
  let blo = x[i.m]!;
  let bhi = x[i.m + 1]!;
  const negative = (ahi ^ bhi) < 0;
  if (ahi < 0) {
    ahi = alo === 0 ? -ahi | 0 : ~ahi;
    alo = -alo | 0;
  }
  if (bhi < 0) {
    bhi = blo === 0 ? -bhi | 0 : ~bhi;
    blo = -blo | 0;
  }
  udiv64Fast(alo, ahi, blo, bhi);
  if (negative) {
    const lo = R.lo;
    x[i.d] = -lo | 0;
    x[i.d + 1] = lo === 0 ? -R.hi | 0 : ~R.hi;
  } else {
    x[i.d] = R.lo;
    x[i.d + 1] = R.hi;
  }
  return NEXT;
}

export function udiv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const b = x[i.m]! >>> 0;
  x[i.d] = b === 0 ? 0 : Math.floor((x[i.n]! >>> 0) / b) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function sdiv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const b = x[i.m]!;
  x[i.d] = b === 0 ? 0 : Math.trunc(x[i.n]! / b) | 0; // -2^31 / -1 = 2^31 wraps to -2^31
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- 2 source: shifts by register (amount modulo the data size) ----

export function lslv64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  lsl64(x[i.n]!, x[i.n + 1]!, x[i.m]! & 63);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function lsrv64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  lsr64(x[i.n]!, x[i.n + 1]!, x[i.m]! & 63);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function asrv64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  asr64(x[i.n]!, x[i.n + 1]!, x[i.m]! & 63);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function rorv64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  ror64(x[i.n]!, x[i.n + 1]!, x[i.m]! & 63);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function lslv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! << x[i.m]!; // JS shifts take the count modulo 32
  x[i.d + 1] = 0;
  return NEXT;
}

export function lsrv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! >>> x[i.m]!) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function asrv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! >> x[i.m]!;
  x[i.d + 1] = 0;
  return NEXT;
}

export function rorv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = ror32(x[i.n]!, x[i.m]!);
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- 2 source: CRC32 (polynomial 0x04C11DB7) and CRC32C (0x1EDC6F41), bit-reflected ----

/** Byte-at-a-time tables for the reflected polynomials: CRC32 at 0, CRC32C at 256 (int32 view). */
const CRC_TABLE = Int32Array.from([...CRC32_TABLE, ...CRC32C_TABLE]);

function crcWord(acc: number, v: number, off: number): number {
  const t = CRC_TABLE;
  acc ^= v;
  acc = t[off + (acc & 0xff)]! ^ (acc >>> 8);
  acc = t[off + (acc & 0xff)]! ^ (acc >>> 8);
  acc = t[off + (acc & 0xff)]! ^ (acc >>> 8);
  return t[off + (acc & 0xff)]! ^ (acc >>> 8);
}

export function crc32b(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const acc = x[i.n]! ^ (x[i.m]! & 0xff);
  x[i.d] = CRC_TABLE[i.u + (acc & 0xff)]! ^ (acc >>> 8);
  x[i.d + 1] = 0;
  return NEXT;
}

export function crc32h(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const t = CRC_TABLE;
  let acc = x[i.n]! ^ (x[i.m]! & 0xffff);
  acc = t[i.u + (acc & 0xff)]! ^ (acc >>> 8);
  x[i.d] = t[i.u + (acc & 0xff)]! ^ (acc >>> 8);
  x[i.d + 1] = 0;
  return NEXT;
}

export function crc32w(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = crcWord(x[i.n]!, x[i.m]!, i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

export function crc32x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const hi = x[i.m + 1]!;
  x[i.d] = crcWord(crcWord(x[i.n]!, x[i.m]!, i.u), hi, i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- 3 source ----

/** MUL (MADD with Ra = ZR). */
export function mul64x(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  mul64(x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function madd64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  mul64(x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!);
  const lo = (x[i.a]! >>> 0) + (R.lo >>> 0);
  const hi = (x[i.a + 1]! + R.hi + (lo > 0xffffffff ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function msub64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  mul64(x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!);
  const lo = (x[i.a]! >>> 0) - (R.lo >>> 0);
  const hi = (x[i.a + 1]! - R.hi - (lo < 0 ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function mul32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = Math.imul(x[i.n]!, x[i.m]!);
  x[i.d + 1] = 0;
  return NEXT;
}

export function madd32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.a]! + Math.imul(x[i.n]!, x[i.m]!)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function msub32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.a]! - Math.imul(x[i.n]!, x[i.m]!)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

/** High 32 bits of the unsigned product of two uint32 values, with exact double arithmetic. */
function mulHiU32(a: number, b: number): number {
  const t = (a & 0xffff) * b; // < 2^48
  const u = (a >>> 16) * b + Math.floor(t / 65536); // < 2^48 + 2^32
  return Math.floor(u / 65536);
}

/** Product of two uint32 values, (hi, lo) in R. */
function mulU32(a: number, b: number): void {
  R.lo = Math.imul(a, b);
  R.hi = mulHiU32(a >>> 0, b >>> 0) | 0;
}

/** Xa + Wn * Wm (unsigned); sub selects Xa - product. */
function mulAddLong(cpu: Cpu, i: Insn, signed: boolean, sub: boolean): void {
  const x = cpu.x;
  const n = x[i.n]!;
  const m = x[i.m]!;
  if (signed) mul64(n, n >> 31, m, m >> 31);
  else mulU32(n, m);
  const alo = x[i.a]! >>> 0;
  const ahi = x[i.a + 1]!;
  if (sub) {
    const lo = alo - (R.lo >>> 0);
    x[i.d + 1] = (ahi - R.hi - (lo < 0 ? 1 : 0)) | 0;
    x[i.d] = lo | 0;
  } else {
    const lo = alo + (R.lo >>> 0);
    x[i.d + 1] = (ahi + R.hi + (lo > 0xffffffff ? 1 : 0)) | 0;
    x[i.d] = lo | 0;
  }
}

export function smaddl(cpu: Cpu, i: Insn): number {
  mulAddLong(cpu, i, true, false);
  return NEXT;
}

export function smsubl(cpu: Cpu, i: Insn): number {
  mulAddLong(cpu, i, true, true);
  return NEXT;
}

export function umaddl(cpu: Cpu, i: Insn): number {
  mulAddLong(cpu, i, false, false);
  return NEXT;
}

export function umsubl(cpu: Cpu, i: Insn): number {
  mulAddLong(cpu, i, false, true);
  return NEXT;
}

/** High 64 bits of the unsigned 128-bit product, without BigInt; result in R. */
export function umulh64Fast(alo: number, ahi: number, blo: number, bhi: number): void {
  const al = alo >>> 0;
  const ah = ahi >>> 0;
  const bl = blo >>> 0;
  const bh = bhi >>> 0;
  // (ah.2^32 + al)(bh.2^32 + bl): sum the partial products above bit 64.
  const mid = mulHiU32(al, bl) + (Math.imul(al, bh) >>> 0) + (Math.imul(ah, bl) >>> 0); // < 3.2^32
  const top = (Math.imul(ah, bh) >>> 0) + mulHiU32(al, bh) + mulHiU32(ah, bl) + Math.floor(mid / 4294967296);
  R.lo = top | 0;
  R.hi = (mulHiU32(ah, bh) + Math.floor(top / 4294967296)) | 0;
}

export function umulh(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  umulh64Fast(x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

/** Signed high half: the unsigned one minus (a < 0 ? b : 0) and (b < 0 ? a : 0), modulo 2^64. */
export function smulh(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const alo = x[i.n]!;
  const ahi = x[i.n + 1]!;
  const blo = x[i.m]!;
  const bhi = x[i.m + 1]!;
  umulh64Fast(alo, ahi, blo, bhi);
  let lo = R.lo;
  let hi = R.hi;
  if (ahi < 0) {
    const d = (lo >>> 0) - (blo >>> 0);
    hi = (hi - bhi - (d < 0 ? 1 : 0)) | 0;
    lo = d | 0;
  }
  if (bhi < 0) {
    const d = (lo >>> 0) - (alo >>> 0);
    hi = (hi - ahi - (d < 0 ? 1 : 0)) | 0;
    lo = d | 0;
  }
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}
