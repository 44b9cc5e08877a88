import { ACTIVITY_GUEST, mmioRead, mmioWrite, type MmioRange, type RamRegion } from '../memory/index.js';
import type { Cpu } from './cpu.js';
import { FSC } from './exceptions.js';
import { TLB_MASK, TLB_SIZE, SET_EL0_READ, SET_EL0_WRITE, SET_EL1_READ, SET_EL1_WRITE } from './mmu/tlb.js';
import { ATTR_TAGGED, isDeviceAttr, PERM_R0, PERM_R1, PERM_W0, PERM_W1, translate, type WalkResult } from './mmu/translate.js';

/** Access flags for the slow path. */
export const ACC_UNPRIV = 1; // LDTR/STTR: EL0 permissions and EL0 tag-check controls
export const ACC_ALIGN = 2; // natural alignment required (exclusives)
export const ACC_ALIGN16 = 4; // must not cross a 16-byte boundary (FEAT_LSE2: atomics, LDAR/STLR)
/**
 * Read-modify-write: needs read and write permission; translation, permission and alignment faults
 * report a write (WnR = 1). The tag check follows `write`: LD<op>/SWP probe with write = false
 * and are checked as reads (sync in asymmetric mode, WnR = 0), CAS/CASP with write = true, as
 * QEMU does (gen_mte_check1 in translate-a64.c).
 */
export const ACC_RMW = 8;
export const ACC_NOCHECK = 16; // never tag-checked
export const ACC_CM = 32; // cache-maintenance style access (DC ZVA): ESR.CM
/** LDP/STP and friends: one access of two elements; SCTLR_EL1.A and Device alignment apply per element. */
export const ACC_PAIR = 64;

/** One translated page of an access. */
export class PagePart {
  region: RamRegion | null = null;
  mmio: MmioRange | null = null;
  pa = 0;
  attr = 0;
  /** VA of the first byte of this part. */
  lo = 0;
  hi = 0;
  length = 0;
}

const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };
/** The first page of the last probed access (tag instructions need its region and attribute). */
export const part0 = new PagePart();
/** The second page of the last probed access, when it crossed a page boundary (`probedParts` = 2). */
export const part1 = new PagePart();
let parts = 0;

/** How many pages the last successful probe covered (1 or 2). */
export function probedParts(): number {
  return parts;
}

/** The EL whose permissions and tag-check controls an access uses. */
export function accessEl(cpu: Cpu, flags: number): number {
  return (flags & ACC_UNPRIV) !== 0 && cpu.uao === 0 ? 0 : cpu.el;
}

/**
 * Translates, permission-checks and tag-checks an access of `size` bytes (which may cross one
 * page boundary) without performing it. On success the page parts are left in part0/part1 for
 * `perform`; on failure `cpu.fault` is set. Fault priority follows the architecture: alignment
 * required by the instruction, then translation/permission in address order, then alignment due
 * to Device memory, then the tag check.
 */
export function probe(cpu: Cpu, lo: number, hi: number, size: number, write: boolean, flags: number): boolean {
  const reportWrite = write || (flags & ACC_RMW) !== 0;
  const unit = (flags & ACC_PAIR) !== 0 ? size >>> 1 : size;
  if (((flags & ACC_ALIGN) !== 0 && (lo & (size - 1)) !== 0) || (cpu.alignCheck && (lo & (unit - 1)) !== 0)) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, reportWrite);
    return false;
  }
  if ((flags & ACC_ALIGN16) !== 0 && (lo & 15) + size > 16) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, reportWrite);
    return false;
  }
  const el = accessEl(cpu, flags);
  const inFirst = 4096 - (lo & 0xfff);
  if (!translatePart(cpu, part0, lo, hi, Math.min(size, inFirst), write, flags, el)) return false;
  parts = 1;
  if (size > inFirst) {
    const nextLo = (lo + inFirst) | 0;
    const nextHi = nextLo === 0 ? (hi + 1) | 0 : hi;
    if (!translatePart(cpu, part1, nextLo, nextHi, size - inFirst, write, flags, el)) return false;
    parts = 2;
  }
  // Debugger watchpoints stop the access before it happens (debug-hooks.ts).
  if (cpu.debug !== null && cpu.debug.watchCount !== 0 && cpu.debug.watchHit(lo, hi, size, reportWrite, !write || (flags & ACC_RMW) !== 0)) return false;
  if (isDeviceAttr(part0.attr) && (lo & (unit - 1)) !== 0) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, reportWrite);
    return false;
  }
  if ((flags & ACC_NOCHECK) === 0 && cpu.tco === 0 && cpu.tagCheckMode(el) !== 0) {
    if (checkPartTags(cpu, part0, lo, hi, size, write, el, true)) return false;
    if (parts === 2 && checkPartTags(cpu, part1, lo, hi, size, write, el, false)) return false;
  }
  return true;
}

function translatePart(cpu: Cpu, part: PagePart, lo: number, hi: number, length: number, write: boolean, flags: number, el: number): boolean {
  const reportWrite = write || (flags & ACC_RMW) !== 0;
  const needRead = !write || (flags & ACC_RMW) !== 0;
  const needWrite = write || (flags & ACC_RMW) !== 0;
  const h = cpu.canonHi(hi);
  part.lo = lo;
  part.hi = hi;
  part.length = length;
  // A TLB hit in the access EL's set(s) proves the permission check passed when the entry was
  // filled: translation, PAN and dirty-logging changes all flush the sets they affect.
  const index = (lo >>> 12) & TLB_MASK;
  const readHit = needRead ? tlbHit(cpu, (el === 0 ? SET_EL0_READ : SET_EL1_READ) * TLB_SIZE + index, lo, h) : -1;
  const writeHit = needWrite ? tlbHit(cpu, (el === 0 ? SET_EL0_WRITE : SET_EL1_WRITE) * TLB_SIZE + index, lo, h) : -1;
  if ((!needRead || readHit >= 0) && (!needWrite || writeHit >= 0)) {
    const e = needWrite ? writeHit : readHit;
    const t = cpu.dtlb;
    part.pa = t.pagePa[e]! + (lo & 0xfff);
    part.attr = t.attr[e]!;
    part.region = t.region[e]!;
    part.mmio = null;
    return true;
  }
  const fsc = translate(cpu.regime, cpu.space, lo, h, false, walk);
  if (fsc >= 0) {
    cpu.setFault(fsc, lo, hi, reportWrite);
    return false;
  }
  const perms = walk.perms;
  let allowed = el === 0
    ? (!needRead || (perms & PERM_R0) !== 0) && (!needWrite || (perms & PERM_W0) !== 0)
    : (!needRead || (perms & PERM_R1) !== 0) && (!needWrite || (perms & PERM_W1) !== 0);
  // PAN: privileged data accesses to memory EL0 can reach are refused.
  if (el === 1 && cpu.pan !== 0 && (flags & ACC_UNPRIV) === 0 && (perms & PERM_R0) !== 0) allowed = false;
  if (!allowed) {
    cpu.setFault(FSC.PERMISSION | walk.level, lo, hi, reportWrite);
    return false;
  }
  const pa = walk.pagePa + (lo & 0xfff);
  part.pa = pa;
  part.attr = walk.attr;
  part.region = cpu.space.findRam(pa) ?? null;
  part.mmio = part.region ? null : (cpu.space.findMmio(pa) ?? null);
  // Post-copy: the page and its tags arrive before the access, its tag check or a TLB entry.
  part.region?.ensurePresent((pa - part.region.base) >>> 12);
  // A part that is neither RAM nor MMIO faults (external abort) when performed, after the tag check.
  if (part.region && el === cpu.el) {
    if (needRead) fillTlb(cpu, part, h, false);
    if (needWrite) fillTlb(cpu, part, h, true);
  }
  return true;
}

function tlbHit(cpu: Cpu, e: number, lo: number, h: number): number {
  const t = cpu.dtlb;
  return t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 ? e : -1;
}

/** Checks the granules of one part; returns true if a synchronous fault was raised. */
function checkPartTags(cpu: Cpu, part: PagePart, lo: number, hi: number, size: number, write: boolean, el: number, first: boolean): boolean {
  const region = part.region;
  if (part.attr !== ATTR_TAGGED || !region || !region.tags) return false;
  const upper = (hi & 0x00800000) !== 0;
  if (upper ? !cpu.tbi1 : !cpu.tbi0) return false;
  const logical = (hi >>> 24) & 0xf;
  if (upper ? cpu.tcma1 && logical === 15 : cpu.tcma0 && logical === 0) return false;
  const offset = part.pa - region.base;
  const firstGranule = Math.floor(offset / 16);
  const lastGranule = Math.floor((offset + part.length - 1) / 16);
  for (let g = firstGranule; g <= lastGranule; g++) {
    const allocation = region.tags.tagAt(g * 16);
    if (allocation === logical) continue;
    // Fault address: the access address for its first granule, else the granule's start.
    let faultLo = lo;
    let faultHi = hi;
    if (!(first && g === firstGranule)) {
      const granuleVa = (part.lo & ~0xf) + (g - firstGranule) * 16;
      faultLo = granuleVa | 0;
      faultHi = part.hi;
    }
    return cpu.tagCheckFailed(faultLo, faultHi, logical, allocation, size, write, el);
  }
  return false;
}

/** Reads `length` bytes of a probed part as a little-endian number (length <= 4) at byte `shift`. */
function readPart(cpu: Cpu, part: PagePart, into: Uint8Array, at: number): boolean {
  if (part.region) {
    const offset = part.pa - part.region.base;
    into.set(part.region.bytes.subarray(offset, offset + part.length), at);
    return true;
  }
  if (part.mmio) {
    // Devices take at most 8 bytes per access (a 16-byte LDP is two).
    for (let done = 0; done < part.length; done += 8) {
      const size = Math.min(8, part.length - done) as 1 | 2 | 4 | 8;
      const value = mmioRead(part.mmio, part.pa - part.mmio.base + done, size);
      for (let i = 0; i < size; i++) into[at + done + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
    return true;
  }
  cpu.setFault(FSC.EXTERNAL, part.lo, part.hi, false);
  return false;
}

function writePart(cpu: Cpu, part: PagePart, from: Uint8Array, at: number): boolean {
  const region = part.region;
  if (region && !region.readOnly) {
    const offset = part.pa - region.base;
    region.bytes.set(from.subarray(at, at + part.length), offset);
    noteGuestWrite(cpu, region, offset, part.length);
    return true;
  }
  if (part.mmio) {
    for (let done = 0; done < part.length; done += 8) {
      const size = Math.min(8, part.length - done) as 1 | 2 | 4 | 8;
      let value = 0n;
      for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(from[at + done + i]!);
      mmioWrite(part.mmio, part.pa - part.mmio.base + done, size, value);
    }
    return true;
  }
  cpu.setFault(FSC.EXTERNAL, part.lo, part.hi, true);
  return false;
}

/**
 * A guest store that bypassed the fast path: dirty-log it, and drop exactly the decoded
 * instructions it overwrote (so data sharing a page with code does not thrash the decode cache).
 */
export function noteGuestWrite(cpu: Cpu, region: RamRegion, offset: number, length: number): void {
  const firstPage = Math.floor(offset / 4096);
  const lastPage = Math.floor((offset + length - 1) / 4096);
  // The live viewer's guest write counter (memory/activity.ts): slow-path stores only, by design.
  region.activity.dataPages[ACTIVITY_GUEST]! += lastPage - firstPage + 1;
  for (let page = firstPage; page <= lastPage; page++) {
    if (region.dirtyLogging) region.dataDirty.mark(page);
    if (region.codePages[page] !== 1) continue;
    const code = cpu.codePages.get(region.base + page * 4096);
    if (!code) continue;
    const start = Math.max(offset, page * 4096) - page * 4096;
    const end = Math.min(offset + length, (page + 1) * 4096) - page * 4096;
    for (let slot = start >>> 2; slot <= (end - 1) >>> 2; slot++) code.insns[slot] = undefined;
    if (code.jit !== null) {
      code.jit = null; // compiled regions may hold the overwritten instructions
      cpu.codeGeneration++; // and the JIT's jump cache may lead to them
    }
  }
}

/** Data of the last slow-path transfer (up to 16 bytes, little-endian). */
export const scratch = new Uint8Array(16);
export const scratchView = new DataView(scratch.buffer);

/** Probes and reads `size` bytes into `scratch`. Returns false with cpu.fault set on a fault. */
export function slowLoadBytes(cpu: Cpu, lo: number, hi: number, size: number, flags: number): boolean {
  if (!probe(cpu, lo, hi, size, false, flags)) return false;
  if (!readPart(cpu, part0, scratch, 0)) return false;
  if (parts === 2 && !readPart(cpu, part1, scratch, part0.length)) return false;
  return true;
}

/** Probes and writes `size` bytes from `scratch`. */
export function slowStoreBytes(cpu: Cpu, lo: number, hi: number, size: number, flags: number): boolean {
  if (!probe(cpu, lo, hi, size, true, flags)) return false;
  if (!writePart(cpu, part0, scratch, 0)) return false;
  if (parts === 2 && !writePart(cpu, part1, scratch, part0.length)) return false;
  return true;
}

/** Loads `size` (1, 2, 4, 8) bytes; returns the low word (zero-extended below 4 bytes), high word in cpu.ldHi. */
export function slowLoad(cpu: Cpu, lo: number, hi: number, size: number, flags: number): number {
  if (!slowLoadBytes(cpu, lo, hi, size, flags)) return 0;
  switch (size) {
    case 1:
      return scratch[0]!;
    case 2:
      return scratchView.getUint16(0, true);
    case 4:
      return scratchView.getInt32(0, true);
    default:
      cpu.ldHi = scratchView.getInt32(4, true);
      return scratchView.getInt32(0, true);
  }
}

/** Stores the low `size` bytes of (vlo, vhi). */
export function slowStore(cpu: Cpu, lo: number, hi: number, size: number, vlo: number, vhi: number, flags: number): void {
  scratchView.setInt32(0, vlo, true);
  scratchView.setInt32(4, vhi, true);
  slowStoreBytes(cpu, lo, hi, size, flags);
}

/**
 * Installs a TLB entry for a page the slow path just translated, when the fast path may handle
 * every later access to it on its own: RAM, not Device, no strict alignment, and for writes a
 * writable page that holds no decoded code and is already dirty (or not logged).
 */
function fillTlb(cpu: Cpu, part: PagePart, h: number, write: boolean): void {
  const region = part.region!;
  if (isDeviceAttr(part.attr) || cpu.alignCheck) return;
  const offset = part.pa - region.base;
  const pageOffset = offset - (offset % 4096);
  const page = pageOffset / 4096;
  if (write && (region.readOnly || region.codePages[page] === 1 || (region.dirtyLogging && !region.dataDirty.isSet(page)))) return;
  // Watched pages stay on the slow path, where watchpoints are checked.
  if (cpu.debug !== null && cpu.debug.watchCount !== 0 && cpu.debug.watchesPage(part.lo, h)) return;
  let tags: Uint8Array | null = null;
  if (part.attr === ATTR_TAGGED && region.tags && cpu.tagAccessEnabled(cpu.el)) {
    region.tags.ensureInitialised(page);
    tags = region.tags.packed;
  }
  const set = cpu.el === 0 ? (write ? SET_EL0_WRITE : SET_EL0_READ) : write ? SET_EL1_WRITE : SET_EL1_READ;
  const lo = part.lo;
  const e = set * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  t.keyLo[e] = (lo >>> 12) | (h << 20);
  t.keyHi[e] = h >> 12;
  t.level[e] = walk.level; // fillTlb runs right after translatePart's walk
  t.blocks.note(t.keyLo[e]!, t.keyHi[e]!, walk.level);
  t.offset[e] = pageOffset;
  t.pagePa[e] = region.base + pageOffset;
  t.view[e] = region.view;
  t.tags[e] = tags;
  t.attr[e] = part.attr;
  t.region[e] = region;
  t.jitPage[e] = region === t.jitRegion ? pageOffset : -1;
  t.jitTagged[e] = tags !== null ? 1 : 0;
}

