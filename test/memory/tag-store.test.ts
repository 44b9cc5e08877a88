import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { GRANULES_PER_PAGE, PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE, TagStore } from '../../src/memory/index.js';

const PAGES = 3;
const GRANULES = PAGES * GRANULES_PER_PAGE;

function makeStore(pages = PAGES): TagStore {
  return new TagStore(new Uint8Array(pages * PACKED_TAG_BYTES_PER_PAGE), pages);
}

/** The reference model: one tag per granule, and a "used as tagged memory" flag per page. */
class TagModel {
  readonly tags = new Array<number>(GRANULES).fill(0);
  readonly initialised = new Array<boolean>(PAGES).fill(false);

  touchPage(page: number): void {
    if (this.initialised[page]) return;
    this.initialised[page] = true;
    this.tags.fill(0, page * GRANULES_PER_PAGE, (page + 1) * GRANULES_PER_PAGE);
  }

  fill(granule: number, count: number, tag: number): void {
    for (let g = granule; g < granule + count; g++) {
      this.touchPage(Math.floor(g / GRANULES_PER_PAGE));
      this.tags[g] = tag & 0xf;
    }
  }

  tagAt(granule: number): number {
    return this.initialised[Math.floor(granule / GRANULES_PER_PAGE)] ? this.tags[granule]! : 0;
  }

  firstMismatch(offset: number, size: number, logical: number): number {
    if (size <= 0) return -1;
    const first = Math.floor(offset / 16);
    const last = Math.floor((offset + size - 1) / 16);
    for (let g = first; g <= last; g++) if (this.tagAt(g) !== logical) return g === first ? offset : g * 16;
    return -1;
  }
}

function readAll(store: TagStore): number[] {
  const out = new Uint8Array(GRANULES);
  store.readUnpacked(0, GRANULES, out);
  return [...out];
}

/** An arbitrary fill: a start granule anywhere (odd or even) and a count that stays inside the store. */
const fillArb = fc
  .record({ granule: fc.integer({ min: 0, max: GRANULES - 1 }), tag: fc.integer({ min: 0, max: 15 }), length: fc.nat({ max: GRANULES }), byteInGranule: fc.integer({ min: 0, max: 15 }) })
  .map(({ granule, tag, length, byteInGranule }) => ({ granule, tag, byteInGranule, count: Math.min(length, GRANULES - granule) }));

describe('TagStore packing', () => {
  test('an even granule uses the low nibble, an odd granule the high nibble, neighbours untouched', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0xa); // every granule 0xa, every byte 0xaa
    store.setTag(2 * 16, 0x3); // granule 2: even, byte 1 low nibble
    expect(store.packed[1]).toBe(0xa3);
    store.setTag(5 * 16 + 15, 0xc); // any byte of granule 5: odd, byte 2 high nibble
    expect(store.packed[2]).toBe(0xca);
    expect(store.packed[0]).toBe(0xaa);
    expect(store.packed[3]).toBe(0xaa);
    expect([1, 2, 3, 4, 5, 6].map((g) => store.tagAt(g * 16))).toEqual([0xa, 0x3, 0xa, 0xa, 0xc, 0xa]);
  });

  test('setTag keeps only the low 4 bits of the tag', () => {
    const store = makeStore();
    store.setTag(16, 0x1f);
    expect(store.tagAt(16)).toBe(0xf);
    expect(store.tagAt(0)).toBe(0);
    expect(store.tagAt(32)).toBe(0);
  });

  test('rawTagAt reads the packed storage whatever the page state', () => {
    const store = makeStore();
    store.packed[0] = 0x5e;
    expect(store.rawTagAt(0)).toBe(0xe);
    expect(store.rawTagAt(16)).toBe(0x5);
    expect(store.tagAt(16)).toBe(0); // page never initialised
  });

  test('the constructor refuses storage of the wrong size', () => {
    expect(() => new TagStore(new Uint8Array(PACKED_TAG_BYTES_PER_PAGE * 2 - 1), 2)).toThrow(RangeError);
  });
});

describe('TagStore.fillTags', () => {
  test.each([
    ['even start, even end', 0, 4],
    ['odd start, odd end', 1, 3],
    ['odd start, even end', 3, 4],
    ['even start, odd end', 2, 5],
    ['single odd granule', 7, 1],
    ['single even granule', 8, 1],
    ['across a page boundary from an odd granule', GRANULES_PER_PAGE - 1, 3],
    ['across two page boundaries', GRANULES_PER_PAGE - 3, GRANULES_PER_PAGE + 6],
  ])('%s', (_name, granule, count) => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0x6);
    store.fillTags(granule * 16, count, 0x9);
    const tags = readAll(store);
    for (let g = 0; g < GRANULES; g++) expect(tags[g], `granule ${g}`).toBe(g >= granule && g < granule + count ? 0x9 : 0x6);
  });

  test('count 0 changes nothing and initialises nothing', () => {
    const store = makeStore();
    store.fillTags(PAGE_SIZE, 0, 5);
    expect([...store.initialised]).toEqual([0, 0, 0]);
  });

  test.prop([fc.array(fillArb, { minLength: 1, maxLength: 12 })])('matches a one-tag-per-granule model', (fills) => {
    const store = makeStore();
    const model = new TagModel();
    for (const { granule, count, tag, byteInGranule } of fills) {
      store.fillTags(granule * 16 + byteInGranule, count, tag);
      model.fill(granule, count, tag);
    }
    expect(readAll(store)).toEqual(model.tags.map((_, g) => model.tagAt(g)));
    expect([...store.initialised].map((f) => f === 1)).toEqual(model.initialised);
  });

  test('filling part of a page with stale storage zeroes the rest of that page first', () => {
    const store = makeStore();
    store.packed.fill(0xff); // stale tags from an earlier life
    store.fillTags(16, 2, 0x4);
    expect(readAll(store).slice(0, 4)).toEqual([0, 4, 4, 0]);
    expect(store.packed.subarray(2, PACKED_TAG_BYTES_PER_PAGE).every((b) => b === 0)).toBe(true);
  });
});

describe('TagStore.firstMismatch', () => {
  test('a granule-crossing access reports the first mismatching granule, or the access start for the first', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0x2);
    store.setTag(0x20, 0x7);
    expect(store.firstMismatch(0x18, 16, 0x2)).toBe(0x20); // second granule differs
    expect(store.firstMismatch(0x24, 16, 0x2)).toBe(0x24); // first granule differs: the access address
    expect(store.firstMismatch(0x24, 8, 0x7)).toBe(-1);
    expect(store.firstMismatch(0x28, 16, 0x7)).toBe(0x30);
    expect(store.firstMismatch(0x28, 0, 0x9)).toBe(-1);
  });

  test('an access crossing a page reports the granule of the next page', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES_PER_PAGE, 0x3); // page 0 only; page 1 never tagged (reads 0)
    expect(store.firstMismatch(PAGE_SIZE - 8, 16, 0x3)).toBe(PAGE_SIZE);
    expect(store.firstMismatch(PAGE_SIZE - 8, 8, 0x3)).toBe(-1);
  });

  test.prop([
    fc.array(fillArb, { maxLength: 8 }),
    fc.integer({ min: 0, max: PAGES * PAGE_SIZE - 1 }),
    fc.integer({ min: 1, max: 2 * PAGE_SIZE }),
    fc.integer({ min: 0, max: 15 }),
  ])('matches the model', (fills, offset, wantedSize, logical) => {
    const store = makeStore();
    const model = new TagModel();
    for (const { granule, count, tag } of fills) {
      store.fillTags(granule * 16, count, tag);
      model.fill(granule, count, tag);
    }
    const size = Math.min(wantedSize, PAGES * PAGE_SIZE - offset);
    expect(store.firstMismatch(offset, size, logical)).toBe(model.firstMismatch(offset, size, logical));
  });
});

describe('TagStore page initialisation (sanitisation)', () => {
  test('uninitialised pages read 0 even when the storage holds stale tags', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0xb);
    store.uninitialiseAll();
    expect(store.packed[0]).toBe(0xbb); // still stale in storage
    expect(readAll(store).every((t) => t === 0)).toBe(true);
    expect(store.firstMismatch(0, PAGES * PAGE_SIZE, 0)).toBe(-1);
    expect(store.uniformTag(1)).toBe(0);
    const exported = new Uint8Array(PACKED_TAG_BYTES_PER_PAGE).fill(0x55);
    store.copyPagePacked(1, exported);
    expect(exported.every((b) => b === 0)).toBe(true);
  });

  test('ensureInitialised zeroes stale storage, once', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0xb);
    store.uninitialiseAll();
    store.ensureInitialised(1);
    expect(store.isInitialised(1)).toBe(true);
    expect(store.isInitialised(0)).toBe(false);
    const page1 = store.packed.subarray(PACKED_TAG_BYTES_PER_PAGE, 2 * PACKED_TAG_BYTES_PER_PAGE);
    expect(page1.every((b) => b === 0)).toBe(true);
    expect(store.packed[0]).toBe(0xbb); // other pages untouched
    store.setTag(PAGE_SIZE, 0x4);
    store.ensureInitialised(1); // already initialised: must not zero again
    expect(store.tagAt(PAGE_SIZE)).toBe(0x4);
  });

  test('setTag on a page with stale storage leaves every other granule of the page at 0', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0xd);
    store.uninitialise(0);
    store.setTag(0x30, 0x1);
    const tags = readAll(store);
    expect(tags.slice(0, GRANULES_PER_PAGE)).toEqual(Array.from({ length: GRANULES_PER_PAGE }, (_, g) => (g === 3 ? 1 : 0)));
    expect(tags[GRANULES_PER_PAGE]).toBe(0xd); // page 1 was not uninitialised
  });

  test('uninitialise affects only its page', () => {
    const store = makeStore();
    store.fillTags(0, GRANULES, 0x8);
    store.uninitialise(1);
    expect(store.tagAt(0)).toBe(0x8);
    expect(store.tagAt(PAGE_SIZE)).toBe(0);
    expect(store.tagAt(2 * PAGE_SIZE)).toBe(0x8);
  });
});

describe('TagStore.uniformTag', () => {
  test('reports the shared tag, -1 when granules differ, 0 for a never-tagged page', () => {
    const store = makeStore();
    expect(store.uniformTag(0)).toBe(0);
    store.fillTags(0, GRANULES_PER_PAGE, 0x7);
    expect(store.uniformTag(0)).toBe(0x7);
    store.setTag(PAGE_SIZE - 16, 0x6); // last granule (odd, high nibble of the last byte)
    expect(store.uniformTag(0)).toBe(-1);
    store.fillTags(PAGE_SIZE, GRANULES_PER_PAGE, 0x2);
    store.setTag(PAGE_SIZE, 0x3); // first granule only (low nibble of the first byte)
    expect(store.uniformTag(1)).toBe(-1);
    store.fillTags(2 * PAGE_SIZE, GRANULES_PER_PAGE, 0);
    expect(store.uniformTag(2)).toBe(0);
  });
});

describe('TagStore packed page copies', () => {
  test.prop([fc.uint8Array({ minLength: PACKED_TAG_BYTES_PER_PAGE, maxLength: PACKED_TAG_BYTES_PER_PAGE }), fc.integer({ min: 0, max: PAGES - 1 })])(
    'setPagePacked then copyPagePacked round-trips and initialises the page',
    (packed, page) => {
      const store = makeStore();
      store.setPagePacked(page, packed);
      expect(store.isInitialised(page)).toBe(true);
      const out = new Uint8Array(PACKED_TAG_BYTES_PER_PAGE + 4);
      store.copyPagePacked(page, out, 4);
      expect([...out.subarray(4)]).toEqual([...packed]);
      for (let g = 0; g < GRANULES_PER_PAGE; g++) {
        const expected = (packed[g >> 1]! >> ((g & 1) * 4)) & 0xf;
        expect(store.tagAt(page * PAGE_SIZE + g * 16)).toBe(expected);
      }
      // Neighbouring pages stay never-tagged.
      for (let other = 0; other < PAGES; other++) if (other !== page) expect(store.isInitialised(other)).toBe(false);
    },
  );

  test('writeUnpacked/readUnpacked round-trip one tag per byte at an offset', () => {
    const store = makeStore();
    const src = Uint8Array.from({ length: 40 }, (_, i) => i % 16);
    store.writeUnpacked(PAGE_SIZE - 16 * 20, 40, src);
    const dst = new Uint8Array(42);
    store.readUnpacked(PAGE_SIZE - 16 * 20, 40, dst, 2);
    expect([...dst.subarray(2)]).toEqual([...src]);
    expect(store.isInitialised(0) && store.isInitialised(1)).toBe(true);
  });
});
