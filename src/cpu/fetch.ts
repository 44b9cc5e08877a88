import type { RamRegion } from '../memory/index.js';
import type { Cpu } from './cpu.js';
import { FSC } from './exceptions.js';
import type { Insn } from './insn.js';
import type { JitPage } from './jit/page.js';
import { TLB_MASK, TLB_SIZE } from './mmu/tlb.js';
import { PERM_X0, PERM_X1, translate, type WalkResult } from './mmu/translate.js';

/** Decoded instructions of one physical page, filled lazily slot by slot. */
export class CodePage {
  readonly insns: (Insn | undefined)[] = new Array<Insn | undefined>(1024);
  /** Compiled regions of the page (jit/engine.ts); null: none. Writes to the page drop them. */
  jit: JitPage | null = null;
  constructor(
    readonly region: RamRegion,
    /** Byte offset of the page in the region. */
    readonly offset: number,
    readonly view: DataView,
  ) {}
}

const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };

/**
 * The decoded page holding the PC, through the instruction TLB. On a fetch fault it records the
 * fault (fault/faultLo/faultHi) and returns null; the caller takes the instruction abort.
 */
export function fetchCodePage(cpu: Cpu): CodePage | null {
  const lo = cpu.pcLo;
  const hi = cpu.pcHi;
  const h = cpu.canonHi(hi);
  const tlb = cpu.itlb;
  const e = cpu.el * TLB_SIZE + ((lo >>> 12) & TLB_MASK);
  const keyLo = (lo >>> 12) | (h << 20);
  if (tlb.keyLo[e] === keyLo && tlb.keyHi[e] === h >> 12) return tlb.code[e]!;

  // Debugger: the translation changed since breakpoints were placed; move them first.
  if (cpu.debug !== null && cpu.debug.translationStale) cpu.debug.resolveAll();
  const fsc = translate(cpu.regime, cpu.space, lo, h, true, walk);
  if (fsc >= 0) {
    cpu.setFault(fsc, lo, hi, false);
    return null;
  }
  if ((walk.perms & (cpu.el === 0 ? PERM_X0 : PERM_X1)) === 0) {
    cpu.setFault(FSC.PERMISSION | walk.level, lo, hi, false);
    return null;
  }
  const region = cpu.space.findRam(walk.pagePa);
  if (!region) {
    cpu.setFault(FSC.EXTERNAL, lo, hi, false);
    return null;
  }
  // Post-copy: no decoded page (nor compiled code) from a page that has not arrived.
  region.ensurePresent((walk.pagePa - region.base) >>> 12);
  let page = cpu.codePages.get(walk.pagePa);
  if (!page) {
    const offset = walk.pagePa - region.base;
    page = new CodePage(region, offset, region.view);
    cpu.codePages.set(walk.pagePa, page);
    // From now on guest stores to this page must go through the slow path to keep decodes exact.
    region.codePages[offset / 4096] = 1;
    cpu.dtlb.flushWritesTo(walk.pagePa);
  }
  tlb.keyLo[e] = keyLo;
  tlb.keyHi[e] = h >> 12;
  tlb.pagePa[e] = walk.pagePa / 4096;
  tlb.level[e] = walk.level;
  tlb.blocks.note(keyLo, tlb.keyHi[e]!, walk.level);
  tlb.code[e] = page;
  return page;
}
