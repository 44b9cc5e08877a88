import { ACTIVITY_MIGRATION, PAGE_SIZE, type RamRegion } from '../../memory/index.js';
import { encodeChunk, SEND_DATA, TAGS_FORGET, TAGS_READ, type ChunkJob, type EncodedChunk, type RegionMemory } from './chunk-codec.js';
import { MAX_RAM_PAGES_PER_SECTION } from './payloads.js';

/**
 * Encoders of page chunks (chunk-codec.ts), possibly on other threads over shared guest memory:
 * the vCPU's thread only harvests dirty bitmaps and hands out chunks. Node's implementation
 * (worker threads) is in src/node/migration; InThreadEncoders serves the browser, protected VMs
 * and memories that are not shared.
 */
export interface EncoderPool {
  /** Jobs worth keeping in flight (a few per thread). */
  readonly depth: number;
  encode(job: ChunkJob): Promise<EncodedChunk>;
  /** A RAM section `encode` made has been written out: its buffer may build another. */
  recycle?(section: Uint8Array): void;
  close(): void;
}

/**
 * The destination's counterpart: RAM sections verified and written into guest memory by other
 * threads (ram-apply.ts). Resolves with the pages applied per region; rejects, having written
 * nothing of that section, when it is invalid.
 */
export interface DecoderPool {
  readonly depth: number;
  applyRam(frame: Uint8Array): Promise<number[]>;
  close(): void;
}

export type DecoderPoolFactory = (regions: readonly RegionMemory[]) => DecoderPool | null;

/** Builds the pool for a machine's RAM regions (MigrationOptions.encoders). */
export type EncoderPoolFactory = (regions: readonly RegionMemory[]) => EncoderPool;

/** How the encoders see each region: its data and packed tags (shared memory when workers use them). */
export function regionMemories(regions: readonly RamRegion[]): RegionMemory[] {
  return regions.map((r) => ({ base: r.base, data: r.bytes, tags: r.tags ? r.tags.packed : null }));
}

export class InThreadEncoders implements EncoderPool {
  readonly depth = 1;

  constructor(private readonly regions: readonly RegionMemory[]) {}

  encode(job: ChunkJob): Promise<EncodedChunk> {
    return Promise.resolve(encodeChunk(this.regions[job.region]!, job));
  }

  close(): void {}
}

/**
 * The pages of one round, each with what to send of it (its data, its tags), in typed arrays: a
 * 1 GiB guest's round 0 lists 262,144 pages, and a tuple per page cost the vCPU's thread
 * ~100-150 ms to build and plan before the first chunk could leave.
 */
export class PageList {
  private gpas: Float64Array;
  /** Bit 0: send the data; bit 1: send the tags. */
  private what: Uint8Array;
  length = 0;
  dataPages = 0;
  tagPages = 0;

  constructor(capacity = 1024) {
    this.gpas = new Float64Array(Math.max(capacity, 16));
    this.what = new Uint8Array(this.gpas.length);
  }

  /** Every page of every region, data and tags. */
  static everything(layout: readonly { base: number; size: number }[]): PageList {
    const list = new PageList(layout.reduce((pages, r) => pages + r.size / PAGE_SIZE, 0));
    for (const r of layout) for (let gpa = r.base; gpa < r.base + r.size; gpa += PAGE_SIZE) list.add(gpa, true, true);
    return list;
  }

  add(gpa: number, data: boolean, tags: boolean): void {
    if (this.length === this.gpas.length) {
      const gpas = new Float64Array(this.length * 2);
      gpas.set(this.gpas);
      this.gpas = gpas;
      const what = new Uint8Array(this.length * 2);
      what.set(this.what);
      this.what = what;
    }
    this.gpas[this.length] = gpa;
    this.what[this.length++] = (data ? 1 : 0) | (tags ? 2 : 0);
    if (data) this.dataPages++;
    if (tags) this.tagPages++;
  }

  gpa(i: number): number {
    return this.gpas[i]!;
  }

  data(i: number): boolean {
    return (this.what[i]! & 1) !== 0;
  }

  tags(i: number): boolean {
    return (this.what[i]! & 2) !== 0;
  }
}

/**
 * Splits a round's pages into chunk jobs of one region each, deciding each page's tag mode here
 * on the vCPU's thread (the tag store's "initialised" flags are not in shared memory).
 * `announceUntagged`: a page never used as tagged memory is announced ("forget its tags") rather
 * than skipped (later rounds: a reset may have forgotten tags the destination holds).
 */
export function planChunks(regions: readonly RamRegion[], pages: PageList, announceUntagged: boolean): ChunkJob[] {
  const jobs: ChunkJob[] = [];
  // One chunk open per region, filled in place and copied out at its final size.
  const open = regions.map(() => ({ pages: new Uint32Array(MAX_RAM_PAGES_PER_SECTION), modes: new Uint8Array(MAX_RAM_PAGES_PER_SECTION), count: 0 }));
  const flush = (index: number): void => {
    const o = open[index]!;
    if (o.count === 0) return;
    jobs.push({ region: index, pages: o.pages.slice(0, o.count), modes: o.modes.slice(0, o.count) });
    regions[index]!.activity.readPages[ACTIVITY_MIGRATION]! += o.count;
    o.count = 0;
  };
  let index = 0;
  for (let i = 0; i < pages.length; i++) {
    const gpa = pages.gpa(i);
    if (!regions[index]!.contains(gpa, PAGE_SIZE)) index = regions.findIndex((r) => r.contains(gpa, PAGE_SIZE));
    const region = regions[index]!;
    const page = (gpa - region.base) / PAGE_SIZE;
    let mode = pages.data(i) ? SEND_DATA : 0;
    if (pages.tags(i) && region.tags) mode |= region.tags.isInitialised(page) ? TAGS_READ : announceUntagged ? TAGS_FORGET : 0;
    if (mode === 0) continue;
    const o = open[index]!;
    o.pages[o.count] = page;
    o.modes[o.count++] = mode;
    if (o.count >= MAX_RAM_PAGES_PER_SECTION) flush(index);
  }
  regions.forEach((_, i) => flush(i));
  return jobs;
}
