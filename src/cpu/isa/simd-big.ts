import type { Cpu } from '../cpu.js';
import { type Insn, NEXT } from '../insn.js';
import { lane, lane64, setTmp, setTmp64, tmp, writeTmp } from './simd-common.js';
import { make } from './simd-int.js';
import { saturation } from './simd-lanes.js';

/**
 * The lane engine of the saturating, halving, rounding, doubling, by-element and polynomial
 * integer Advanced SIMD instructions (simd-sat.ts, simd-elem.ts). Lanes are BigInts, so one
 * description of each operation covers every element size up to 64 bits (and 128-bit PMULL
 * products) exactly, as the Arm ARM pseudocode computes them with unbounded integers; the
 * result is truncated to its lane when stored. Saturation sets FPSR.QC.
 *
 * Insn fields: d, n, m = register byte offsets; s = log2 of the operation's element size (the
 * narrow side of a widening or narrowing form); immHi = lane count (1 for scalar forms);
 * t = first lane of the narrow side (0, or the lane count for the "2" forms); u = operation
 * (index into OPS); a = where the second operand comes from (LANE, ELEMENT, IMMEDIATE);
 * imm = the element index or the immediate.
 */

/** An operation on one lane: a, b and the destination's old lane `acc`, all unsigned. */
export type LaneFn = (a: bigint, b: bigint, acc: bigint, bits: number) => bigint;

const OPS: LaneFn[] = [];

/** Registers an operation; decoders keep the returned index in Insn.u. */
export function laneOp(fn: LaneFn): number {
  return OPS.push(fn) - 1;
}

/** The second operand: Vm's lane e, Vm's lane `imm` (by element), or the immediate. */
export const LANE = 0;
export const ELEMENT = 1;
export const IMMEDIATE = 2;

export const sx = (v: bigint, bits: number): bigint => BigInt.asIntN(bits, v);

/** Saturates to the signed range of `bits` bits (SignedSatQ), noting saturation for QC. */
export function satS(v: bigint, bits: number): bigint {
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (v > max) {
    saturation.hit = true;
    return max;
  }
  if (v < -max - 1n) {
    saturation.hit = true;
    return -max - 1n;
  }
  return v;
}

/** Saturates to the unsigned range of `bits` bits (UnsignedSatQ). */
export function satU(v: bigint, bits: number): bigint {
  const max = (1n << BigInt(bits)) - 1n;
  if (v > max || v < 0n) {
    saturation.hit = true;
    return v < 0n ? 0n : max;
  }
  return v;
}

/** Lane e of size 2^log bytes (log <= 3), unsigned. */
export function laneBig(cpu: Cpu, reg: number, e: number, log: number): bigint {
  return log === 3 ? lane64(cpu, reg, e) : BigInt(lane(cpu, reg, e, log));
}

/** Writes lane e of size 2^log bytes (log <= 4) of `tmp`, truncating `v`. */
export function putBig(e: number, log: number, v: bigint): void {
  if (log === 4) {
    setTmp64(2 * e, BigInt.asUintN(64, v));
    setTmp64(2 * e + 1, BigInt.asUintN(64, v >> 64n));
  } else if (log === 3) setTmp64(e, BigInt.asUintN(64, v));
  else setTmp(e, log, Number(BigInt.asUintN(8 << log, v)));
}

export function finishQc(cpu: Cpu): void {
  if (saturation.hit) {
    saturation.hit = false;
    cpu.fpsr |= 1 << 27; // QC
  }
}

/** An Insn for the executors below: `count` lanes of 2^log bytes, operation `op`. */
export function laneInsn(exec: (cpu: Cpu, i: Insn) => number, word: number, log: number, count: number, op: number): Insn {
  const insn = make(exec, word, log, 0);
  insn.immHi = count;
  insn.u = op;
  return insn;
}

function second(cpu: Cpu, i: Insn, e: number, log: number): bigint {
  if (i.a === LANE) return laneBig(cpu, i.m, e, log);
  return i.a === ELEMENT ? laneBig(cpu, i.m, i.imm, log) : BigInt(i.imm);
}

/** Same-size lanes: Vd[e] = op(Vn[e], second, Vd[e]); count << s bytes written, the rest zeroed. */
export function sameExec(cpu: Cpu, i: Insn): number {
  const op = OPS[i.u]!;
  const log = i.s;
  const bits = 8 << log;
  for (let e = 0; e < i.immHi; e++) putBig(e, log, op(laneBig(cpu, i.n, e, log), second(cpu, i, e, log), laneBig(cpu, i.d, e, log), bits));
  finishQc(cpu);
  writeTmp(cpu, i.d, i.immHi << log);
  return NEXT;
}

/** Widening: Vd[e] (2^(s+1) bytes) = op(Vn[t + e], second, Vd[e]); bits = the narrow size. */
export function longExec(cpu: Cpu, i: Insn): number {
  const op = OPS[i.u]!;
  const log = i.s;
  const bits = 8 << log;
  for (let e = 0; e < i.immHi; e++) {
    const b = i.a === LANE ? laneBig(cpu, i.m, i.t + e, log) : second(cpu, i, e, log);
    const acc = log === 3 ? 0n : laneBig(cpu, i.d, e, log + 1);
    putBig(e, log + 1, op(laneBig(cpu, i.n, i.t + e, log), b, acc, bits));
  }
  finishQc(cpu);
  writeTmp(cpu, i.d, i.immHi << (log + 1));
  return NEXT;
}

/**
 * Narrowing: Vd[t + e] (2^s bytes) = op(Vn[e] of twice the size, immediate); bits = the narrow
 * size. The "2" forms (t > 0) keep the low half of Vd.
 */
export function narrowExec(cpu: Cpu, i: Insn): number {
  const op = OPS[i.u]!;
  const log = i.s;
  const bits = 8 << log;
  if (i.t) tmp.set(cpu.vb.subarray(i.d, i.d + 8));
  const b = BigInt(i.imm);
  for (let e = 0; e < i.immHi; e++) putBig(i.t + e, log, op(laneBig(cpu, i.n, e, log + 1), b, 0n, bits));
  finishQc(cpu);
  writeTmp(cpu, i.d, i.t ? 16 : i.immHi << log);
  return NEXT;
}
