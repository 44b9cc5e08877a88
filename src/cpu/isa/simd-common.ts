import type { Cpu } from '../cpu.js';
import { takeSyncException } from '../exception-entry.js';
import { EC } from '../exceptions.js';
import { Insn } from '../insn.js';
import { Sys } from '../sysreg-state.js';

/**
 * Pieces shared by the SIMD&FP executors (simd-*.ts, fp-*.ts); docs/fp-simd.md describes the
 * state layout. Register operands in Insn fields are byte offsets into cpu.vb (register number
 * times 16), so an executor indexes any lane view with `(reg + lane * esize) >> log2(esize)`.
 */

/**
 * CPACR_EL1.FPEN: 0b11 never traps, 0b01 traps EL0 only, 0b00 and 0b10 trap EL0 and EL1. The
 * check comes before anything else the instruction does (CheckFPAdvSIMDEnabled64).
 */
export function fpTrapped(cpu: Cpu): boolean {
  const fpen = (cpu.sysLo(Sys.CPACR_EL1) >>> 20) & 3;
  return fpen !== 3 && (fpen !== 1 || cpu.el === 0);
}

/** The trap: EC 0x07, IL = 1, ISS = 0 (the COND fields are for AArch32 only). */
export function fpTrap(cpu: Cpu): number {
  return takeSyncException(cpu, EC.FP_ACCESS, 0);
}

/** An executor preceded by the FPEN check: every SIMD&FP instruction goes through it. */
export type SimdExec = (cpu: Cpu, i: Insn) => number;

const guarded = new Map<SimdExec, SimdExec>();

/** The FPEN-checked version of an executor (one wrapper per executor, shared by every Insn). */
export function checked(exec: SimdExec): SimdExec {
  let g = guarded.get(exec);
  if (g === undefined) {
    g = (cpu: Cpu, i: Insn): number => (fpTrapped(cpu) ? fpTrap(cpu) : exec(cpu, i));
    guarded.set(exec, g);
  }
  return g;
}

/** A SIMD&FP Insn: the executor behind the FPEN check. */
export function simdInsn(exec: SimdExec, word: number): Insn {
  return new Insn(checked(exec), word);
}

/** Byte offset of register `r` in cpu.vb. */
export function vreg(r: number): number {
  return (r & 31) << 4;
}

/** Clears bytes [from, 16) of the register at byte offset `reg` (scalar and 64-bit writes). */
export function clearFrom(cpu: Cpu, reg: number, from: number): void {
  cpu.vb.fill(0, reg + from, reg + 16);
}

/** Scratch for results built before they are written (the destination may be a source). */
export const tmp = new Uint8Array(64);
export const tmpH = new Uint16Array(tmp.buffer);
export const tmpW = new Uint32Array(tmp.buffer);

/** Reads lane `e` of size 2^`log` bytes (log <= 2) of the register at byte offset `reg`, unsigned. */
export function lane(cpu: Cpu, reg: number, e: number, log: number): number {
  switch (log) {
    case 0:
      return cpu.vb[reg + e]!;
    case 1:
      return cpu.vh[(reg >>> 1) + e]!;
    default:
      return cpu.vw[(reg >>> 2) + e]!;
  }
}

/** Reads 64-bit lane `e` as a BigInt (unsigned). */
export function lane64(cpu: Cpu, reg: number, e: number): bigint {
  const w = (reg >>> 2) + e * 2;
  return (BigInt(cpu.vw[w + 1]!) << 32n) | BigInt(cpu.vw[w]!);
}

/** Writes lane `e` of `tmp` (the result being built), any size up to 8 bytes. */
export function setTmp(e: number, log: number, value: number): void {
  switch (log) {
    case 0:
      tmp[e] = value;
      return;
    case 1:
      tmpH[e] = value;
      return;
    default:
      tmpW[e] = value;
  }
}

export function setTmp64(e: number, value: bigint): void {
  tmpW[e * 2] = Number(value & 0xffffffffn);
  tmpW[e * 2 + 1] = Number((value >> 32n) & 0xffffffffn);
}

/** Reads lane `e` of `tmp`, unsigned. */
export function tmpLane(e: number, log: number): number {
  return log === 0 ? tmp[e]! : log === 1 ? tmpH[e]! : tmpW[e]!;
}

/** Copies `bytes` (8 or 16) of `tmp` into the register at `reg`, zeroing the rest of it. */
export function writeTmp(cpu: Cpu, reg: number, bytes: number): void {
  cpu.vb.set(tmp.subarray(0, bytes), reg);
  if (bytes < 16) cpu.vb.fill(0, reg + bytes, reg + 16);
}

/** Sign-extends the low `bits` bits of `v` (bits <= 32). */
export function sext(v: number, bits: number): number {
  return bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
}
