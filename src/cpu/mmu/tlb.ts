import type { RamRegion } from '../../memory/index.js';
import type { CodePage } from '../fetch.js';

/** 1024 entries per set (4 MiB of reach): a guest sweeping a few MiB stays in the TLB. */
export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/** keyHi of an empty entry: no canonical address produces it. */
export const TLB_INVALID = 0x40000000;

/** Data TLB sets: one per (EL, access kind), each TLB_SIZE entries, direct-mapped. */
export const SET_EL0_READ = 0;
export const SET_EL0_WRITE = 1;
export const SET_EL1_READ = 2;
export const SET_EL1_WRITE = 3;
const DATA_SETS = 4;
/** Bytes `moveInto` places in a region's memory. */
export const JIT_TLB_BYTES = DATA_SETS * TLB_SIZE * 16;
/** Bytes `FetchTlb.moveInto` places in a memory. */
export const FETCH_TLB_BYTES = 2 * TLB_SIZE * 12;

/**
 * The entries a TLB made from blocks since its last flush: how many, and which blocks (2 MiB and
 * 1 GiB, by number). A TLBI by VA in none of them cannot hit an entry from a block, so it drops
 * only the page's slots. Linux's boot issues ~48 K TLBIs, nearly all for the fixmap page it patches
 * kernel text through, between block-mapped kernel image and device tree: one range covering all
 * blocks (QEMU's large-page rule) would scan every entry for each (10 % of a boot).
 */
export class BlockEntries {
  count = 0;
  private readonly blocks2M = new Set<number>();
  private readonly blocks1G = new Set<number>();

  /** An entry keyed (keyLo, keyHi) came from a walk ending at `level` (3: a page). */
  note(keyLo: number, keyHi: number, level: number): void {
    if (level >= 3) return;
    this.count++;
    const vpn = vpnOf(keyLo, keyHi);
    if (level === 2) this.blocks2M.add(Math.floor(vpn / 2 ** 9));
    else this.blocks1G.add(Math.floor(vpn / 2 ** 18));
  }

  /** Some entry from a block may translate the page (vpnLo, vpnHi). */
  mayCover(vpnLo: number, vpnHi: number): boolean {
    if (this.count === 0) return false;
    const vpn = vpnOf(vpnLo, vpnHi);
    return this.blocks2M.has(Math.floor(vpn / 2 ** 9)) || this.blocks1G.has(Math.floor(vpn / 2 ** 18));
  }

  clear(): void {
    this.count = 0;
    this.blocks2M.clear();
    this.blocks1G.clear();
  }
}

/** VA[47:12] as one number, from VA[43:12] and (the low 4 bits of) VA[63:44]. */
const vpnOf = (lo: number, hi: number): number => (hi & 0xf) * 2 ** 32 + (lo >>> 0);

/**
 * TLBI by VA on one TLB's columns (`sets` sets of TLB_SIZE entries from 0): drops the VA page's
 * slot in every set, and, when an entry from a block may cover the page, every entry made from a
 * block that covers it. `vpnLo` = VA[43:12], `vpnHi` = VA[47:44] (a TLBI's Xt); comparing
 * VA[47:12] only drops more entries than needed, never fewer. Other entries stay: a TLBI by VA
 * invalidates the entries that translate that VA, as QEMU's per-page flush does (with its own
 * large-page rule).
 */
function flushVaIn(keyLo: Int32Array<ArrayBufferLike>, keyHi: Int32Array<ArrayBufferLike>, level: Uint8Array, blocks: BlockEntries, size: number, vpnLo: number, vpnHi: number): void {
  for (let base = 0; base < keyHi.length; base += size) keyHi[base + (vpnLo & (size - 1))] = TLB_INVALID;
  if (!blocks.mayCover(vpnLo, vpnHi)) return;
  for (let e = 0; e < keyHi.length; e++) {
    const lv = level[e]!;
    if (lv >= 3 || keyHi[e] === TLB_INVALID) continue;
    const shift = 9 * (3 - lv);
    if (keyLo[e]! >>> shift === vpnLo >>> shift && (keyHi[e]! & 0xf) === (vpnHi & 0xf)) keyHi[e] = TLB_INVALID;
  }
}

/**
 * Software TLB for data accesses. An entry maps one virtual page to the bytes of a RAM page the
 * access may touch without further checks; anything else (MMIO, Device memory, pages under
 * dirty logging that are still clean, code pages for writes) never gets an entry and takes the
 * slow path. Keys: keyLo = VA[43:12], keyHi = VA[63:44], both after TBI canonicalisation.
 */
export class DataTlb {
  keyLo = new Int32Array(DATA_SETS * TLB_SIZE);
  keyHi = new Int32Array(DATA_SETS * TLB_SIZE).fill(TLB_INVALID);
  /**
   * For the JIT (src/cpu/jit): the page's byte offset in `jitRegion`'s memory, or -1 when the page
   * lies in another region; and 1 when the entry holds tags (the page needs the MTE check).
   */
  jitPage = new Int32Array(DATA_SETS * TLB_SIZE).fill(-1);
  jitTagged = new Int32Array(DATA_SETS * TLB_SIZE);
  jitRegion: RamRegion | null = null;
  /** Byte offset of the page inside its region's buffer. */
  readonly offset = new Float64Array(DATA_SETS * TLB_SIZE);
  /** Physical page address, for invalidation by physical page. */
  readonly pagePa = new Float64Array(DATA_SETS * TLB_SIZE);
  readonly view: DataView[] = new Array<DataView>(DATA_SETS * TLB_SIZE);
  /** Packed tag storage of the region, when the page is Normal-Tagged and tags may be checked. */
  readonly tags: (Uint8Array | null)[] = new Array<Uint8Array | null>(DATA_SETS * TLB_SIZE).fill(null);
  /** MAIR attribute and region of the page, for the slow path's probes. */
  readonly attr = new Uint8Array(DATA_SETS * TLB_SIZE);
  readonly region: (RamRegion | null)[] = new Array<RamRegion | null>(DATA_SETS * TLB_SIZE).fill(null);
  /** The walk level each entry came from (3: a page; 2, 1: a block), and the entries from blocks since the last flush. */
  readonly level = new Uint8Array(DATA_SETS * TLB_SIZE);
  readonly blocks = new BlockEntries();

  flush(): void {
    this.keyHi.fill(TLB_INVALID);
    this.blocks.clear();
  }

  /** TLBI by VA (flushVaIn). */
  flushVa(vpnLo: number, vpnHi: number): void {
    flushVaIn(this.keyLo, this.keyHi, this.level, this.blocks, TLB_SIZE, vpnLo, vpnHi);
  }

  /**
   * Moves keyLo, keyHi, jitPage and jitTagged into `region`'s memory at byte `at` (JIT_TLB_BYTES),
   * where the JIT's code reads them (jit/layout.ts); the entries are dropped.
   */
  moveInto(region: RamRegion, at: number): void {
    const buffer = region.wasmMemory.buffer;
    const n = DATA_SETS * TLB_SIZE;
    this.keyLo = new Int32Array(buffer, at, n);
    this.keyHi = new Int32Array(buffer, at + 4 * n, n).fill(TLB_INVALID);
    this.jitPage = new Int32Array(buffer, at + 8 * n, n).fill(-1);
    this.jitTagged = new Int32Array(buffer, at + 12 * n, n);
    this.jitRegion = region;
  }

  flushSet(set: number): void {
    this.keyHi.fill(TLB_INVALID, set * TLB_SIZE, (set + 1) * TLB_SIZE);
  }

  /** Drops every write entry that maps physical page `pagePa` (it became a code page or clean). */
  flushWritesTo(pagePa: number): void {
    for (const set of [SET_EL0_WRITE, SET_EL1_WRITE]) {
      for (let e = set * TLB_SIZE; e < (set + 1) * TLB_SIZE; e++) {
        if (this.pagePa[e] === pagePa) this.keyHi[e] = TLB_INVALID;
      }
    }
  }
}

/**
 * Instruction TLB: virtual page -> the decoded-instruction array of the physical page. Two sets
 * (EL0, EL1) since execute permission differs per EL.
 */
export class FetchTlb {
  keyLo: Int32Array<ArrayBufferLike> = new Int32Array(2 * TLB_SIZE);
  keyHi: Int32Array<ArrayBufferLike> = new Int32Array(2 * TLB_SIZE).fill(TLB_INVALID);
  /** The physical page number (PA / 4096) of each entry: the JIT's jump cache checks it (jit/chain.ts). */
  pagePa: Int32Array<ArrayBufferLike> = new Int32Array(2 * TLB_SIZE);
  readonly code: CodePage[] = new Array<CodePage>(2 * TLB_SIZE);
  /** The walk level each entry came from (3: a page; 2, 1: a block), and the entries from blocks since the last flush. */
  readonly level = new Uint8Array(2 * TLB_SIZE);
  readonly blocks = new BlockEntries();

  flush(): void {
    this.keyHi.fill(TLB_INVALID);
    this.blocks.clear();
  }

  /** TLBI by VA (flushVaIn). */
  flushVa(vpnLo: number, vpnHi: number): void {
    flushVaIn(this.keyLo, this.keyHi, this.level, this.blocks, TLB_SIZE, vpnLo, vpnHi);
  }

  /** Moves the key and page columns into `buffer` at byte `at` (FETCH_TLB_BYTES; the JIT's area), keeping the entries. */
  moveInto(buffer: ArrayBufferLike, at: number): void {
    const n = 2 * TLB_SIZE;
    const move = (old: Int32Array<ArrayBufferLike>, i: number): Int32Array<ArrayBufferLike> => {
      const view = new Int32Array(buffer, at + i * 4 * n, n);
      view.set(old);
      return view;
    };
    this.keyLo = move(this.keyLo, 0);
    this.keyHi = move(this.keyHi, 1);
    this.pagePa = move(this.pagePa, 2);
  }
}
