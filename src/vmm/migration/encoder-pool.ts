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

/** A page to stream: address, send its data, send its tags. */
export type PageToSend = readonly [number, boolean, boolean];

/**
 * Splits a round's pages into chunk jobs of one region each, deciding each page's tag mode here
 * on the vCPU's thread (the tag store's "initialised" flags are not in shared memory).
 * `announceUntagged`: a page never used as tagged memory is announced ("forget its tags") rather
 * than skipped (later rounds: a reset may have forgotten tags the destination holds).
 */
export function planChunks(regions: readonly RamRegion[], pages: readonly PageToSend[], announceUntagged: boolean): ChunkJob[] {
  const jobs: ChunkJob[] = [];
  const open = regions.map(() => ({ pages: [] as number[], modes: [] as number[] }));
  const flush = (index: number): void => {
    const o = open[index]!;
    if (o.pages.length === 0) return;
    jobs.push({ region: index, pages: Uint32Array.from(o.pages), modes: Uint8Array.from(o.modes) });
    regions[index]!.activity.readPages[ACTIVITY_MIGRATION]! += o.pages.length;
    o.pages = [];
    o.modes = [];
  };
  let index = 0;
  for (const [gpa, data, tags] of pages) {
    if (!regions[index]!.contains(gpa, PAGE_SIZE)) index = regions.findIndex((r) => r.contains(gpa, PAGE_SIZE));
    const region = regions[index]!;
    const page = (gpa - region.base) / PAGE_SIZE;
    let mode = data ? SEND_DATA : 0;
    if (tags && region.tags) mode |= region.tags.isInitialised(page) ? TAGS_READ : announceUntagged ? TAGS_FORGET : 0;
    if (mode === 0) continue;
    const o = open[index]!;
    o.pages.push(page);
    o.modes.push(mode);
    if (o.pages.length >= MAX_RAM_PAGES_PER_SECTION) flush(index);
  }
  regions.forEach((_, i) => flush(i));
  return jobs;
}
