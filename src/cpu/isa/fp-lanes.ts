import type { Cpu } from '../cpu.js';
import { fpFlags, type FpFormat, F32, F64, FPCR_FZ } from '../fp/core.js';
import { SLOW_FPCR } from '../fp/fast.js';
import { tmp, tmpW, writeTmp } from './simd-common.js';

/**
 * Lane loops shared by the scalar and vector floating-point executors. An operation is a pair:
 * the exact function on bit patterns (src/cpu/fp) and, optionally, a fast function on JS numbers
 * for RNE without FZ (fp/fast.ts) that returns NaN to defer to the exact one. Results are built
 * in `tmp` and written at once (a destination may be a source); the raised flags go into FPSR.
 *
 * Register operands are byte offsets into cpu.vb; `log` is 2 (single) or 3 (double).
 */

export interface FpBinary {
  readonly exact: (a: bigint, b: bigint, fmt: FpFormat, fpcr: number) => bigint;
  readonly fast32?: (a: number, b: number) => number;
  readonly fast64?: (a: number, b: number) => number;
}

export interface FpUnary {
  readonly exact: (a: bigint, fmt: FpFormat, fpcr: number) => bigint;
  readonly fast32?: (a: number) => number;
  readonly fast64?: (a: number) => number;
}

export interface FpTernary {
  /** addend + op1 * op2 style: (a = accumulator lane, b, c). */
  readonly exact: (a: bigint, b: bigint, c: bigint, fmt: FpFormat, fpcr: number) => bigint;
  readonly fast32?: (a: number, b: number, c: number) => number;
  readonly fast64?: (a: number, b: number, c: number) => number;
}

export const tmpF32 = new Float32Array(tmp.buffer, 0, 16);
export const tmpF64 = new Float64Array(tmp.buffer, 0, 8);

export function formatOf(log: number): FpFormat {
  return log === 3 ? F64 : F32;
}

/** Lane `e` of the register at byte offset `reg` as a bit pattern. */
export function bitsAt(cpu: Cpu, reg: number, e: number, log: number): bigint {
  if (log === 2) return BigInt(cpu.vw[(reg >>> 2) + e]!);
  if (log === 1) return BigInt(cpu.vh[(reg >>> 1) + e]!);
  const w = (reg >>> 2) + e * 2;
  return (BigInt(cpu.vw[w + 1]!) << 32n) | BigInt(cpu.vw[w]!);
}

/** Writes lane `e` of `tmp` from a bit pattern. */
export function setBits(e: number, log: number, bits: bigint): void {
  if (log === 2) tmpW[e] = Number(bits);
  else if (log === 1) new Uint16Array(tmp.buffer)[e] = Number(bits);
  else {
    tmpW[e * 2] = Number(bits & 0xffffffffn);
    tmpW[e * 2 + 1] = Number(bits >> 32n);
  }
}

export function valueAt(cpu: Cpu, reg: number, e: number, log: number): number {
  return log === 3 ? cpu.vview.getFloat64(reg + 8 * e, true) : cpu.vview.getFloat32(reg + 4 * e, true);
}

export function setValue(e: number, log: number, value: number): void {
  if (log === 3) tmpF64[e] = value;
  else tmpF32[e] = value;
}

/** Moves the flags the instruction raised into FPSR. */
export function commitFlags(cpu: Cpu): void {
  if (fpFlags.value !== 0) {
    cpu.fpsr |= fpFlags.value;
    fpFlags.value = 0;
  }
}

export function fastAllowed(cpu: Cpu): boolean {
  return (cpu.fpcr & SLOW_FPCR) === 0;
}

/** The FPCR's FZ alone (comparisons have no rounding). */
export function flushing(cpu: Cpu): boolean {
  return (cpu.fpcr & FPCR_FZ) !== 0;
}

/**
 * Lane `e` of op(Vn[e], Vm[e * mStep]) into tmp: `mStep` 1 for vectors, 0 for by-element (Vm
 * already offset to the element).
 */
export function binaryLane(cpu: Cpu, op: FpBinary, fast: boolean, n: number, m: number, e: number, me: number, log: number): void {
  if (fast) {
    const f = log === 3 ? op.fast64 : op.fast32;
    if (f) {
      const r = f(valueAt(cpu, n, e, log), valueAt(cpu, m, me, log));
      if (r === r) {
        setValue(e, log, r);
        return;
      }
    }
  }
  setBits(e, log, op.exact(bitsAt(cpu, n, e, log), bitsAt(cpu, m, me, log), formatOf(log), cpu.fpcr));
}

/** Vd = op(Vn, Vm) over `lanes` lanes, writing `bytes` bytes (scalar: the rest cleared). */
export function binaryLanes(cpu: Cpu, op: FpBinary, d: number, n: number, m: number, log: number, lanes: number, bytes: number, mStep: number): void {
  const fast = fastAllowed(cpu);
  for (let e = 0; e < lanes; e++) binaryLane(cpu, op, fast, n, m, e, e * mStep, log);
  writeTmp(cpu, d, bytes);
  commitFlags(cpu);
}

export function unaryLanes(cpu: Cpu, op: FpUnary, d: number, n: number, log: number, lanes: number, bytes: number): void {
  const fast = fastAllowed(cpu);
  const f = log === 3 ? op.fast64 : op.fast32;
  for (let e = 0; e < lanes; e++) {
    if (fast && f) {
      const r = f(valueAt(cpu, n, e, log));
      if (r === r) {
        setValue(e, log, r);
        continue;
      }
    }
    setBits(e, log, op.exact(bitsAt(cpu, n, e, log), formatOf(log), cpu.fpcr));
  }
  writeTmp(cpu, d, bytes);
  commitFlags(cpu);
}

/** Vd = op(A, Vn, Vm): A is Va for FMADD-style scalars, Vd itself for FMLA/FMLS. */
export function ternaryLanes(cpu: Cpu, op: FpTernary, d: number, a: number, n: number, m: number, log: number, lanes: number, bytes: number, mStep: number): void {
  const fast = fastAllowed(cpu);
  const f = log === 3 ? op.fast64 : op.fast32;
  const fmt = formatOf(log);
  for (let e = 0; e < lanes; e++) {
    const me = e * mStep;
    if (fast && f) {
      const r = f(valueAt(cpu, a, e, log), valueAt(cpu, n, e, log), valueAt(cpu, m, me, log));
      if (r === r) {
        setValue(e, log, r);
        continue;
      }
    }
    setBits(e, log, op.exact(bitsAt(cpu, a, e, log), bitsAt(cpu, n, e, log), bitsAt(cpu, m, me, log), fmt, cpu.fpcr));
  }
  writeTmp(cpu, d, bytes);
  commitFlags(cpu);
}

const cvt = new ArrayBuffer(8);
const cvtF64 = new Float64Array(cvt);
const cvtF32 = new Float32Array(cvt);
const cvtU32 = new Uint32Array(cvt);
const cvtU64 = new BigUint64Array(cvt);

/** op(a, b) on bit patterns, through the fast path when allowed (pairwise and across lanes). */
export function applyBinary(cpu: Cpu, op: FpBinary, fast: boolean, log: number, a: bigint, b: bigint): bigint {
  const f = log === 3 ? op.fast64 : op.fast32;
  if (fast && f) {
    let x: number;
    let y: number;
    if (log === 3) {
      cvtU64[0] = a;
      x = cvtF64[0]!;
      cvtU64[0] = b;
      y = cvtF64[0]!;
    } else {
      cvtU32[0] = Number(a);
      x = cvtF32[0]!;
      cvtU32[0] = Number(b);
      y = cvtF32[0]!;
    }
    const r = f(x, y);
    if (r === r) {
      if (log === 3) {
        cvtF64[0] = r;
        return cvtU64[0]!;
      }
      cvtF32[0] = r;
      return BigInt(cvtU32[0]!);
    }
  }
  return op.exact(a, b, formatOf(log), cpu.fpcr);
}
