import type { Cpu } from '../cpu.js';
import { entryOffset, tagCheckFails, tlbEntry } from '../fast-access.js';
import { ACC_NOCHECK, probe, scratch, slowLoadBytes, slowStoreBytes } from '../slow-access.js';

/**
 * Memory transfers of SIMD&FP registers: the same TLB fast path, tag checks and slow path
 * (fast-access.ts, slow-access.ts) as the integer loads and stores, for 1 to 16 bytes straight into or out of a
 * byte buffer (cpu.vb, or a staging buffer for pairs). `flags` are the slow path's ACC_* flags.
 */

function copyIn(dst: Uint8Array, dview: DataView, at: number, view: DataView, off: number, size: number): void {
  if ((size & 3) === 0) {
    for (let k = 0; k < size; k += 4) dview.setInt32(at + k, view.getInt32(off + k, true), true);
  } else {
    for (let k = 0; k < size; k++) dst[at + k] = view.getUint8(off + k);
  }
}

function copyOut(src: Uint8Array, sview: DataView, at: number, view: DataView, off: number, size: number): void {
  if ((size & 3) === 0) {
    for (let k = 0; k < size; k += 4) view.setInt32(off + k, sview.getInt32(at + k, true), true);
  } else {
    for (let k = 0; k < size; k++) view.setUint8(off + k, src[at + k]!);
  }
}

/** Loads `size` bytes (1..16) at (lo, hi) into `dst` at byte `at`. False on a fault (cpu.fault set). */
export function readInto(cpu: Cpu, lo: number, hi: number, size: number, flags: number, dst: Uint8Array, dview: DataView, at: number): boolean {
  const e = tlbEntry(cpu, lo, hi, cpu.rdBase, size);
  if (e >= 0) {
    const off = entryOffset(cpu, e, lo);
    if ((flags & ACC_NOCHECK) === 0 && tagCheckFails(cpu, e, off, lo, hi, size, false)) return false;
    copyIn(dst, dview, at, cpu.dtlb.view[e]!, off, size);
    return true;
  }
  if (!slowLoadBytes(cpu, lo, hi, size, flags)) return false;
  dst.set(scratch.subarray(0, size), at);
  return true;
}

/** Stores `size` bytes (1..16) of `src` from byte `at` to (lo, hi). False on a fault. */
export function writeFrom(cpu: Cpu, lo: number, hi: number, size: number, flags: number, src: Uint8Array, sview: DataView, at: number): boolean {
  const e = tlbEntry(cpu, lo, hi, cpu.wrBase, size);
  if (e >= 0) {
    const off = entryOffset(cpu, e, lo);
    if ((flags & ACC_NOCHECK) === 0 && tagCheckFails(cpu, e, off, lo, hi, size, true)) return false;
    copyOut(src, sview, at, cpu.dtlb.view[e]!, off, size);
    return true;
  }
  scratch.set(src.subarray(at, at + size));
  return slowStoreBytes(cpu, lo, hi, size, flags);
}

/** Register bytes: loads and stores of whole or partial V registers. */
export function readV(cpu: Cpu, lo: number, hi: number, size: number, flags: number, at: number): boolean {
  return readInto(cpu, lo, hi, size, flags, cpu.vb, cpu.vview, at);
}

export function writeV(cpu: Cpu, lo: number, hi: number, size: number, flags: number, at: number): boolean {
  return writeFrom(cpu, lo, hi, size, flags, cpu.vb, cpu.vview, at);
}

/**
 * Instructions made of several accesses (LDP/STP of Q registers, LD1..LD4 and ST1..ST4) are
 * tag-checked up front, as QEMU does (gen_mte_checkN): when the check is active (MTE on for the
 * EL, TCO clear, TBI on for the pointer's half, TCMA not matching) the pages are translated and
 * the granules checked before any element moves, so such a fault leaves memory and registers
 * untouched. QEMU's check covers ((total - 1) mod 32) + 1 bytes (its descriptor keeps 5 bits of
 * the size: 32 of a 64-byte LD4, 16 of a 48-byte LD3; measured with the random SIMD tests), so a
 * translation fault beyond them comes from the element that reaches it, after the earlier
 * elements were loaded or stored; Tagvisor does the same. Elements outside the probed bytes stay
 * tag-checked, as the architecture requires (QEMU does not check them).
 * With SCTLR_EL1.A set the up-front probe is skipped (it would check alignment to the whole
 * range); every access is then checked by itself.
 *
 * Returns the flags for the element accesses, or -1 when the probe faulted (cpu.fault set).
 */
export function preflight(cpu: Cpu, lo: number, hi: number, total: number, write: boolean, flags: number): number {
  if ((flags & ACC_NOCHECK) !== 0 || cpu.mteActive === 0 || cpu.alignCheck) return flags;
  const upper = (hi & 0x00800000) !== 0;
  if (upper ? !cpu.tbi1 : !cpu.tbi0) return flags;
  const tag = (hi >>> 24) & 15;
  if (upper ? cpu.tcma1 && tag === 15 : cpu.tcma0 && tag === 0) return flags;
  const checked = ((total - 1) & 31) + 1;
  if (!probe(cpu, lo, hi, checked, write, flags)) return -1;
  return checked === total ? flags | ACC_NOCHECK : flags;
}

/** (lo, hi) + offset as a 64-bit address; the result is in ADDR. */
export const ADDR = { lo: 0, hi: 0 };

export function addAddr(lo: number, hi: number, offset: number): void {
  const sum = (lo >>> 0) + offset;
  ADDR.lo = sum | 0;
  ADDR.hi = sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi;
}
