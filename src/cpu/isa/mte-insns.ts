import type { Cpu } from '../cpu.js';
import { dataAbort, undefinedInstruction } from '../exception-entry.js';
import { FSC } from '../exceptions.js';
import { Insn, NEXT } from '../insn.js';
import { R } from '../int64.js';
import { ATTR_TAGGED } from '../mmu/translate.js';
import { irgTag, tagOf, withTag } from '../mte.js';
import { rsp, rz, wz } from '../regs.js';
import { ACC_NOCHECK, noteGuestWrite, part0, part1, probe, probedParts, type PagePart } from '../slow-access.js';
import { addWithCarry64 } from './alu.js';
import { DCZ_BLOCK } from './cache-ops.js';
import { TLB_MASK } from '../mmu/tlb.js';

/** GMID_EL1.BS = 6: LDGM/STGM move the tags of 256 bytes (16 granules, 64 bits). */
const GM_BLOCK = 256;

/**
 * FEAT_MTE instructions of the data-processing group: IRG, GMI, SUBP, SUBPS (encoded as
 * data-processing (2 source) with sf=1). Returns null when `word` is none of them.
 */
export function decodeMteDataProcessing(word: number, mte: boolean): Insn | null {
  if (!mte || ((word & 0xdfe00000) >>> 0) !== 0x9ac00000) return null;
  const opcode = (word >>> 10) & 0x3f;
  const s = (word >>> 29) & 1;
  const rd = word & 31;
  const rn = (word >>> 5) & 31;
  const rm = (word >>> 16) & 31;
  let insn: Insn;
  if (opcode === 0 && s === 0) {
    insn = new Insn(subp, word);
    insn.d = wz(rd);
  } else if (opcode === 0) {
    insn = new Insn(subps, word);
    insn.d = wz(rd);
  } else if (opcode === 4 && s === 0) {
    insn = new Insn(irg, word);
    insn.d = rsp(rd);
    insn.m = rz(rm);
  } else if (opcode === 5 && s === 0) {
    insn = new Insn(gmi, word);
    insn.d = wz(rd);
    insn.m = rz(rm);
  } else {
    return null;
  }
  insn.n = rsp(rn);
  if (opcode === 0) insn.m = rsp(rm);
  return insn;
}

/** IRG Xd|SP, Xn|SP, Xm: insert a random tag (excluding GCR_EL1.Exclude | Xm[15:0]). */
export function irg(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const tag = irgTag(cpu, x[i.m]!);
  x[i.d] = x[i.n]!;
  x[i.d + 1] = withTag(x[i.n + 1]!, tag);
  return NEXT;
}

/** GMI Xd, Xn|SP, Xm: Xm with the bit of Xn's tag set. */
export function gmi(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const bit = 1 << tagOf(x[i.n + 1]!);
  x[i.d] = x[i.m]! | bit;
  x[i.d + 1] = x[i.m + 1]!;
  return NEXT;
}

/** The low 56 bits of an address, sign-extended from bit 55, high word. */
function strip(hi: number): number {
  return (hi << 8) >> 8;
}

export function subp(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const alo = x[i.n]!;
  const blo = x[i.m]!;
  const diff = (alo >>> 0) - (blo >>> 0);
  x[i.d] = diff | 0;
  x[i.d + 1] = (strip(x[i.n + 1]!) - strip(x[i.m + 1]!) - (diff < 0 ? 1 : 0)) | 0;
  return NEXT;
}

export function subps(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const bhi = strip(x[i.m + 1]!);
  addWithCarry64(cpu, x[i.n]!, strip(x[i.n + 1]!), ~x[i.m]!, ~bhi, 1);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

// ---- load/store memory tags (C4.1.88.x "Load/store memory tags") ----

/** Insn.s of the tag stores (the JIT reads it too). */
export const KIND_STG = 0;
export const KIND_STZG = 1;
export const KIND_ST2G = 2;
export const KIND_STZ2G = 3;
const KIND_LDG = 4;
const KIND_STGM = 5;
const KIND_STZGM = 6;
const KIND_LDGM = 7;

/** Decodes the class with bits [31:24] = 0xD9 and bit 21 set. */
export function decodeMemoryTags(word: number, mte: boolean): Insn | null {
  if (!mte || (word >>> 24) !== 0xd9 || ((word >>> 21) & 1) === 0) return null;
  const opc = (word >>> 22) & 3;
  const imm9 = ((word >>> 12) & 0x1ff) << 23 >> 23;
  const op2 = (word >>> 10) & 3;
  const rn = (word >>> 5) & 31;
  const rt = word & 31;
  let kind: number;
  if (op2 === 0) {
    if (opc === 0 || opc === 2 || opc === 3) {
      if (imm9 !== 0) return null;
      kind = opc === 0 ? KIND_STZGM : opc === 2 ? KIND_STGM : KIND_LDGM;
    } else {
      kind = KIND_LDG;
    }
  } else {
    kind = [KIND_STG, KIND_STZG, KIND_ST2G, KIND_STZ2G][opc]!;
  }
  const insn = new Insn(kind === KIND_LDG ? ldg : kind === KIND_LDGM || kind === KIND_STGM || kind === KIND_STZGM ? tagMultiple : storeTag, word);
  insn.n = rsp(rn);
  insn.d = kind === KIND_LDG || kind === KIND_LDGM ? wz(rt) : kind >= KIND_LDG ? rz(rt) : rsp(rt);
  insn.imm = imm9 * 16;
  insn.s = kind;
  insn.t = op2; // 1 post-index, 2 signed offset, 3 pre-index (0 for LDG/STGM/STZGM/LDGM)
  return insn;
}

/** Address of a tag instruction's access and the writeback value (base + imm). */
function tagAddress(cpu: Cpu, i: Insn): void {
  const sum = (cpu.x[i.n]! >>> 0) + i.imm;
  R.lo = sum | 0;
  R.hi = (cpu.x[i.n + 1]! + Math.floor(sum / 2 ** 32)) | 0;
}

function writeBack(cpu: Cpu, i: Insn, lo: number, hi: number): void {
  cpu.x[i.n] = lo;
  cpu.x[i.n + 1] = hi;
}

/** STG / STZG / ST2G / STZ2G. The tag comes from Xt, the data (zeroing forms) is zeros. */
export function storeTag(cpu: Cpu, i: Insn): number {
  tagAddress(cpu, i);
  const newLo = R.lo;
  const newHi = R.hi;
  const post = i.t === 1;
  const lo = post ? cpu.x[i.n]! : newLo;
  const hi = post ? cpu.x[i.n + 1]! : newHi;
  const granules = i.s === KIND_ST2G || i.s === KIND_STZ2G ? 2 : 1;
  const zero = i.s === KIND_STZG || i.s === KIND_STZ2G;
  if ((lo & 15) !== 0) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, true);
    return dataAbort(cpu);
  }
  const tag = tagOf(cpu.x[i.d + 1]!);
  if (storeTagFast(cpu, lo, hi, granules, tag, zero)) {
    if (i.t !== 2) writeBack(cpu, i, newLo, newHi);
    return NEXT;
  }
  // One probe covers both granules of ST2G, even across a page boundary (part0 + part1).
  if (!probe(cpu, lo, hi, granules * 16, true, ACC_NOCHECK)) return dataAbort(cpu);
  writeGranules(cpu, part0, tag, zero);
  if (probedParts() === 2) writeGranules(cpu, part1, tag, zero);
  if (i.t !== 2) writeBack(cpu, i, newLo, newHi);
  return NEXT;
}

/**
 * STG family through a write-TLB hit inside one page: the entry proves write permission, and its
 * `tags` is non-null exactly when the page is Normal-Tagged with tag access enabled (otherwise the
 * tag store is ignored). Write entries only exist for pages without decoded code that are dirty
 * or not logged, so zeroing needs no further bookkeeping.
 */
function storeTagFast(cpu: Cpu, lo: number, hi: number, granules: number, tag: number, zero: boolean): boolean {
  const h = cpu.canonHi(hi);
  const e = cpu.wrBase + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  if (t.keyLo[e] !== ((lo >>> 12) | (h << 20)) || t.keyHi[e] !== h >> 12 || (lo & 0xfff) + granules * 16 > 4096) return false;
  storeTagEntry(cpu, e, lo, granules, tag, zero);
  return true;
}

/**
 * The STG family's work once write-TLB entry `e` serves the granules at `lo` (inside its page):
 * the interpreter's fast path above and the JIT's helper (jit/engine.ts) both end here.
 */
export function storeTagEntry(cpu: Cpu, e: number, lo: number, granules: number, tag: number, zero: boolean): void {
  const t = cpu.dtlb;
  const region = t.region[e]!;
  const offset = t.offset[e]! + (lo & 0xfff);
  if (zero) region.bytes.fill(0, offset, offset + granules * 16);
  const tags = t.tags[e];
  if (tags !== null) {
    // The entry's page was initialised as tagged memory when the entry was filled.
    for (let g = offset >>> 4, end = g + granules; g < end; g++) {
      const shift = (g & 1) << 2;
      tags[g >>> 1] = (tags[g >>> 1]! & ~(0xf << shift)) | (tag << shift);
    }
    region.noteTagWrite(offset, granules * 16);
  }
}

/** Writes the granules of one probed page part: zeros if asked, and the tag where tags are stored. */
function writeGranules(cpu: Cpu, part: PagePart, tag: number, zero: boolean): void {
  const region = part.region;
  if (!region) return; // MMIO: tag stores and STZG data to devices are not supported
  const offset = part.pa - region.base;
  if (zero) {
    region.bytes.fill(0, offset, offset + part.length);
    noteGuestWrite(cpu, region, offset, part.length);
  }
  if (part.attr === ATTR_TAGGED && region.tags && cpu.tagAccessEnabled(cpu.el)) {
    region.tags.fillTags(offset, part.length / 16, tag);
    region.noteTagWrite(offset, part.length);
  }
}

/** LDG Xt, [Xn|SP, #imm]: Xt's tag bits become the allocation tag of the addressed granule. */
export function ldg(cpu: Cpu, i: Insn): number {
  tagAddress(cpu, i);
  const lo = R.lo & ~15;
  const hi = R.hi;
  if (!probe(cpu, lo, hi, 1, false, ACC_NOCHECK)) return dataAbort(cpu);
  const region = part0.region;
  let tag = 0;
  if (region && region.tags && part0.attr === ATTR_TAGGED && cpu.tagAccessEnabled(cpu.el)) tag = region.tags.tagAt(part0.pa - region.base);
  cpu.x[i.d + 1] = withTag(cpu.x[i.d + 1]!, tag);
  return NEXT;
}

/** LDGM / STGM / STZGM: EL1 only. */
function tagMultiple(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) return undefinedInstruction(cpu);
  const baseLo = cpu.x[i.n]!;
  const hi = cpu.x[i.n + 1]!;
  const zeroing = i.s === KIND_STZGM;
  const block = zeroing ? DCZ_BLOCK : GM_BLOCK;
  const lo = baseLo & ~(block - 1);
  const write = i.s !== KIND_LDGM;
  if (!probe(cpu, lo, hi, block, write, ACC_NOCHECK)) return dataAbort(cpu);
  const region = part0.region;
  const tagged = region !== null && region.tags !== null && part0.attr === ATTR_TAGGED && cpu.tagAccessEnabled(cpu.el);
  const offset = region ? part0.pa - region.base : 0;
  const x = cpu.x;
  switch (i.s) {
    case KIND_LDGM: {
      let tagsLo = 0;
      let tagsHi = 0;
      if (tagged) {
        for (let g = 0; g < 16; g++) {
          const tag = region.tags!.tagAt(offset + g * 16);
          if (g < 8) tagsLo |= tag << (g * 4);
          else tagsHi |= tag << ((g - 8) * 4);
        }
      }
      x[i.d] = tagsLo;
      x[i.d + 1] = tagsHi;
      break;
    }
    case KIND_STGM:
      if (tagged) {
        const vlo = x[i.d]!;
        const vhi = x[i.d + 1]!;
        for (let g = 0; g < 16; g++) region.tags!.setTag(offset + g * 16, g < 8 ? vlo >>> (g * 4) : vhi >>> ((g - 8) * 4));
        region.noteTagWrite(offset, block);
      }
      break;
    default:
      if (region) {
        region.bytes.fill(0, offset, offset + block);
        noteGuestWrite(cpu, region, offset, block);
        if (tagged) {
          region.tags!.fillTags(offset, block / 16, x[i.d]! & 0xf);
          region.noteTagWrite(offset, block);
        }
      }
  }
  return NEXT;
}

// ---- STGP (load/store pair class, opc = 01, L = 0) ----

/** STGP Xt1, Xt2, [Xn|SP, #imm]: stores 16 bytes (unchecked) and sets the granule's tag from the address. */
export function decodeStgp(word: number, mte: boolean): Insn | null {
  if (!mte) return null;
  const mode = (word >>> 23) & 3; // 1 post-index, 2 signed offset, 3 pre-index
  if (mode === 0) return null;
  const insn = new Insn(stgp, word);
  insn.d = rz(word & 31);
  insn.a = rz((word >>> 10) & 31);
  insn.n = rsp((word >>> 5) & 31);
  insn.imm = ((((word >>> 15) & 0x7f) << 25) >> 25) * 16;
  insn.t = mode;
  return insn;
}

export function stgp(cpu: Cpu, i: Insn): number {
  tagAddress(cpu, i);
  const newLo = R.lo;
  const newHi = R.hi;
  const lo = i.t === 1 ? cpu.x[i.n]! : newLo;
  const hi = i.t === 1 ? cpu.x[i.n + 1]! : newHi;
  if ((lo & 15) !== 0) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, true);
    return dataAbort(cpu);
  }
  if (!probe(cpu, lo, hi, 16, true, ACC_NOCHECK)) return dataAbort(cpu);
  const region = part0.region;
  if (!region) {
    cpu.setFault(FSC.EXTERNAL, lo, hi, true);
    return dataAbort(cpu);
  }
  const x = cpu.x;
  const offset = part0.pa - region.base;
  const view = region.view;
  view.setInt32(offset, x[i.d]!, true);
  view.setInt32(offset + 4, x[i.d + 1]!, true);
  view.setInt32(offset + 8, x[i.a]!, true);
  view.setInt32(offset + 12, x[i.a + 1]!, true);
  noteGuestWrite(cpu, region, offset, 16);
  if (part0.attr === ATTR_TAGGED && region.tags && cpu.tagAccessEnabled(cpu.el)) {
    region.tags.setTag(offset, tagOf(hi));
    region.noteTagWrite(offset, 16);
  }
  if (i.t !== 2) writeBack(cpu, i, newLo, newHi);
  return NEXT;
}
