import { isZeroPageAt, PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE } from '../../memory/index.js';
import { MAX_RAM_PAGES_PER_SECTION, RamBatch, TagBatch } from './payloads.js';

/**
 * Encoding a chunk of pages into finished RAM and TAGS sections, straight from a region's memory:
 * the work an encoder pool spreads over threads (encoder-pool.ts). Core code: it runs in a Node
 * worker, a browser or the vCPU's own thread alike. Zero pages cost 9 bytes, a uniformly tagged
 * page 10, other tagged pages 137 (docs/migration-protocol.md §3).
 */

/** One RAM region as the encoder sees it: its data and, with MTE, its packed tags. */
export interface RegionMemory {
  readonly base: number;
  readonly data: Uint8Array;
  readonly tags: Uint8Array | null;
}

/** What to send of a page: its data, and its tags (none: skip; forget: "never tagged"; read: its packed tags). */
export const SEND_DATA = 1;
export const TAGS_FORGET = 2;
export const TAGS_READ = 4;

/** Up to MAX_RAM_PAGES_PER_SECTION pages of one region, with what to send of each. */
export interface ChunkJob {
  readonly region: number;
  /** Page indices in the region. */
  readonly pages: Uint32Array;
  /** SEND_DATA | TAGS_FORGET | TAGS_READ per page. */
  readonly modes: Uint8Array;
}

export interface EncodedChunk {
  /** A complete RAM section, or null when no page of the chunk sends data. */
  readonly ram: Uint8Array | null;
  /** A complete TAGS section, or null when no page sends tags. */
  readonly tags: Uint8Array | null;
  readonly ramPages: number;
  readonly zeroPages: number;
  readonly tagPages: number;
}

/** The tag every granule of the page shares, or -1. */
function uniformTag(tags: Uint8Array, start: number): number {
  const first = tags[start]!;
  if ((first & 0xf) !== first >>> 4) return -1;
  for (let i = start + 1, end = start + PACKED_TAG_BYTES_PER_PAGE; i < end; i++) if (tags[i] !== first) return -1;
  return first & 0xf;
}

/** `reuse`: a spare RAM frame buffer (MAX_RAM_FRAME_BYTES) to build the RAM section in. */
export function encodeChunk(memory: RegionMemory, job: ChunkJob, reuse?: Uint8Array): EncodedChunk {
  if (job.pages.length > MAX_RAM_PAGES_PER_SECTION) throw new RangeError(`a chunk holds at most ${MAX_RAM_PAGES_PER_SECTION} pages`);
  let dataPages = 0;
  for (let i = 0; i < job.modes.length; i++) if ((job.modes[i]! & SEND_DATA) !== 0) dataPages++;
  const ram = dataPages > 0 ? new RamBatch(dataPages, reuse) : null;
  const tags = new TagBatch();
  let zeroPages = 0;
  for (let i = 0; i < job.pages.length; i++) {
    const page = job.pages[i]!;
    const mode = job.modes[i]!;
    const gpa = memory.base + page * PAGE_SIZE;
    if (ram && (mode & SEND_DATA) !== 0) {
      if (isZeroPageAt(memory.data, page * PAGE_SIZE)) {
        ram.addZero(gpa);
        zeroPages++;
      } else {
        ram.addRaw(gpa).set(memory.data.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
      }
    }
    if ((mode & TAGS_FORGET) !== 0) tags.addNone(gpa);
    else if ((mode & TAGS_READ) !== 0 && memory.tags) {
      const start = page * PACKED_TAG_BYTES_PER_PAGE;
      const uniform = uniformTag(memory.tags, start);
      if (uniform >= 0) tags.addUniform(gpa, uniform);
      else tags.addPacked(gpa).set(memory.tags.subarray(start, start + PACKED_TAG_BYTES_PER_PAGE));
    }
  }
  return { ram: ram ? ram.seal() : null, tags: tags.count > 0 ? tags.seal() : null, ramPages: dataPages, zeroPages, tagPages: tags.count };
}
