/**
 * The post-copy page connection's PAGES sections (docs/migration-protocol.md §9, version 2):
 * every combination of data (zero, raw) and tags (never tagged, uniform, packed) arrives exactly,
 * with the page's state saying whether it carries tags; the frame keeps page data 8-byte aligned.
 */
import { describe, expect, it } from 'vitest';
import { GuestMemory, PAGE_ARRIVED_TAGGED, PAGE_ARRIVED_UNTAGGED, PACKED_TAG_BYTES_PER_PAGE } from '../../src/memory/index.js';
import { applyPages, encodePages, SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES, SectionReader } from '../../src/vmm/migration/index.js';

const BASE = 0x4000_0000;
const PAGES = 12;

describe('PAGES sections', () => {
  it('carry zero and raw pages with no, uniform and packed tags, exactly', () => {
    const source = new GuestMemory();
    const region = source.addRam(BASE, PAGES * 4096);
    source.enableMte();
    for (let page = 0; page < PAGES; page++) {
      if (page % 2 === 1) for (let i = 0; i < 4096; i++) region.bytes[page * 4096 + i] = (i * 7 + page) & 0xff;
      const kind = Math.floor(page / 2) % 3; // 0 never tagged, 1 uniform, 2 packed
      if (kind === 1) region.tags!.fillTags(page * 4096, 256, (page + 3) & 15);
      if (kind === 2) for (let g = 0; g < 256; g++) region.tags!.setTag(page * 4096 + g * 16, (g + page) & 15);
    }
    const gpas = Array.from({ length: PAGES }, (_, page) => BASE + page * 4096);
    const frame = encodePages([region], gpas);
    // Every raw page's data starts 8-byte aligned in the frame (fast copies from shared memory).
    const reader = new SectionReader();
    reader.push(frame);
    const section = reader.next()!;
    expect(section.payload.length).toBe(frame.length - SECTION_HEADER_BYTES - SECTION_TRAILER_BYTES);
    // Header 8, count and reserved 8, page 0's word 8 (zero, untagged), page 1's word 8: its data at 32.
    expect(Buffer.from(frame.subarray(32, 32 + 4096)).equals(Buffer.from(region.bytes.subarray(4096, 8192)))).toBe(true);

    const target = new GuestMemory();
    const there = target.addRam(BASE, PAGES * 4096);
    target.enableMte();
    const [missing] = target.markAllMissing(null);
    const arrived = applyPages([{ base: BASE, data: there.bytes, tags: there.tags!.packed, state: missing!.state }], section.payload);
    expect(arrived).toBe(PAGES);
    expect(Buffer.from(there.bytes).equals(Buffer.from(region.bytes))).toBe(true);
    for (let page = 0; page < PAGES; page++) {
      const at = page * PACKED_TAG_BYTES_PER_PAGE;
      const tagged = Math.floor(page / 2) % 3 !== 0;
      expect(missing!.state[page]).toBe(tagged ? PAGE_ARRIVED_TAGGED : PAGE_ARRIVED_UNTAGGED);
      if (tagged) expect(Buffer.from(there.tags!.packed.subarray(at, at + 128))).toEqual(Buffer.from(region.tags!.packed.subarray(at, at + 128)));
    }
  });
});
