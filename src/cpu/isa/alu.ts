import type { Cpu } from '../cpu.js';
import { R, add64 } from '../int64.js';

/**
 * a + b + carryIn on 64 bits with NZCV (AddWithCarry in the Arm pseudocode); result in R.
 * Subtraction is a + NOT(b) + 1: callers pass the inverted operand and carryIn = 1.
 */
export function addWithCarry64(cpu: Cpu, alo: number, ahi: number, blo: number, bhi: number, carryIn: number): void {
  cpu.cf = add64(alo, ahi, blo, bhi, carryIn);
  const hi = R.hi;
  cpu.nf = hi >>> 31;
  cpu.zf = (R.lo | hi) === 0 ? 1 : 0;
  cpu.vf = ((ahi ^ hi) & (bhi ^ hi)) >>> 31;
}

/** a + b + carryIn on 32 bits with NZCV; returns the result. */
export function addWithCarry32(cpu: Cpu, a: number, b: number, carryIn: number): number {
  const sum = (a >>> 0) + (b >>> 0) + carryIn;
  const r = sum | 0;
  cpu.cf = sum > 0xffffffff ? 1 : 0;
  cpu.nf = r >>> 31;
  cpu.zf = r === 0 ? 1 : 0;
  cpu.vf = ((a ^ r) & (b ^ r)) >>> 31;
  return r;
}

/** NZ from a logical result, C and V cleared (ANDS, BICS, TST). */
export function logicFlags64(cpu: Cpu, lo: number, hi: number): void {
  cpu.nf = hi >>> 31;
  cpu.zf = (lo | hi) === 0 ? 1 : 0;
  cpu.cf = 0;
  cpu.vf = 0;
}

export function logicFlags32(cpu: Cpu, r: number): void {
  cpu.nf = r >>> 31;
  cpu.zf = r === 0 ? 1 : 0;
  cpu.cf = 0;
  cpu.vf = 0;
}

/** ConditionHolds(cond) for the 4-bit condition field. */
export function conditionHolds(cpu: Cpu, cond: number): boolean {
  let result: boolean;
  switch (cond >>> 1) {
    case 0:
      result = cpu.zf === 1;
      break;
    case 1:
      result = cpu.cf === 1;
      break;
    case 2:
      result = cpu.nf === 1;
      break;
    case 3:
      result = cpu.vf === 1;
      break;
    case 4:
      result = cpu.cf === 1 && cpu.zf === 0;
      break;
    case 5:
      result = cpu.nf === cpu.vf;
      break;
    case 6:
      result = cpu.nf === cpu.vf && cpu.zf === 0;
      break;
    default:
      return true; // AL and NV both mean always
  }
  return (cond & 1) !== 0 ? !result : result;
}

/** Result of decodeBitMasks: wmask and tmask as (lo, hi) pairs. */
export interface BitMasks {
  wLo: number;
  wHi: number;
  tLo: number;
  tHi: number;
}

/**
 * DecodeBitMasks (Arm ARM shared pseudocode) for logical immediates and bitfield moves.
 * Returns null for reserved encodings (which make the instruction UNDEFINED).
 */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean, dataSize: number): BitMasks | null {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return null;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return null;
  if (len > 6 || (dataSize === 32 && len === 6)) return null;
  const levels = (1 << len) - 1;
  if (immediate && (imms & levels) === levels) return null;
  const s = imms & levels;
  const r = immr & levels;
  const diff = (s - r) & levels;
  const esize = 1 << len;
  const welem = ones(s + 1);
  const telem = ones(diff + 1);
  const wmask = replicate(rorElem(welem, r, esize), esize);
  const tmask = replicate(telem, esize);
  const mask64 = (1n << 64n) - 1n;
  const limit = dataSize === 32 ? (1n << 32n) - 1n : mask64;
  const w = wmask & limit;
  const t = tmask & limit;
  return {
    wLo: Number(BigInt.asIntN(32, w)),
    wHi: Number(BigInt.asIntN(32, w >> 32n)),
    tLo: Number(BigInt.asIntN(32, t)),
    tHi: Number(BigInt.asIntN(32, t >> 32n)),
  };
}

function ones(count: number): bigint {
  return (1n << BigInt(count)) - 1n;
}

function rorElem(value: bigint, shift: number, esize: number): bigint {
  if (shift === 0) return value;
  const mask = (1n << BigInt(esize)) - 1n;
  return ((value >> BigInt(shift)) | (value << BigInt(esize - shift))) & mask;
}

function replicate(elem: bigint, esize: number): bigint {
  let out = 0n;
  for (let i = 0; i < 64; i += esize) out |= elem << BigInt(i);
  return out;
}
