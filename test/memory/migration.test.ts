import { describe, expect, test } from 'vitest';
import { PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, makeMemory, patternBytes } from './helpers.js';

function packedOf(tags: number[]): Uint8Array {
  const packed = new Uint8Array(PACKED_TAG_BYTES_PER_PAGE);
  tags.forEach((tag, g) => (packed[g >> 1]! |= tag << ((g & 1) * 4)));
  return packed;
}

describe('migration pages', () => {
  test('readPage/writePage move one whole page', () => {
    const memory = makeMemory(3, true);
    const data = patternBytes(PAGE_SIZE, 11);
    memory.migration.writePage(RAM_BASE + PAGE_SIZE, data);
    const back = new Uint8Array(PAGE_SIZE);
    memory.migration.readPage(RAM_BASE + PAGE_SIZE, back);
    expect(back).toEqual(data);
    const region = memory.space.ramRegions[0]!;
    expect(region.bytes.subarray(0, PAGE_SIZE).every((b) => b === 0)).toBe(true);
    expect(region.bytes.subarray(2 * PAGE_SIZE).every((b) => b === 0)).toBe(true);
  });

  test('writePage of the wrong size and misaligned page addresses are refused', () => {
    const memory = makeMemory(2, true);
    expectMemoryError(() => memory.migration.writePage(RAM_BASE, new Uint8Array(PAGE_SIZE - 1)), 'invalid-range');
    for (const op of [
      () => memory.migration.readPage(RAM_BASE + 16, new Uint8Array(PAGE_SIZE)),
      () => memory.migration.writePage(RAM_BASE + 16, new Uint8Array(PAGE_SIZE)),
      () => memory.migration.readPageTags(RAM_BASE + 0x800, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)),
      () => memory.migration.writePageTags(RAM_BASE + 0x800, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)),
      () => memory.migration.fillPageTags(RAM_BASE + 1, 1),
      () => memory.migration.tagState(RAM_BASE + 1),
    ]) {
      expect(expectMemoryError(op, 'misaligned').addr % PAGE_SIZE).not.toBe(0);
    }
    expect(memory.space.ramRegions[0]!.bytes.every((b) => b === 0)).toBe(true);
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('a page outside RAM is refused as unmapped', () => {
    const memory = makeMemory(1, true);
    expectMemoryError(() => memory.migration.writePage(RAM_BASE + PAGE_SIZE, new Uint8Array(PAGE_SIZE)), 'unmapped');
  });

  test('layout lists the RAM regions', () => {
    const memory = makeMemory(2, false);
    memory.addRam(0x8000_0000, PAGE_SIZE);
    expect(memory.migration.layout()).toEqual([
      { base: RAM_BASE, size: 2 * PAGE_SIZE },
      { base: 0x8000_0000, size: PAGE_SIZE },
    ]);
  });
});

describe('migration tags', () => {
  test('tagState: untagged without MTE, uninitialised until first use, then initialised', () => {
    expect(makeMemory(1, false).migration.tagState(RAM_BASE)).toBe('untagged');
    const memory = makeMemory(2, true);
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
    memory.debug.writeTags(RAM_BASE + PAGE_SIZE, 16, Uint8Array.of(3));
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
    expect(memory.migration.tagState(RAM_BASE + PAGE_SIZE)).toBe('initialised');
    memory.resetTags();
    expect(memory.migration.tagState(RAM_BASE + PAGE_SIZE)).toBe('uninitialised');
  });

  test('reading tags does not initialise a page', () => {
    const memory = makeMemory(1, true);
    memory.migration.readPageTags(RAM_BASE, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE));
    memory.migration.uniformTag(RAM_BASE);
    memory.debug.readTags(RAM_BASE, PAGE_SIZE);
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('readPageTags of an uninitialised page gives zeros even with stale storage', () => {
    const memory = makeMemory(1, true);
    memory.migration.fillPageTags(RAM_BASE, 0xe);
    memory.resetTags();
    const out = new Uint8Array(PACKED_TAG_BYTES_PER_PAGE).fill(0x99);
    memory.migration.readPageTags(RAM_BASE, out);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  test('writePageTags/readPageTags round-trip in the packed layout (low nibble = even granule)', () => {
    const memory = makeMemory(2, true);
    const tags = Array.from({ length: 256 }, (_, g) => (g * 7) % 16);
    memory.migration.writePageTags(RAM_BASE + PAGE_SIZE, packedOf(tags));
    expect(memory.migration.tagState(RAM_BASE + PAGE_SIZE)).toBe('initialised');
    expect([...memory.debug.readTags(RAM_BASE + PAGE_SIZE, PAGE_SIZE)]).toEqual(tags);
    const out = new Uint8Array(PACKED_TAG_BYTES_PER_PAGE);
    memory.migration.readPageTags(RAM_BASE + PAGE_SIZE, out);
    expect(out).toEqual(packedOf(tags));
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('writePageTags refuses short packed tags and changes nothing', () => {
    const memory = makeMemory(1, true);
    expectMemoryError(() => memory.migration.writePageTags(RAM_BASE, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE - 1).fill(0x11)), 'invalid-range');
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('writePageTags(null) returns the page to never-tagged', () => {
    const memory = makeMemory(1, true);
    memory.migration.fillPageTags(RAM_BASE, 5);
    memory.migration.writePageTags(RAM_BASE, null);
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
    expect(memory.debug.readTags(RAM_BASE, PAGE_SIZE).every((t) => t === 0)).toBe(true);
    // First use afterwards starts from zeros, not from the old tags.
    memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(1));
    expect([...memory.debug.readTags(RAM_BASE, 48)]).toEqual([1, 0, 0]);
  });

  test('fillPageTags and uniformTag', () => {
    const memory = makeMemory(2, true);
    expect(memory.migration.uniformTag(RAM_BASE)).toBe(0);
    memory.migration.fillPageTags(RAM_BASE, 0xb);
    expect(memory.migration.uniformTag(RAM_BASE)).toBe(0xb);
    expect(memory.migration.tagState(RAM_BASE)).toBe('initialised');
    expect(memory.debug.readTags(RAM_BASE, PAGE_SIZE).every((t) => t === 0xb)).toBe(true);
    expect(memory.migration.uniformTag(RAM_BASE + PAGE_SIZE)).toBe(0); // neighbour untouched
    memory.debug.writeTags(RAM_BASE + 0x7f0, 16, Uint8Array.of(0xa));
    expect(memory.migration.uniformTag(RAM_BASE)).toBe(-1);
    expect(makeMemory(1, false).migration.uniformTag(RAM_BASE)).toBe(0);
  });

  test('tag operations without MTE fail with no-tags', () => {
    const memory = makeMemory(1, false);
    expectMemoryError(() => memory.migration.readPageTags(RAM_BASE, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)), 'no-tags');
    expectMemoryError(() => memory.migration.writePageTags(RAM_BASE, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)), 'no-tags');
    expectMemoryError(() => memory.migration.writePageTags(RAM_BASE, null), 'no-tags');
    expectMemoryError(() => memory.migration.fillPageTags(RAM_BASE, 1), 'no-tags');
  });
});

describe('migration dirty log', () => {
  test('takeDirty separates data and tag pages, and clears them', () => {
    const memory = makeMemory(4, true);
    const region = memory.space.ramRegions[0]!;
    region.dirtyLogging = true;
    memory.migration.writePage(RAM_BASE + PAGE_SIZE, patternBytes(PAGE_SIZE));
    memory.migration.writePageTags(RAM_BASE + 2 * PAGE_SIZE, packedOf([1, 2, 3]));
    memory.migration.fillPageTags(RAM_BASE + 3 * PAGE_SIZE, 4);
    const [log] = memory.migration.takeDirty();
    expect(log!.base).toBe(RAM_BASE);
    expect(log!.pages).toBe(4);
    const data: number[] = [];
    const tags: number[] = [];
    log!.data.forEach((p) => data.push(p));
    log!.tags.forEach((p) => tags.push(p));
    expect(data).toEqual([1]);
    expect(tags).toEqual([2, 3]);
    const [again] = memory.migration.takeDirty();
    expect(again!.data.count() + again!.tags.count()).toBe(0);
  });

  test('writes while logging is off are not reported', () => {
    const memory = makeMemory(2, true);
    memory.migration.writePage(RAM_BASE, patternBytes(PAGE_SIZE));
    memory.migration.fillPageTags(RAM_BASE, 2);
    const [log] = memory.migration.takeDirty();
    expect(log!.data.count() + log!.tags.count()).toBe(0);
  });

  test('writePage invalidates decoded code of the page', () => {
    const memory = makeMemory(2, true);
    const region = memory.space.ramRegions[0]!;
    const invalidated: number[] = [];
    region.onCodeWrite = (page) => invalidated.push(page);
    region.codePages[1] = 1;
    memory.migration.writePage(RAM_BASE + PAGE_SIZE, patternBytes(PAGE_SIZE));
    expect(invalidated).toEqual([1]);
  });
});
