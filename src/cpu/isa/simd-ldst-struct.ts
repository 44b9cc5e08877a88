import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { Insn, NEXT } from '../insn.js';
import { rsp, rz } from '../regs.js';
import { ACC_NOCHECK } from '../slow-access.js';
import { SP_INDEX, spAlignmentFault, spMisaligned } from './ldst-common.js';
import { simdInsn, tmp } from './simd-common.js';
import { ADDR, addAddr, preflight, readInto, readV, writeV } from './simd-mem.js';

/**
 * LD1..LD4 / ST1..ST4 (multiple structures and single structure), LD1R..LD4R (DDI 0487,
 * C4.1.88, "Advanced SIMD load/store multiple structures" and "single structure"), without
 * offset and post-indexed by an immediate (Rm = 31: the bytes transferred) or by Xm.
 *
 * Accesses follow QEMU (trans_LD_mult/trans_LD_single in translate-a64.c): the whole range is
 * tag-checked up front (simd-mem.ts, preflight), then each element is its own access in order,
 * straight into its register, so a translation or permission fault part way leaves the earlier
 * elements loaded (or stored). LD1/ST1 with one register per structure move 8 bytes per access,
 * as QEMU's promotion of consecutive little-endian elements does; their alignment (SCTLR_EL1.A)
 * is still checked per element size. Registers of a 64-bit arrangement get their upper halves
 * cleared once every element is loaded.
 *
 * Insn fields: d = first register number, n = base (rsp), m = index (rz) or -1 for an immediate
 * post-index, imm = lane index (single), s = log2 element size, t = Q, a = registers per
 * structure (selem), u = repetitions (rpt) for multiple structures, 0 for single, -1 for LDnR.
 */

const POST_IMMEDIATE = -1;
const NO_WRITEBACK = -2;

/** rpt and selem of each multiple-structures opcode, or undefined when unallocated. */
const MULTIPLE: Record<number, readonly [number, number]> = {
  0b0000: [1, 4],
  0b0010: [4, 1],
  0b0100: [1, 3],
  0b0110: [3, 1],
  0b0111: [1, 1],
  0b1000: [1, 2],
  0b1010: [2, 1],
};

function postIndex(word: number, insn: Insn): void {
  const post = (word >>> 23) & 1;
  const rm = (word >>> 16) & 31;
  insn.m = !post ? NO_WRITEBACK : rm === 31 ? POST_IMMEDIATE : rz(rm);
}

/** Bits [29:23] = 0b001100x, bit 21 = 0. */
export function decodeSimdMultiple(word: number): Insn | null {
  if ((word >>> 21) & 1) return null;
  if (!((word >>> 23) & 1) && (word >>> 16) & 31) return null;
  const layout = MULTIPLE[(word >>> 12) & 15];
  if (!layout) return null;
  const size = (word >>> 10) & 3;
  const q = (word >>> 30) & 1;
  if (size === 3 && q === 0 && layout[1] !== 1) return null;
  const load = (word >>> 22) & 1;
  const insn = simdInsn(load ? loadMultiple : storeMultiple, word);
  insn.d = word & 31;
  insn.n = rsp((word >>> 5) & 31);
  postIndex(word, insn);
  insn.s = size;
  insn.t = q;
  insn.u = layout[0];
  insn.a = layout[1];
  return insn;
}

/** Bits [29:23] = 0b001101x. */
export function decodeSimdSingle(word: number): Insn | null {
  if (!((word >>> 23) & 1) && (word >>> 16) & 31) return null;
  const load = (word >>> 22) & 1;
  const opcode = (word >>> 13) & 7;
  const s = (word >>> 12) & 1;
  const size = (word >>> 10) & 3;
  const q = (word >>> 30) & 1;
  const selem = (((opcode & 1) << 1) | ((word >>> 21) & 1)) + 1;
  let scale = opcode >>> 1;
  let index: number;
  let replicate = false;
  switch (scale) {
    case 0:
      index = (q << 3) | (s << 2) | size;
      break;
    case 1:
      if (size & 1) return null;
      index = (q << 2) | (s << 1) | (size >>> 1);
      break;
    case 2:
      if (size & 2) return null;
      if (size & 1) {
        if (s) return null;
        index = q;
        scale = 3;
      } else {
        index = (q << 1) | s;
      }
      break;
    default:
      if (!load || s) return null;
      scale = size;
      index = 0;
      replicate = true;
  }
  const insn = simdInsn(replicate ? loadReplicate : load ? loadSingle : storeSingle, word);
  insn.d = word & 31;
  insn.n = rsp((word >>> 5) & 31);
  postIndex(word, insn);
  insn.s = scale;
  insn.t = q;
  insn.a = selem;
  insn.imm = index;
  insn.u = replicate ? -1 : 0;
  return insn;
}

// ---- executors ----

function flagsOf(i: Insn): number {
  return i.n === SP_INDEX && i.m === NO_WRITEBACK ? ACC_NOCHECK : 0;
}

function writeBack(cpu: Cpu, i: Insn, baseLo: number, baseHi: number, total: number): void {
  if (i.m === NO_WRITEBACK) return;
  const x = cpu.x;
  if (i.m === POST_IMMEDIATE) {
    addAddr(baseLo, baseHi, total);
    x[i.n] = ADDR.lo;
    x[i.n + 1] = ADDR.hi;
    return;
  }
  const mLo = x[i.m]!;
  const mHi = x[i.m + 1]!;
  const sum = (baseLo >>> 0) + (mLo >>> 0);
  x[i.n] = sum | 0;
  x[i.n + 1] = (baseHi + mHi + (sum > 0xffffffff ? 1 : 0)) | 0;
}

/** Bytes per access of a multiple-structures transfer: 8 for one register per structure. */
function chunkOf(i: Insn): number {
  return i.a === 1 ? 8 : 1 << i.s;
}

function multiple(cpu: Cpu, i: Insn, write: boolean): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const baseLo = cpu.x[i.n]!;
  const baseHi = cpu.x[i.n + 1]!;
  const regBytes = i.t ? 16 : 8;
  const total = regBytes * i.u * i.a;
  const esize = 1 << i.s;
  const flags = preflight(cpu, baseLo, baseHi, total, write, flagsOf(i));
  if (flags < 0) return dataAbort(cpu);
  const chunk = chunkOf(i);
  let offset = 0;
  for (let r = 0; r < i.u; r++) {
    if (i.a === 1) {
      const reg = ((i.d + r) & 31) << 4;
      for (let at = 0; at < regBytes; at += chunk) {
        addAddr(baseLo, baseHi, offset);
        if (!moveChunk(cpu, write, chunk, esize, flags, reg + at)) return dataAbort(cpu);
        offset += chunk;
      }
      continue;
    }
    for (let e = 0; e < regBytes; e += esize) {
      for (let k = 0; k < i.a; k++) {
        const reg = ((i.d + r + k) & 31) << 4;
        addAddr(baseLo, baseHi, offset);
        if (!(write ? writeV(cpu, ADDR.lo, ADDR.hi, esize, flags, reg + e) : readV(cpu, ADDR.lo, ADDR.hi, esize, flags, reg + e))) return dataAbort(cpu);
        offset += esize;
      }
    }
  }
  if (!write && regBytes === 8) {
    for (let k = 0; k < i.u * i.a; k++) {
      const reg = ((i.d + k) & 31) << 4;
      cpu.vb.fill(0, reg + 8, reg + 16);
    }
  }
  writeBack(cpu, i, baseLo, baseHi, total);
  return NEXT;
}

/**
 * One promoted 8-byte access of LD1/ST1 at ADDR. With SCTLR_EL1.A set alignment is to the
 * element size, so the access goes element by element (the slow path checks each).
 */
function moveChunk(cpu: Cpu, write: boolean, chunk: number, esize: number, flags: number, at: number): boolean {
  if (!cpu.alignCheck || chunk === esize) {
    return write ? writeV(cpu, ADDR.lo, ADDR.hi, chunk, flags, at) : readV(cpu, ADDR.lo, ADDR.hi, chunk, flags, at);
  }
  const lo = ADDR.lo;
  const hi = ADDR.hi;
  for (let k = 0; k < chunk; k += esize) {
    addAddr(lo, hi, k);
    if (!(write ? writeV(cpu, ADDR.lo, ADDR.hi, esize, flags, at + k) : readV(cpu, ADDR.lo, ADDR.hi, esize, flags, at + k))) return false;
  }
  return true;
}

function loadMultiple(cpu: Cpu, i: Insn): number {
  return multiple(cpu, i, false);
}

function storeMultiple(cpu: Cpu, i: Insn): number {
  return multiple(cpu, i, true);
}

function singleLane(cpu: Cpu, i: Insn, write: boolean): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const baseLo = cpu.x[i.n]!;
  const baseHi = cpu.x[i.n + 1]!;
  const esize = 1 << i.s;
  const total = esize * i.a;
  const flags = preflight(cpu, baseLo, baseHi, total, write, flagsOf(i));
  if (flags < 0) return dataAbort(cpu);
  for (let k = 0; k < i.a; k++) {
    const at = (((i.d + k) & 31) << 4) + i.imm * esize;
    addAddr(baseLo, baseHi, k * esize);
    if (!(write ? writeV(cpu, ADDR.lo, ADDR.hi, esize, flags, at) : readV(cpu, ADDR.lo, ADDR.hi, esize, flags, at))) return dataAbort(cpu);
  }
  writeBack(cpu, i, baseLo, baseHi, total);
  return NEXT;
}

function loadSingle(cpu: Cpu, i: Insn): number {
  return singleLane(cpu, i, false);
}

function storeSingle(cpu: Cpu, i: Insn): number {
  return singleLane(cpu, i, true);
}

const tmpView = new DataView(tmp.buffer);

/** LD1R..LD4R: each element is loaded, then replicated into every lane of its register. */
function loadReplicate(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  const baseLo = cpu.x[i.n]!;
  const baseHi = cpu.x[i.n + 1]!;
  const esize = 1 << i.s;
  const total = esize * i.a;
  const flags = preflight(cpu, baseLo, baseHi, total, false, flagsOf(i));
  if (flags < 0) return dataAbort(cpu);
  const regBytes = i.t ? 16 : 8;
  const vb = cpu.vb;
  for (let k = 0; k < i.a; k++) {
    addAddr(baseLo, baseHi, k * esize);
    if (!readInto(cpu, ADDR.lo, ADDR.hi, esize, flags, tmp, tmpView, 0)) return dataAbort(cpu);
    const reg = ((i.d + k) & 31) << 4;
    for (let at = 0; at < regBytes; at += esize) vb.set(tmp.subarray(0, esize), reg + at);
    vb.fill(0, reg + regBytes, reg + 16);
  }
  writeBack(cpu, i, baseLo, baseHi, total);
  return NEXT;
}
