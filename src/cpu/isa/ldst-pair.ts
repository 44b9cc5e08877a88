import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { Insn, NEXT } from '../insn.js';
import { entryOffset, tagCheckFails, tlbEntry } from '../fast-access.js';
import { rsp, rz, wz } from '../regs.js';
import { ACC_NOCHECK, ACC_PAIR, scratchView, slowLoadBytes, slowStoreBytes } from '../slow-access.js';
import { MODE_OFFSET, MODE_POST, MODE_PRE, spAlignmentFault, spMisaligned } from './ldst-common.js';
import { decodeStgp } from './mte-insns.js';

/**
 * Load/store register pair (DDI 0487, C4.1.88): STP/LDP (W, X), LDPSW, STNP/LDNP, with signed
 * offset, pre- and post-index; STGP (FEAT_MTE) is routed to mte-insns.ts. The SIMD&FP forms are
 * UNDEFINED (no FP).
 *
 * A pair is one access for faults and MTE: the whole 8 or 16 bytes are translated and
 * tag-checked before anything is transferred, so a fault (say, the second page unmapped, or the
 * second granule's tag wrong) stores nothing and writes no register. Alignment checks (SCTLR_EL1.A,
 * Device memory) apply per element (ACC_PAIR). Tag checking: Tag Unchecked when the base is SP and
 * there is no writeback, as for single registers.
 *
 * CONSTRAINED UNPREDICTABLE cases, resolved as QEMU does: LDP with Rt == Rt2 leaves the value of
 * the second element (higher address) in the register; writeback with Rn == Rt or Rt2 leaves the
 * written-back address in Rn; STP with writeback stores the registers' values from before it.
 *
 * Insn fields: d = Rt, a = Rt2 (wz for loads, rz for stores), n = base (rsp), imm = byte offset,
 * t = addressing mode (MODE_*), u = access flags (0 or ACC_NOCHECK), s = 1 for LDPSW.
 */
export function decodeLoadStorePair(word: number, mte: boolean): Insn | null {
  if ((word >>> 26) & 1) return null; // SIMD&FP
  const opc = word >>> 30;
  const encodedMode = (word >>> 23) & 3; // 0 no-allocate offset, 1 post, 2 offset, 3 pre
  const load = (word >>> 22) & 1;
  if (opc === 3) return null;
  if (opc === 1) {
    if (encodedMode === 0) return null; // no LDNPSW / STNP with opc = 01
    if (!load) return decodeStgp(word, mte);
  }
  const esize = opc === 2 ? 8 : 4;
  const rt = word & 31;
  const rt2 = (word >>> 10) & 31;
  const rn = (word >>> 5) & 31;
  const wback = encodedMode === 1 || encodedMode === 3;
  const insn = new Insn(load ? (esize === 8 ? ldpX : ldpW) : esize === 8 ? stpX : stpW, word);
  insn.d = load ? wz(rt) : rz(rt);
  insn.a = load ? wz(rt2) : rz(rt2);
  insn.n = rsp(rn);
  insn.imm = ((((word >>> 15) & 0x7f) << 25) >> 25) * esize;
  insn.t = encodedMode === 1 ? MODE_POST : encodedMode === 3 ? MODE_PRE : MODE_OFFSET;
  insn.u = wback || rn !== 31 ? 0 : ACC_NOCHECK;
  insn.s = opc === 1 ? 1 : 0;
  return insn;
}

/** Address of a pair access (A) and the written-back base (W), set by pairAddress. */
const A = { lo: 0, hi: 0 };
const W = { lo: 0, hi: 0 };

/** Computes the access address and the writeback value of a pair instruction into A and W. */
function pairAddress(x: Int32Array, i: Insn): void {
  const baseLo = x[i.n]!;
  const baseHi = x[i.n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  W.lo = sum | 0;
  W.hi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  A.lo = post ? baseLo : W.lo;
  A.hi = post ? baseHi : W.hi;
}

function writeBack(x: Int32Array, i: Insn): void {
  if (i.t !== MODE_OFFSET) {
    x[i.n] = W.lo;
    x[i.n + 1] = W.hi;
  }
}

/**
 * Loads `size` (8 or 16) bytes of a pair into scratchView: one TLB lookup and one tag check on the
 * fast path (fast-access.ts), the slow path otherwise. False: the access faulted.
 */
function loadPair(cpu: Cpu, i: Insn, size: number): boolean {
  const lo = A.lo;
  const hi = A.hi;
  const e = tlbEntry(cpu, lo, hi, cpu.rdBase, size);
  if (e < 0) return slowLoadBytes(cpu, lo, hi, size, i.u | ACC_PAIR);
  const off = entryOffset(cpu, e, lo);
  if (i.u === 0 && tagCheckFails(cpu, e, off, lo, hi, size, false)) return false;
  const view = cpu.dtlb.view[e]!;
  for (let b = 0; b < size; b += 4) scratchView.setInt32(b, view.getInt32(off + b, true), true);
  return true;
}

/** Stores `size` bytes of a pair from scratchView (see loadPair). */
function storePair(cpu: Cpu, i: Insn, size: number): boolean {
  const lo = A.lo;
  const hi = A.hi;
  const e = tlbEntry(cpu, lo, hi, cpu.wrBase, size);
  if (e < 0) return slowStoreBytes(cpu, lo, hi, size, i.u | ACC_PAIR);
  const off = entryOffset(cpu, e, lo);
  if (i.u === 0 && tagCheckFails(cpu, e, off, lo, hi, size, true)) return false;
  const view = cpu.dtlb.view[e]!;
  for (let b = 0; b < size; b += 4) view.setInt32(off + b, scratchView.getInt32(b, true), true);
  return true;
}

/** LDP Xt1, Xt2. */
function ldpX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  pairAddress(x, i);
  if (!loadPair(cpu, i, 16)) return dataAbort(cpu);
  x[i.d] = scratchView.getInt32(0, true);
  x[i.d + 1] = scratchView.getInt32(4, true);
  x[i.a] = scratchView.getInt32(8, true);
  x[i.a + 1] = scratchView.getInt32(12, true);
  writeBack(x, i);
  return NEXT;
}

function stpX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  pairAddress(x, i);
  scratchView.setInt32(0, x[i.d]!, true);
  scratchView.setInt32(4, x[i.d + 1]!, true);
  scratchView.setInt32(8, x[i.a]!, true);
  scratchView.setInt32(12, x[i.a + 1]!, true);
  if (!storePair(cpu, i, 16)) return dataAbort(cpu);
  writeBack(x, i);
  return NEXT;
}

/** LDP Wt1, Wt2 and LDPSW (s = 1: sign-extend both words). */
function ldpW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  pairAddress(x, i);
  if (!loadPair(cpu, i, 8)) return dataAbort(cpu);
  const v0 = scratchView.getInt32(0, true);
  const v1 = scratchView.getInt32(4, true);
  const sign = i.s !== 0;
  x[i.d] = v0;
  x[i.d + 1] = sign ? v0 >> 31 : 0;
  x[i.a] = v1;
  x[i.a + 1] = sign ? v1 >> 31 : 0;
  writeBack(x, i);
  return NEXT;
}

function stpW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  pairAddress(x, i);
  scratchView.setInt32(0, x[i.d]!, true);
  scratchView.setInt32(4, x[i.a]!, true);
  if (!storePair(cpu, i, 8)) return dataAbort(cpu);
  writeBack(x, i);
  return NEXT;
}
