import { describe, expect, test } from 'vitest';
import { GuestMemory, PAGE_SIZE } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, makeMemory, patternBytes } from './helpers.js';

describe('debug data access', () => {
  test('reads and writes data across adjacent regions, marking data (not tags) dirty', () => {
    const memory = new GuestMemory();
    const low = memory.addRam(RAM_BASE, PAGE_SIZE);
    const high = memory.addRam(RAM_BASE + PAGE_SIZE, PAGE_SIZE);
    memory.enableMte();
    low.dirtyLogging = high.dirtyLogging = true;
    const data = patternBytes(32, 9);
    memory.debug.writeData(RAM_BASE + PAGE_SIZE - 16, data);
    const back = new Uint8Array(32);
    memory.debug.readData(RAM_BASE + PAGE_SIZE - 16, back);
    expect(back).toEqual(data);
    expect(low.dataDirty.isSet(0) && high.dataDirty.isSet(0)).toBe(true);
    expect(low.tagDirty.count() + high.tagDirty.count()).toBe(0);
  });

  test('is never tag-checked and leaves tags alone', () => {
    const memory = makeMemory(1, true);
    memory.debug.writeTags(RAM_BASE, PAGE_SIZE, Uint8Array.of(0xa, 0x5));
    memory.debug.writeData(RAM_BASE + 8, patternBytes(64));
    const back = new Uint8Array(64);
    memory.debug.readData(RAM_BASE + 8, back);
    expect(back).toEqual(patternBytes(64));
    expect([...memory.debug.readTags(RAM_BASE, 64)]).toEqual([0xa, 0x5, 0xa, 0x5]);
  });

  test('a data write into a hole writes nothing', () => {
    const memory = makeMemory(1, false);
    expectMemoryError(() => memory.debug.writeData(RAM_BASE + PAGE_SIZE - 4, patternBytes(8)), 'unmapped');
    expect(memory.space.ramRegions[0]!.bytes.every((b) => b === 0)).toBe(true);
  });
});

describe('debug tag access', () => {
  test('readTags widens the range to whole granules, one tag per byte', () => {
    const memory = makeMemory(2, true);
    memory.space.ramRegions[0]!.tags!.writeUnpacked(0, 4, Uint8Array.of(1, 2, 3, 4));
    expect([...memory.debug.readTags(RAM_BASE + 8, 16)]).toEqual([1, 2]); // touches granules 0 and 1
    expect([...memory.debug.readTags(RAM_BASE + 0x1f, 2)]).toEqual([2, 3]);
    expect([...memory.debug.readTags(RAM_BASE + 0x20, 16)]).toEqual([3]);
    expect([...memory.debug.readTags(RAM_BASE + 0x20, 1)]).toEqual([3]);
    expect(memory.debug.readTags(RAM_BASE + 0x20, 0).length).toBe(0);
  });

  test('readTags of never-tagged pages reads 0 even with stale storage', () => {
    const memory = makeMemory(1, true);
    memory.debug.writeTags(RAM_BASE, PAGE_SIZE, Uint8Array.of(0xf));
    memory.resetTags();
    expect(memory.debug.readTags(RAM_BASE, PAGE_SIZE).every((t) => t === 0)).toBe(true);
  });

  test('writeTags widens to granules and repeats a shorter pattern (QMemTags)', () => {
    const memory = makeMemory(2, true);
    memory.debug.writeTags(RAM_BASE + 0x18, 0x40, Uint8Array.of(7, 8)); // granules 1..5
    expect([...memory.debug.readTags(RAM_BASE, 0x70)]).toEqual([0, 7, 8, 7, 8, 7, 0]);
  });

  test('the pattern continues across a region boundary', () => {
    const memory = new GuestMemory();
    memory.addRam(RAM_BASE, PAGE_SIZE);
    memory.addRam(RAM_BASE + PAGE_SIZE, PAGE_SIZE);
    memory.enableMte();
    memory.debug.writeTags(RAM_BASE + PAGE_SIZE - 0x30, 0x60, Uint8Array.of(1, 2, 3, 4));
    expect([...memory.debug.readTags(RAM_BASE + PAGE_SIZE - 0x30, 0x60)]).toEqual([1, 2, 3, 4, 1, 2]);
  });

  test('a longer pattern than the range uses only its first tags', () => {
    const memory = makeMemory(1, true);
    memory.debug.writeTags(RAM_BASE, 0x20, Uint8Array.of(4, 5, 6, 7));
    expect([...memory.debug.readTags(RAM_BASE, 0x40)]).toEqual([4, 5, 0, 0]);
  });

  test('a tag value above 15 is refused and nothing is written', () => {
    const memory = makeMemory(1, true);
    memory.debug.writeTags(RAM_BASE, 0x40, Uint8Array.of(1));
    const error = expectMemoryError(() => memory.debug.writeTags(RAM_BASE, 0x40, Uint8Array.of(2, 3, 16)), 'invalid-range');
    expect(error.addr).toBe(RAM_BASE);
    expect([...memory.debug.readTags(RAM_BASE, 0x40)]).toEqual([1, 1, 1, 1]);
  });

  test('an empty pattern for a non-empty range is refused', () => {
    const memory = makeMemory(1, true);
    expectMemoryError(() => memory.debug.writeTags(RAM_BASE, 16, new Uint8Array(0)), 'invalid-range');
  });

  test('tag access without MTE fails with no-tags, and hasTags says so', () => {
    const memory = makeMemory(1, false);
    expect(memory.debug.hasTags(RAM_BASE)).toBe(false);
    expectMemoryError(() => memory.debug.readTags(RAM_BASE, 16), 'no-tags');
    expectMemoryError(() => memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(1)), 'no-tags');
    const tagged = makeMemory(1, true);
    expect(tagged.debug.hasTags(RAM_BASE)).toBe(true);
    expect(tagged.debug.hasTags(RAM_BASE + PAGE_SIZE)).toBe(false); // not RAM
  });

  test('tag access running into a hole writes no tag', () => {
    const memory = makeMemory(1, true);
    expectMemoryError(() => memory.debug.writeTags(RAM_BASE + PAGE_SIZE - 16, 32, Uint8Array.of(9)), 'unmapped');
    expect(memory.space.ramRegions[0]!.tags!.tagAt(PAGE_SIZE - 16)).toBe(0);
    expect(memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('tag writes mark tag pages dirty (while logging), never data pages', () => {
    const memory = makeMemory(3, true);
    const region = memory.space.ramRegions[0]!;
    memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(1));
    expect(region.tagDirty.count()).toBe(0); // logging off
    region.dirtyLogging = true;
    memory.debug.writeTags(RAM_BASE + PAGE_SIZE - 16, 32, Uint8Array.of(2));
    const pages: number[] = [];
    region.tagDirty.forEach((p) => pages.push(p));
    expect(pages).toEqual([0, 1]);
    expect(region.dataDirty.count()).toBe(0);
    memory.debug.readTags(RAM_BASE + 2 * PAGE_SIZE, 16);
    expect(region.tagDirty.isSet(2)).toBe(false);
  });

  test('tag writes do not change data', () => {
    const memory = makeMemory(1, true);
    const data = patternBytes(PAGE_SIZE, 4);
    memory.dma.write(RAM_BASE, data);
    memory.debug.writeTags(RAM_BASE, PAGE_SIZE, Uint8Array.of(0xc, 0x3));
    const back = new Uint8Array(PAGE_SIZE);
    memory.debug.readData(RAM_BASE, back);
    expect(back).toEqual(data);
  });
});
