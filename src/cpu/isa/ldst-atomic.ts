import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { FSC } from '../exceptions.js';
import { Insn, NEXT } from '../insn.js';
import { add64, R } from '../int64.js';
import { rsp, rz, wz } from '../regs.js';
import { ACC_ALIGN16, ACC_NOCHECK, ACC_RMW, probe } from '../slow-access.js';
import { readProbed, rmwGet, rmwSet, spAlignmentFault, spMisaligned, writeProbed } from './ldst-common.js';
import { decodeLoadAcquire } from './ldst-exclusive.js';

/**
 * Atomic memory operations (FEAT_LSE, DDI 0487 C4.1.88): LDADD, LDCLR, LDEOR, LDSET, LDSMAX,
 * LDSMIN, LDUMAX, LDUMIN and SWP, each with A/L/AL variants and B/H/W/X sizes; ST<op> are the
 * same instructions with Rt = XZR. LDAPR (FEAT_LRCPC) shares the encoding space and is decoded
 * here. Other encodings of the space (RCW, LD64B/ST64B, LSE128) are UNDEFINED.
 *
 * Each operation is one read-modify-write access: translated with read and write permission
 * (permission and alignment faults report WnR = 1; translation faults, which a read would take
 * too, WnR = 0: see atomicAbort), not crossing a 16-byte boundary (FEAT_LSE2), tag-checked once,
 * as a read like QEMU does (sync in asymmetric mode). Tag Unchecked when the base is SP.
 * Rt receives the old value, zero-extended.
 *
 * Insn fields: d = Rt (wz), m = Rs (rz), n = base (rsp), s = size in bytes, t = operation (OP_*),
 * u = access flags.
 */

/** Operations: 0..7 are the opc field (ADD, CLR, EOR, SET, SMAX, SMIN, UMAX, UMIN), SWP is 8. */
export const OP_ADD = 0;
export const OP_CLR = 1;
export const OP_EOR = 2;
export const OP_SET = 3;
export const OP_SMAX = 4;
export const OP_SMIN = 5;
export const OP_UMAX = 6;
export const OP_UMIN = 7;
export const OP_SWP = 8;

/** The atomic class: bits [29:27] = 0b111, V = 0, bits [25:24] = 0, bit 21 = 1, bits [11:10] = 0. */
export function decodeAtomic(word: number): Insn | null {
  if ((word >>> 26) & 1) return null;
  const size = word >>> 30;
  const o3 = (word >>> 15) & 1;
  const opc = (word >>> 12) & 7;
  const rs = (word >>> 16) & 31;
  const rn = (word >>> 5) & 31;
  const rt = word & 31;
  let op: number;
  if (o3 === 0) {
    op = opc;
  } else if (opc === 0) {
    op = OP_SWP;
  } else if (opc === 4 && ((word >>> 22) & 3) === 2 && rs === 31) {
    return decodeLoadAcquire(word, size, rn, rt); // LDAPR{B,H}: A = 1, R = 0
  } else {
    return null;
  }
  const insn = new Insn(atomic, word);
  insn.d = wz(rt);
  insn.m = rz(rs);
  insn.n = rsp(rn);
  insn.s = 1 << size;
  insn.t = op;
  insn.u = rn === 31 ? ACC_NOCHECK : 0;
  return insn;
}

export function atomic(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const size = i.s;
  if (!probe(cpu, x[i.n]!, x[i.n + 1]!, size, false, i.u | ACC_RMW | ACC_ALIGN16)) return atomicAbort(cpu);
  if (!readProbed(cpu, size)) return dataAbort(cpu);
  const oldLo = rmwGet(cpu, 0, size);
  const oldHi = cpu.ldHi;
  atomicResult(i.t, size, oldLo, oldHi, x[i.m]!, x[i.m + 1]!);
  rmwSet(0, size, R.lo, R.hi);
  if (!writeProbed(cpu, size)) return dataAbort(cpu);
  x[i.d] = oldLo;
  x[i.d + 1] = oldHi;
  return NEXT;
}

/**
 * ESR_ELx.WnR of an atomic that reads and writes is 0 when a read of the address would have
 * generated the fault (Arm ARM, ISS encoding for a Data Abort; QEMU agrees): translation, access
 * flag and address size faults, which do not depend on the access being a write. Permission
 * faults (a read-only page) and alignment faults keep WnR = 1, as QEMU reports them.
 */
function atomicAbort(cpu: Cpu): number {
  const kind = cpu.fault & 0x13c; // 0x100 = a fault is recorded; FSC without the level
  if (kind === (0x100 | FSC.TRANSLATION) || kind === (0x100 | FSC.ACCESS_FLAG) || kind === (0x100 | FSC.ADDRESS_SIZE)) cpu.faultWrite = 0;
  return dataAbort(cpu);
}

/**
 * The value an atomic operation stores, in R: `op` applied to the old memory value (lo, hi;
 * zero-extended below 8 bytes) and the operand (slo, shi). Bits above `size` bytes are ignored
 * by the store.
 */
export function atomicResult(op: number, size: number, lo: number, hi: number, slo: number, shi: number): void {
  switch (op) {
    case OP_ADD:
      add64(lo, hi, slo, shi, 0);
      return;
    case OP_CLR:
      R.lo = lo & ~slo;
      R.hi = hi & ~shi;
      return;
    case OP_EOR:
      R.lo = lo ^ slo;
      R.hi = hi ^ shi;
      return;
    case OP_SET:
      R.lo = lo | slo;
      R.hi = hi | shi;
      return;
    case OP_SWP:
      R.lo = slo;
      R.hi = shi;
      return;
    default: {
      const greater = op === OP_SMAX || op === OP_SMIN ? signedGreater(size, lo, hi, slo, shi) : unsignedGreater(size, lo, hi, slo, shi);
      const keepOld = op === OP_SMAX || op === OP_UMAX ? greater : !greater;
      R.lo = keepOld ? lo : slo;
      R.hi = keepOld ? hi : shi;
    }
  }
}

/** Old value > operand, both as signed `size`-byte integers (ties keep either: equal values). */
function signedGreater(size: number, lo: number, hi: number, slo: number, shi: number): boolean {
  if (size === 8) return hi !== shi ? hi > shi : lo >>> 0 > slo >>> 0;
  const shift = 32 - size * 8;
  return (lo << shift) >> shift > (slo << shift) >> shift;
}

function unsignedGreater(size: number, lo: number, hi: number, slo: number, shi: number): boolean {
  if (size === 8) return hi !== shi ? hi >>> 0 > shi >>> 0 : lo >>> 0 > slo >>> 0;
  const shift = 32 - size * 8;
  return (lo << shift) >>> shift > (slo << shift) >>> shift;
}
