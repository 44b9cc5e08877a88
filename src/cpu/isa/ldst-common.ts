import { mmioRead, mmioWrite, type AccessSize } from '../../memory/index.js';
import type { Cpu } from '../cpu.js';
import { takeSyncException } from '../exception-entry.js';
import { EC, FSC } from '../exceptions.js';
import { entryOffset, tlbEntry } from '../fast-access.js';
import { SP_SLOT } from '../regs.js';
import { ACC_NOCHECK, noteGuestWrite, part0, slowLoad, slowStore } from '../slow-access.js';

/**
 * Pieces shared by the load/store executors (ldst-*.ts): addressing modes, the SP alignment check,
 * sized accesses with access flags, tag-unchecked fast paths, and the read-modify-write helpers
 * of exclusives and atomics.
 *
 * Every executor follows one contract: compute the address, check SP alignment, perform the
 * access; if it faulted (`cpu.fault` != 0) return `dataAbort(cpu)` before any register is written
 * or the base is written back. Only then write registers, then the base.
 */

/** Register-file index (lo word) of the SP slot, as the decoder stores it in `Insn.n`. */
export const SP_INDEX = SP_SLOT * 2;

/** Addressing modes (Insn.t of the immediate forms). */
export const MODE_OFFSET = 0;
export const MODE_POST = 1;
export const MODE_PRE = 2;

/** How a loaded value of less than 8 bytes fills the register (Insn.a of loads). */
export const EXT_ZERO = 0; // LDR Wt / LDRB / LDRH (and LDR Xt for 8 bytes)
export const EXT_SIGN32 = 1; // LDRSB Wt / LDRSH Wt: sign-extend into W, upper word zero
export const EXT_SIGN64 = 2; // LDRSB Xt / LDRSH Xt / LDRSW

/**
 * SP alignment fault (EC 0x26) for an access based on a misaligned SP while SCTLR_EL1.SA (EL1)
 * or SA0 (EL0) is set. The architecture requires the check (CheckSPAlignment); QEMU omits it for
 * speed, which is invisible to guests that keep SP 16-byte aligned. FAR is not written.
 */
export function spAlignmentFault(cpu: Cpu): number {
  return takeSyncException(cpu, EC.SP_ALIGN, 0);
}

/** True when the access must take an SP alignment fault instead (base SP, SP misaligned, check on). */
export function spMisaligned(cpu: Cpu, n: number): boolean {
  return n === SP_INDEX && cpu.spAlignCheck && (cpu.x[n]! & 15) !== 0;
}

/**
 * Loads `size` bytes: returns the low word (zero-extended below 4 bytes), the high word of an
 * 8-byte load in cpu.ldHi. `flags` 0 takes the cpu.ld* fast paths (tag-checked), ACC_NOCHECK the
 * unchecked fast path, anything else the slow path.
 */
export function loadSized(cpu: Cpu, lo: number, hi: number, size: number, flags: number): number {
  if (flags === 0) {
    switch (size) {
      case 1:
        return cpu.ld8(lo, hi);
      case 2:
        return cpu.ld16(lo, hi);
      case 4:
        return cpu.ld32(lo, hi);
      default:
        return cpu.ld64(lo, hi);
    }
  }
  if (flags === ACC_NOCHECK) return loadUnchecked(cpu, lo, hi, size);
  return slowLoad(cpu, lo, hi, size, flags);
}

/** Stores the low `size` bytes of (vlo, vhi); flags as for loadSized. */
export function storeSized(cpu: Cpu, lo: number, hi: number, size: number, vlo: number, vhi: number, flags: number): void {
  if (flags === 0) {
    switch (size) {
      case 1:
        cpu.st8(lo, hi, vlo);
        return;
      case 2:
        cpu.st16(lo, hi, vlo);
        return;
      case 4:
        cpu.st32(lo, hi, vlo);
        return;
      default:
        cpu.st64(lo, hi, vlo, vhi);
        return;
    }
  }
  if (flags === ACC_NOCHECK) storeUnchecked(cpu, lo, hi, size, vlo, vhi);
  else slowStore(cpu, lo, hi, size, vlo, vhi, flags);
}

/**
 * A Tag Unchecked load (SP base with an immediate offset and no writeback, PC-relative literal):
 * the TLB hit path of cpu.ld* without the tag check; misses go to the slow path with ACC_NOCHECK.
 */
export function loadUnchecked(cpu: Cpu, lo: number, hi: number, size: number): number {
  const e = tlbEntry(cpu, lo, hi, cpu.rdBase, size);
  if (e < 0) return slowLoad(cpu, lo, hi, size, ACC_NOCHECK);
  const off = entryOffset(cpu, e, lo);
  const view = cpu.dtlb.view[e]!;
  switch (size) {
    case 1:
      return view.getUint8(off);
    case 2:
      return view.getUint16(off, true);
    case 4:
      return view.getInt32(off, true);
    default:
      cpu.ldHi = view.getInt32(off + 4, true);
      return view.getInt32(off, true);
  }
}

export function storeUnchecked(cpu: Cpu, lo: number, hi: number, size: number, vlo: number, vhi: number): void {
  const e = tlbEntry(cpu, lo, hi, cpu.wrBase, size);
  if (e < 0) return slowStore(cpu, lo, hi, size, vlo, vhi, ACC_NOCHECK);
  const off = entryOffset(cpu, e, lo);
  const view = cpu.dtlb.view[e]!;
  switch (size) {
    case 1:
      view.setUint8(off, vlo);
      return;
    case 2:
      view.setUint16(off, vlo, true);
      return;
    case 4:
      view.setInt32(off, vlo, true);
      return;
    default:
      view.setInt32(off, vlo, true);
      view.setInt32(off + 4, vhi, true);
  }
}

/** Writes a loaded value (low word `v`, high word `vhi` for 8 bytes) to register index `d`. */
export function writeLoaded(x: Int32Array, d: number, v: number, vhi: number, size: number, ext: number): void {
  if (size === 8) {
    x[d] = v;
    x[d + 1] = vhi;
  } else if (ext === EXT_ZERO) {
    x[d] = v;
    x[d + 1] = 0;
  } else {
    const shift = 32 - size * 8;
    const s = (v << shift) >> shift;
    x[d] = s;
    x[d + 1] = ext === EXT_SIGN64 ? s >> 31 : 0;
  }
}

// ---- read-modify-write on a probed access (exclusives, atomics, CAS) ----

/**
 * Bytes of the last read-modify-write, little-endian. Separate from slow-access's `scratch` so a
 * nested slow access cannot clobber them.
 */
export const rmwBytes = new Uint8Array(16);
export const rmwView = new DataView(rmwBytes.buffer);

/**
 * Reads `size` bytes of the access probe() just checked into rmwBytes. The callers' accesses
 * never cross a 16-byte boundary, so they never cross a page and part0 holds all of them. Device
 * windows get accesses of at most 8 bytes. Returns false (external abort recorded) when the
 * address is neither RAM nor a device.
 */
export function readProbed(cpu: Cpu, size: number): boolean {
  const region = part0.region;
  if (region) {
    const offset = part0.pa - region.base;
    rmwBytes.set(region.bytes.subarray(offset, offset + size));
    return true;
  }
  const mmio = part0.mmio;
  if (mmio) {
    for (let done = 0; done < size; done += 8) {
      const chunk = Math.min(8, size - done);
      const value = mmioRead(mmio, part0.pa - mmio.base + done, chunk as AccessSize);
      for (let b = 0; b < chunk; b++) rmwBytes[done + b] = Number((value >> BigInt(8 * b)) & 0xffn);
    }
    return true;
  }
  cpu.setFault(FSC.EXTERNAL, part0.lo, part0.hi, false);
  return false;
}

/** Writes `size` bytes of rmwBytes to the probed access (see readProbed). */
export function writeProbed(cpu: Cpu, size: number): boolean {
  const region = part0.region;
  if (region && !region.readOnly) {
    const offset = part0.pa - region.base;
    region.bytes.set(rmwBytes.subarray(0, size), offset);
    noteGuestWrite(cpu, region, offset, size);
    return true;
  }
  const mmio = part0.mmio;
  if (mmio) {
    for (let done = 0; done < size; done += 8) {
      const chunk = Math.min(8, size - done);
      let value = 0n;
      for (let b = chunk - 1; b >= 0; b--) value = (value << 8n) | BigInt(rmwBytes[done + b]!);
      mmioWrite(mmio, part0.pa - mmio.base + done, chunk as AccessSize, value);
    }
    return true;
  }
  cpu.setFault(FSC.EXTERNAL, part0.lo, part0.hi, true);
  return false;
}

/**
 * Reads the `size`-byte element at byte `at` of rmwBytes: the low word is returned (zero-extended
 * below 4 bytes), the high word (0 below 8 bytes) is left in cpu.ldHi.
 */
export function rmwGet(cpu: Cpu, at: number, size: number): number {
  if (size === 8) {
    cpu.ldHi = rmwView.getInt32(at + 4, true);
    return rmwView.getInt32(at, true);
  }
  cpu.ldHi = 0;
  return size === 4 ? rmwView.getInt32(at, true) : size === 2 ? rmwView.getUint16(at, true) : rmwBytes[at]!;
}

export function rmwSet(at: number, size: number, lo: number, hi: number): void {
  switch (size) {
    case 1:
      rmwBytes[at] = lo;
      return;
    case 2:
      rmwView.setUint16(at, lo, true);
      return;
    case 4:
      rmwView.setInt32(at, lo, true);
      return;
    default:
      rmwView.setInt32(at, lo, true);
      rmwView.setInt32(at + 4, hi, true);
  }
}
