import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { FSC } from '../exceptions.js';
import { Insn, NEXT } from '../insn.js';
import { rsp, rz, wz } from '../regs.js';
import { ACC_ALIGN16, ACC_NOCHECK, ACC_RMW, part0, probe, scratchView, slowLoadBytes } from '../slow-access.js';
import { Sys } from '../sysreg-state.js';
import {
  EXT_SIGN32,
  EXT_SIGN64,
  EXT_ZERO,
  loadSized,
  readProbed,
  rmwGet,
  rmwSet,
  spAlignmentFault,
  spMisaligned,
  storeSized,
  writeLoaded,
  writeProbed,
} from './ldst-common.js';

/**
 * Load/store exclusive, ordered, and compare-and-swap (DDI 0487, C4.1.88; class bits [29:24] =
 * 0b001000): LDXR/LDAXR/STXR/STLXR (B, H, W, X), LDXP/LDAXP/STXP/STLXP, LDAR/STLR (B, H, W, X),
 * CAS/CASA/CASL/CASAL (B, H, W, X), CASP/CASPA/CASPL/CASPAL. LDLAR/STLLR need FEAT_LOR, which this
 * CPU does not report: UNDEFINED. Acquire/release semantics need nothing here: the interpreter
 * performs every access in program order.
 *
 * Alignment (FEAT_LSE2, which QEMU -cpu max has): exclusives, CAS and CASP must not cross a
 * 16-byte boundary (pairs of X registers: 16-byte aligned); LDAR/STLR/LDAPR likewise unless
 * SCTLR_EL1.nAA is set. This is QEMU's check_atomic_align/check_ordered_align and the Arm ARM's
 * rule for exclusive and atomic accesses with FEAT_LSE2. To require natural alignment of
 * exclusives instead (the pre-LSE2 rule), set EXCLUSIVE_ALIGN to ACC_ALIGN.
 *
 * Exclusive monitor: cpu.exclusivePa/exclusiveSize hold the physical address and size of the last
 * load-exclusive, -1 when open (exceptions, ERET and CLREX open it). A store-exclusive first checks
 * alignment (always, as AArch64.ExclusiveMonitorsPass does); with the monitor open it fails
 * without touching memory; otherwise it translates and tag-checks (faults are taken), and succeeds
 * only if physical address and size match. Either way the monitor is opened and the status
 * register written (0 success, 1 failure). Monitoring by physical address alone means a store to
 * a different VA aliasing the same PA succeeds, which the architecture permits.
 *
 * Tag checks: Tag Unchecked when the base is SP; stores (and CAS/CASP) check as writes.
 *
 * CONSTRAINED UNPREDICTABLE register overlaps are not refused: STXR with Ws == Xt or Xn stores
 * the register value and base from before the status write; LDXP/LDAXP with Rt == Rt2 keeps the
 * second element (as QEMU). SBO fields (Rs, Rt2) of LDXR/STXR/LDXP are ignored like QEMU; those of
 * LDAR/STLR/CAS/CASP must be all ones (QEMU UNDEFs otherwise).
 */

const EXCLUSIVE_ALIGN = ACC_ALIGN16;
/** SCTLR_EL1.nAA (FEAT_LSE2): ordered accesses may be unaligned anywhere. */
const SCTLR_NAA = 1 << 6;

export function decodeExclusiveOrdered(word: number): Insn | null {
  const size = word >>> 30;
  const o2 = (word >>> 23) & 1;
  const load = (word >>> 22) & 1;
  const o1 = (word >>> 21) & 1;
  const o0 = (word >>> 15) & 1;
  const rs = (word >>> 16) & 31;
  const rt2 = (word >>> 10) & 31;
  const rn = (word >>> 5) & 31;
  const rt = word & 31;
  let insn: Insn;
  if (o2 === 0 && o1 === 0) {
    insn = new Insn(load ? loadExclusive : storeExclusive, word);
    insn.d = load ? wz(rt) : rz(rt);
    insn.a = wz(rs); // status (stores)
    insn.s = 1 << size;
  } else if (o2 === 0) {
    if (size >= 2) {
      // LDXP / LDAXP / STXP / STLXP: 32- or 64-bit elements, one access of both.
      insn = new Insn(load ? loadExclusivePair : storeExclusivePair, word);
      insn.d = load ? wz(rt) : rz(rt);
      insn.m = load ? wz(rt2) : rz(rt2);
      insn.a = wz(rs);
      insn.s = size === 3 ? 8 : 4;
    } else {
      // CASP family: even register pairs; Rt2 field all ones.
      if (rt2 !== 31 || (rs & 1) !== 0 || (rt & 1) !== 0) return null;
      insn = new Insn(compareAndSwapPair, word);
      insn.d = rz(rt); // new values: d, d + 2 (rt + 1 <= 31 reads XZR correctly)
      insn.m = rz(rs); // compare values: m, m + 2
      insn.a = wz(rs); // old values written to a ...
      insn.immHi = wz(rs + 1); // ... and immHi
      insn.s = size === 1 ? 8 : 4;
    }
  } else if (o1 === 0) {
    if (rs !== 31 || rt2 !== 31 || o0 === 0) return null; // LDLAR/STLLR: no FEAT_LOR
    insn = load ? decodeLoadAcquire(word, size, rn, rt) : new Insn(storeRelease, word);
    if (!load) {
      insn.d = rz(rt);
      insn.s = 1 << size;
    }
  } else {
    if (rt2 !== 31) return null;
    insn = new Insn(compareAndSwap, word);
    insn.d = rz(rt); // new value
    insn.m = rz(rs); // compare value
    insn.a = wz(rs); // old value
    insn.s = 1 << size;
  }
  insn.n = rsp(rn);
  insn.u = rn === 31 ? ACC_NOCHECK : 0;
  return insn;
}

/** LDAR and LDAPR (FEAT_LRCPC, decoded with the atomics) share one executor. */
export function decodeLoadAcquire(word: number, size: number, rn: number, rt: number): Insn {
  const insn = new Insn(loadAcquire, word);
  insn.d = wz(rt);
  insn.n = rsp(rn);
  insn.s = 1 << size;
  insn.u = rn === 31 ? ACC_NOCHECK : 0;
  return insn;
}

/**
 * FEAT_LRCPC2 (reported as ID_AA64ISAR1_EL1.LRCPC = 2, as on QEMU -cpu max): LDAPUR/STLUR, the
 * class with bits [29:24] = 0b011001, bit 21 = 0, bits [11:10] = 0b00. Tag-checked unless the
 * base is SP, as the Arm ARM says (QEMU does not check these at all).
 */
export function decodeOrderedUnscaled(word: number): Insn | null {
  if (((word >>> 21) & 1) !== 0 || ((word >>> 10) & 3) !== 0) return null;
  const size = word >>> 30;
  const opc = (word >>> 22) & 3;
  // opc: 0 STLUR, 1 LDAPUR, 2 LDAPURS* to X (not for X), 3 LDAPURS* to W (B and H only).
  if ((opc === 2 && size === 3) || (opc === 3 && size >= 2)) return null;
  const rn = (word >>> 5) & 31;
  const rt = word & 31;
  const insn = new Insn(opc === 0 ? storeReleaseOffset : loadAcquireOffset, word);
  insn.d = opc === 0 ? rz(rt) : wz(rt);
  insn.n = rsp(rn);
  insn.imm = (((word >>> 12) & 0x1ff) << 23) >> 23;
  insn.s = 1 << size;
  insn.a = opc === 2 ? EXT_SIGN64 : opc === 3 ? EXT_SIGN32 : EXT_ZERO;
  insn.u = rn === 31 ? ACC_NOCHECK : 0;
  return insn;
}

export function loadAcquireOffset(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const sum = (x[i.n]! >>> 0) + i.imm;
  const baseHi = x[i.n + 1]!;
  const lo = sum | 0;
  const hi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const v = loadSized(cpu, lo, hi, i.s, orderedFlags(cpu, lo, i.s, i.u));
  if (cpu.fault !== 0) return dataAbort(cpu);
  writeLoaded(x, i.d, v, cpu.ldHi, i.s, i.a);
  return NEXT;
}

export function storeReleaseOffset(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const sum = (x[i.n]! >>> 0) + i.imm;
  const baseHi = x[i.n + 1]!;
  const lo = sum | 0;
  const hi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  storeSized(cpu, lo, hi, i.s, x[i.d]!, x[i.d + 1]!, orderedFlags(cpu, lo, i.s, i.u));
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

/** Flags of an ordered access: FEAT_LSE2's 16-byte rule when misaligned and SCTLR_EL1.nAA = 0. */
function orderedFlags(cpu: Cpu, lo: number, size: number, flags: number): number {
  if ((lo & (size - 1)) === 0 || (cpu.sysLo(Sys.SCTLR_EL1) & SCTLR_NAA) !== 0) return flags;
  return flags | ACC_ALIGN16;
}

export function loadAcquire(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const lo = x[i.n]!;
  const v = loadSized(cpu, lo, x[i.n + 1]!, i.s, orderedFlags(cpu, lo, i.s, i.u));
  if (cpu.fault !== 0) return dataAbort(cpu);
  writeLoaded(x, i.d, v, cpu.ldHi, i.s, EXT_ZERO);
  return NEXT;
}

export function storeRelease(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const lo = x[i.n]!;
  storeSized(cpu, lo, x[i.n + 1]!, i.s, x[i.d]!, x[i.d + 1]!, orderedFlags(cpu, lo, i.s, i.u));
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

/** Reads `size` bytes for a load-exclusive and arms the monitor. */
function armMonitor(cpu: Cpu, i: Insn, size: number): boolean {
  const x = cpu.x;
  if (!slowLoadBytes(cpu, x[i.n]!, x[i.n + 1]!, size, i.u | EXCLUSIVE_ALIGN)) return false;
  cpu.exclusivePa = part0.pa;
  cpu.exclusiveSize = size;
  return true;
}

export function loadExclusive(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const size = i.s;
  if (!armMonitor(cpu, i, size)) return dataAbort(cpu);
  const x = cpu.x;
  if (size === 8) {
    x[i.d] = scratchView.getInt32(0, true);
    x[i.d + 1] = scratchView.getInt32(4, true);
  } else {
    x[i.d] = size === 4 ? scratchView.getInt32(0, true) : size === 2 ? scratchView.getUint16(0, true) : scratchView.getUint8(0);
    x[i.d + 1] = 0;
  }
  return NEXT;
}

export function loadExclusivePair(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const esize = i.s;
  if (!armMonitor(cpu, i, esize * 2)) return dataAbort(cpu);
  const x = cpu.x;
  if (esize === 8) {
    x[i.d] = scratchView.getInt32(0, true);
    x[i.d + 1] = scratchView.getInt32(4, true);
    x[i.m] = scratchView.getInt32(8, true);
    x[i.m + 1] = scratchView.getInt32(12, true);
  } else {
    x[i.d] = scratchView.getInt32(0, true);
    x[i.d + 1] = 0;
    x[i.m] = scratchView.getInt32(4, true);
    x[i.m + 1] = 0;
  }
  return NEXT;
}

/**
 * The store half of STXR/STXP once the data is in rmwBytes. Returns the status (0 stored,
 * 1 not), or -1 with a fault recorded.
 */
function storeIfExclusive(cpu: Cpu, i: Insn, size: number): number {
  const x = cpu.x;
  const lo = x[i.n]!;
  const hi = x[i.n + 1]!;
  const misaligned = (lo & 15) + size > 16 || ((EXCLUSIVE_ALIGN & ACC_ALIGN16) === 0 && (lo & (size - 1)) !== 0) || (cpu.alignCheck && (lo & (size - 1)) !== 0);
  if (misaligned) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, true);
    return -1;
  }
  if (cpu.exclusivePa === -1) return 1;
  if (!probe(cpu, lo, hi, size, true, i.u)) return -1;
  if (part0.pa !== cpu.exclusivePa || size !== cpu.exclusiveSize) return 1;
  return writeProbed(cpu, size) ? 0 : -1;
}

function finishStoreExclusive(cpu: Cpu, i: Insn, status: number): number {
  if (status < 0) return dataAbort(cpu); // the monitor stays as it was: the instruction did not execute
  cpu.exclusivePa = -1;
  cpu.x[i.a] = status;
  cpu.x[i.a + 1] = 0;
  return NEXT;
}

export function storeExclusive(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  rmwSet(0, i.s, x[i.d]!, x[i.d + 1]!);
  return finishStoreExclusive(cpu, i, storeIfExclusive(cpu, i, i.s));
}

export function storeExclusivePair(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const esize = i.s;
  rmwSet(0, esize, x[i.d]!, x[i.d + 1]!);
  rmwSet(esize, esize, x[i.m]!, x[i.m + 1]!);
  return finishStoreExclusive(cpu, i, storeIfExclusive(cpu, i, esize * 2));
}

/** True when the `size`-byte values (lo, hi) and (clo, chi) are equal (high words ignored below 8). */
function sameValue(size: number, lo: number, hi: number, clo: number, chi: number): boolean {
  switch (size) {
    case 8:
      return lo === clo && hi === chi;
    case 4:
      return lo === clo;
    case 2:
      return lo === (clo & 0xffff);
    default:
      return lo === (clo & 0xff);
  }
}

/** CAS Rs, Rt, [Xn]: if [Xn] == Rs then [Xn] = Rt; Rs = old value (zero-extended). */
export function compareAndSwap(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const size = i.s;
  if (!probe(cpu, x[i.n]!, x[i.n + 1]!, size, true, i.u | ACC_RMW | ACC_ALIGN16)) return dataAbort(cpu);
  if (!readProbed(cpu, size)) return dataAbort(cpu);
  const oldLo = rmwGet(cpu, 0, size);
  const oldHi = cpu.ldHi;
  if (sameValue(size, oldLo, oldHi, x[i.m]!, x[i.m + 1]!)) {
    rmwSet(0, size, x[i.d]!, x[i.d + 1]!);
    if (!writeProbed(cpu, size)) return dataAbort(cpu);
  }
  x[i.a] = oldLo;
  x[i.a + 1] = oldHi;
  return NEXT;
}

/** CASP Rs, Rs+1, Rt, Rt+1, [Xn]: one access of both elements. */
export function compareAndSwapPair(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const x = cpu.x;
  const esize = i.s;
  if (!probe(cpu, x[i.n]!, x[i.n + 1]!, esize * 2, true, i.u | ACC_RMW | ACC_ALIGN16)) return dataAbort(cpu);
  if (!readProbed(cpu, esize * 2)) return dataAbort(cpu);
  const old0Lo = rmwGet(cpu, 0, esize);
  const old0Hi = cpu.ldHi;
  const old1Lo = rmwGet(cpu, esize, esize);
  const old1Hi = cpu.ldHi;
  const m = i.m;
  if (sameValue(esize, old0Lo, old0Hi, x[m]!, x[m + 1]!) && sameValue(esize, old1Lo, old1Hi, x[m + 2]!, x[m + 3]!)) {
    const d = i.d;
    rmwSet(0, esize, x[d]!, x[d + 1]!);
    rmwSet(esize, esize, x[d + 2]!, x[d + 3]!);
    if (!writeProbed(cpu, esize * 2)) return dataAbort(cpu);
  }
  x[i.a] = old0Lo;
  x[i.a + 1] = old0Hi;
  x[i.immHi] = old1Lo;
  x[i.immHi + 1] = old1Hi;
  return NEXT;
}
