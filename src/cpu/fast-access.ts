import type { Cpu } from './cpu.js';
import { TLB_MASK } from './mmu/tlb.js';

/**
 * The one description of the data-access fast path: a direct-mapped TLB lookup whose hit is a key
 * compare, then the inline MTE check that costs one compare when the granule's tag matches. The
 * interpreter's loads and stores (cpu.ts, isa/ldst-*.ts, isa/simd-mem.ts) call these; the JIT emits the same steps
 * in WebAssembly (jit/emit-memory.ts), and test/jit/fast-path.test.ts holds the two together.
 *
 * Keys: keyLo = VA[43:12] and keyHi = VA[63:44] of the address after TBI canonicalisation (the top
 * byte replaced so tagged pointers share entries), as DataTlb documents.
 */

/** The canonical high word of (lo, hi) under the current TBI settings (cpu.canonHi inlined). */
export function canonicalHi(cpu: Cpu, hi: number): number {
  return (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
}

/**
 * The TLB entry (in the set starting at `base`: cpu.rdBase or cpu.wrBase) serving an access of
 * `size` bytes at (lo, hi) that stays inside its page, or -1: a miss, or the access crosses the
 * page and must take the slow path.
 */
export function tlbEntry(cpu: Cpu, lo: number, hi: number, base: number, size: number): number {
  const h = (hi & 0x00800000) !== 0 ? hi | cpu.tbiOr1 : hi & cpu.tbiAnd0;
  const e = base + ((lo >>> 12) & TLB_MASK);
  const t = cpu.dtlb;
  return t.keyLo[e] === ((lo >>> 12) | (h << 20)) && t.keyHi[e] === h >> 12 && (lo & 0xfff) <= 4096 - size ? e : -1;
}

/** The byte offset of (lo) in the view of TLB entry `e`. */
export function entryOffset(cpu: Cpu, e: number, lo: number): number {
  return cpu.dtlb.offset[e]! + (lo & 0xfff);
}

/**
 * The inline tag check of a tag-checked fast-path access of `size` bytes (1..16) at region offset
 * `off`: true when the access must not happen (a synchronous tag-check fault was raised). Only an
 * access whose first granule's allocation tag differs from the pointer's logical tag, or that
 * spans two granules, reaches cpu.tagMismatch (TBI, TCMA, TCF mode, asynchronous recording).
 */
export function tagCheckFails(cpu: Cpu, e: number, off: number, lo: number, hi: number, size: number, write: boolean): boolean {
  if (cpu.mteActive === 0) return false;
  const tags = cpu.dtlb.tags[e]!;
  if (tags === null) return false;
  if (((((tags[off >>> 5]! >>> ((off >>> 2) & 4)) ^ (hi >>> 24)) & 15) === 0) && (off & 15) <= 16 - size) return false;
  return cpu.tagMismatch(tags, off, lo, hi, size, write);
}
