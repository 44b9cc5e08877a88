import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { Insn, NEXT } from '../insn.js';
import { TLB_MASK } from '../mmu/tlb.js';
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

/**
 * Inline test of the common case: the access stays in one granule whose allocation tag equals the
 * pointer's. Anything else takes cpu.tagMismatch, which also applies TBI, TCMA and the TCF mode.
 */
function sameTag(tags: Uint8Array, off: number, hi: number, crossesGranule: boolean): boolean {
  const g = off >>> 4;
  return !crossesGranule && ((tags[g >>> 1]! >>> ((g & 1) << 2)) & 15) === ((hi >>> 24) & 15);
}

/** LDP Xt1, Xt2: one TLB lookup and one tag check for the 16 bytes on the fast path. */
function ldpX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  const lo = post ? baseLo : newLo;
  const hi = post ? baseHi : newHi;
  const h = (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
  const e = cpu.rdBase + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  let v0: number, v1: number, v2: number, v3: number;
  if (t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 && (lo & 0xfff) <= 0xff0) {
    const off = t.offset[e]! + (lo & 0xfff);
    const tags = t.tags[e]!;
    if (i.u === 0 && cpu.mteActive !== 0 && tags !== null && !sameTag(tags, off, hi, (off & 15) !== 0) && cpu.tagMismatch(tags, off, lo, hi, 16, false)) return dataAbort(cpu);
    const view = t.view[e]!;
    v0 = view.getInt32(off, true);
    v1 = view.getInt32(off + 4, true);
    v2 = view.getInt32(off + 8, true);
    v3 = view.getInt32(off + 12, true);
  } else {
    if (!slowLoadBytes(cpu, lo, hi, 16, i.u | ACC_PAIR)) return dataAbort(cpu);
    v0 = scratchView.getInt32(0, true);
    v1 = scratchView.getInt32(4, true);
    v2 = scratchView.getInt32(8, true);
    v3 = scratchView.getInt32(12, true);
  }
  x[i.d] = v0;
  x[i.d + 1] = v1;
  x[i.a] = v2;
  x[i.a + 1] = v3;
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}

function stpX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  const lo = post ? baseLo : newLo;
  const hi = post ? baseHi : newHi;
  const h = (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
  const e = cpu.wrBase + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  if (t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 && (lo & 0xfff) <= 0xff0) {
    const off = t.offset[e]! + (lo & 0xfff);
    const tags = t.tags[e]!;
    if (i.u === 0 && cpu.mteActive !== 0 && tags !== null && !sameTag(tags, off, hi, (off & 15) !== 0) && cpu.tagMismatch(tags, off, lo, hi, 16, true)) return dataAbort(cpu);
    const view = t.view[e]!;
    view.setInt32(off, x[i.d]!, true);
    view.setInt32(off + 4, x[i.d + 1]!, true);
    view.setInt32(off + 8, x[i.a]!, true);
    view.setInt32(off + 12, x[i.a + 1]!, true);
  } else {
    scratchView.setInt32(0, x[i.d]!, true);
    scratchView.setInt32(4, x[i.d + 1]!, true);
    scratchView.setInt32(8, x[i.a]!, true);
    scratchView.setInt32(12, x[i.a + 1]!, true);
    if (!slowStoreBytes(cpu, lo, hi, 16, i.u | ACC_PAIR)) return dataAbort(cpu);
  }
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}

/** LDP Wt1, Wt2 and LDPSW (s = 1: sign-extend both words). */
function ldpW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  const lo = post ? baseLo : newLo;
  const hi = post ? baseHi : newHi;
  const h = (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
  const e = cpu.rdBase + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  let v0: number, v1: number;
  if (t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 && (lo & 0xfff) <= 0xff8) {
    const off = t.offset[e]! + (lo & 0xfff);
    const tags = t.tags[e]!;
    if (i.u === 0 && cpu.mteActive !== 0 && tags !== null && !sameTag(tags, off, hi, (off & 15) > 8) && cpu.tagMismatch(tags, off, lo, hi, 8, false)) return dataAbort(cpu);
    const view = t.view[e]!;
    v0 = view.getInt32(off, true);
    v1 = view.getInt32(off + 4, true);
  } else {
    if (!slowLoadBytes(cpu, lo, hi, 8, i.u | ACC_PAIR)) return dataAbort(cpu);
    v0 = scratchView.getInt32(0, true);
    v1 = scratchView.getInt32(4, true);
  }
  const sign = i.s !== 0;
  x[i.d] = v0;
  x[i.d + 1] = sign ? v0 >> 31 : 0;
  x[i.a] = v1;
  x[i.a + 1] = sign ? v1 >> 31 : 0;
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}

function stpW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  const lo = post ? baseLo : newLo;
  const hi = post ? baseHi : newHi;
  const h = (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
  const e = cpu.wrBase + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  if (t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 && (lo & 0xfff) <= 0xff8) {
    const off = t.offset[e]! + (lo & 0xfff);
    const tags = t.tags[e]!;
    if (i.u === 0 && cpu.mteActive !== 0 && tags !== null && !sameTag(tags, off, hi, (off & 15) > 8) && cpu.tagMismatch(tags, off, lo, hi, 8, true)) return dataAbort(cpu);
    const view = t.view[e]!;
    view.setInt32(off, x[i.d]!, true);
    view.setInt32(off + 4, x[i.a]!, true);
  } else {
    scratchView.setInt32(0, x[i.d]!, true);
    scratchView.setInt32(4, x[i.a]!, true);
    if (!slowStoreBytes(cpu, lo, hi, 8, i.u | ACC_PAIR)) return dataAbort(cpu);
  }
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}
