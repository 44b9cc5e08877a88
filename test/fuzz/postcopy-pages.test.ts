/**
 * Fuzz target: the post-copy page connection as a destination's page thread reads it (PAGES into
 * missing pages, REQUEST on the source), from real sections mutated (docs/fuzzing.md).
 */
import { describe, expect, it } from 'vitest';
import { GuestMemory, PAGE_ARRIVED_TAGGED, PAGE_ARRIVED_UNTAGGED, PAGE_MISSING, PAGE_PRESENT } from '../../src/memory/index.js';
import { applyPages, decodeRequest, encodePages, encodeRequest, SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES, StreamFormatError, type PostcopyRegion } from '../../src/vmm/migration/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, type FuzzTarget } from './harness.js';

const BASE = 0x4000_0000;
const PAGES = 64;

/** A source with zero, raw, uniformly tagged, packed-tagged and untagged pages. */
function seeds(): Uint8Array[] {
  const memory = new GuestMemory();
  const region = memory.addRam(BASE, PAGES * 4096);
  memory.enableMte();
  for (let page = 0; page < PAGES; page++) {
    if (page % 3 !== 0) region.bytes.fill(page, page * 4096, page * 4096 + 100);
    if (page % 4 === 1) region.tags!.fillTags(page * 4096, 256, page & 15);
    if (page % 4 === 2) for (let g = 0; g < 256; g++) region.tags!.setTag(page * 4096 + g * 16, g & 15);
  }
  const payload = (section: Uint8Array) => section.subarray(SECTION_HEADER_BYTES, section.length - SECTION_TRAILER_BYTES);
  return [
    payload(encodePages([region], [BASE, BASE + 0x1000, BASE + 0x2000, BASE + 0x3000])),
    payload(encodePages([region], [BASE + 0x5000, BASE + 0x6000])),
    payload(encodeRequest([BASE + 0x7000, BASE + 0x8000])),
  ];
}

function destination(): PostcopyRegion[] {
  const memory = new GuestMemory();
  const region = memory.addRam(BASE, PAGES * 4096);
  memory.enableMte();
  const [missing] = memory.markAllMissing(null);
  return [{ base: BASE, data: region.bytes, tags: region.tags!.packed, state: missing!.state }];
}

export const postcopyTarget: FuzzTarget<Uint8Array> = {
  name: 'postcopy-pages',
  input: mutatedSeeds(seeds()),
  run(bytes) {
    const regions = destination();
    const before = regions[0]!.state.slice();
    let arrived: number;
    try {
      decodeRequest(bytes); // the source's side: a REQUEST is addresses only
    } catch (error) {
      if (!(error instanceof StreamFormatError)) throw error;
    }
    try {
      arrived = applyPages(regions, bytes);
    } catch (error) {
      if (!(error instanceof StreamFormatError)) throw error;
      // All or nothing: a refused section changed no page.
      if (!regions[0]!.state.every((s, i) => s === before[i])) throw new Error('a refused PAGES section changed pages');
      return 'refused';
    }
    const states = regions[0]!.state;
    const changed = states.reduce((n, s, i) => n + (s !== before[i] ? 1 : 0), 0);
    if (changed !== arrived) throw new Error(`${arrived} pages reported, ${changed} changed`);
    if (!states.every((s) => s === PAGE_MISSING || s === PAGE_ARRIVED_TAGGED || s === PAGE_ARRIVED_UNTAGGED) || states.includes(PAGE_PRESENT)) throw new Error('a page state out of range');
    // A page arrives once: the same section again changes nothing (the guest may have written it since).
    if (applyPages(regions, bytes) !== 0) throw new Error('a page arrived twice');
    return 'accepted';
  },
  show: (bytes) => Buffer.from(bytes.subarray(0, 64)).toString('hex'),
};

describe('fuzzing the post-copy page connection', () => {
  it('no crash, no hang; a refused PAGES section writes nothing, a page arrives once', async () => {
    const report = await fuzz(postcopyTarget, fuzzOptions(2000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);

  it('the seeds themselves are accepted', () => {
    for (const seed of seeds().slice(0, 2)) expect(postcopyTarget.run(seed)).toBe('accepted');
  });
});
