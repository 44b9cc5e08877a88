import { describe, expect, vi } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { GuestMemory, PAGE_SIZE } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, patternBytes, snapshotTags } from './helpers.js';

/** Two adjacent 4-page regions at RAM_BASE, a hole, then a third region. */
function makeGuest(mte = true): GuestMemory {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, 4 * PAGE_SIZE, { name: 'low' });
  memory.addRam(RAM_BASE + 4 * PAGE_SIZE, 4 * PAGE_SIZE, { name: 'high' });
  memory.addRam(RAM_BASE + 16 * PAGE_SIZE, 2 * PAGE_SIZE, { name: 'far' });
  if (mte) memory.enableMte();
  return memory;
}

const [LOW, HIGH] = [0, 1];
const TOTAL = 8 * PAGE_SIZE; // the two adjacent regions
const HOLE = RAM_BASE + 8 * PAGE_SIZE;

function allBytes(memory: GuestMemory): number[] {
  return memory.space.ramRegions.flatMap((r) => [...r.bytes]);
}

describe('DMA read/write', () => {
  test('write then read returns exactly the bytes, touching nothing else', () => {
    const memory = makeGuest();
    const data = patternBytes(100, 7);
    memory.dma.write(RAM_BASE + 0x123, data);
    const back = new Uint8Array(100);
    memory.dma.read(RAM_BASE + 0x123, back);
    expect([...back]).toEqual([...data]);
    const low = memory.space.ramRegions[LOW]!.bytes;
    expect(low[0x122]).toBe(0);
    expect(low[0x123 + 100]).toBe(0);
    expect([...low.subarray(0x123, 0x123 + 100)]).toEqual([...data]);
  });

  test('a transfer across two adjacent regions is split at the boundary', () => {
    const memory = makeGuest();
    const data = patternBytes(3 * PAGE_SIZE, 3);
    const gpa = RAM_BASE + 2 * PAGE_SIZE + 0x80;
    memory.dma.write(gpa, data);
    const [low, high] = memory.space.ramRegions;
    const firstPart = 2 * PAGE_SIZE - 0x80;
    expect([...low!.bytes.subarray(2 * PAGE_SIZE + 0x80)]).toEqual([...data.subarray(0, firstPart)]);
    expect([...high!.bytes.subarray(0, data.length - firstPart)]).toEqual([...data.subarray(firstPart)]);
    const back = new Uint8Array(data.length);
    memory.dma.read(gpa, back);
    expect([...back]).toEqual([...data]);
  });

  test('zero-length transfers succeed, even outside RAM', () => {
    const memory = makeGuest();
    memory.dma.write(HOLE, new Uint8Array(0));
    memory.dma.read(0, new Uint8Array(0));
    expect(allBytes(memory).every((b) => b === 0)).toBe(true);
  });

  test('a write running into a hole fails as a whole and writes nothing', () => {
    const memory = makeGuest();
    const before = allBytes(memory);
    const error = expectMemoryError(() => memory.dma.write(HOLE - PAGE_SIZE, patternBytes(2 * PAGE_SIZE)), 'unmapped');
    expect(error.addr).toBe(HOLE);
    expect(allBytes(memory)).toEqual(before);
  });

  test('a read running into a hole fails and leaves the destination untouched', () => {
    const memory = makeGuest();
    memory.dma.write(HOLE - 16, patternBytes(16));
    const dst = new Uint8Array(32).fill(0xee);
    expectMemoryError(() => memory.dma.read(HOLE - 16, dst), 'unmapped');
    expect(dst.every((b) => b === 0xee)).toBe(true);
  });

  test('a write to a read-only region is refused as a whole', () => {
    const memory = new GuestMemory();
    memory.addRam(RAM_BASE, PAGE_SIZE);
    const rom = memory.addRam(RAM_BASE + PAGE_SIZE, PAGE_SIZE, { readOnly: true });
    expectMemoryError(() => memory.dma.write(RAM_BASE + PAGE_SIZE - 8, patternBytes(16)), 'read-only');
    expect(memory.space.ramRegions[0]!.bytes.every((b) => b === 0)).toBe(true);
    expect(rom.bytes.every((b) => b === 0)).toBe(true);
    memory.dma.read(RAM_BASE + PAGE_SIZE, new Uint8Array(16)); // reading ROM is fine
  });

  test('writeWith/readWith hand out windows split only at region boundaries, with running offsets', () => {
    const memory = makeGuest();
    const gpa = RAM_BASE + 4 * PAGE_SIZE - 10;
    const writes: [number, number][] = [];
    memory.dma.writeWith(gpa, 30, (window, done) => {
      writes.push([window.length, done]);
      for (let i = 0; i < window.length; i++) window[i] = done + i + 1;
    });
    expect(writes).toEqual([
      [10, 0],
      [20, 10],
    ]);
    const reads: number[] = [];
    memory.dma.readWith(gpa, 30, (window, done) => {
      expect(done).toBe(reads.length);
      reads.push(...window);
    });
    expect(reads).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  test('writeWith into a hole never calls the producer', () => {
    const memory = makeGuest();
    const produce = vi.fn();
    expectMemoryError(() => memory.dma.writeWith(HOLE - 16, 32, produce), 'unmapped');
    expect(produce).not.toHaveBeenCalled();
  });
});

describe('DMA and tags', () => {
  const tagSetup = fc.array(
    fc.record({ granule: fc.nat({ max: TOTAL / 16 - 1 }), count: fc.integer({ min: 1, max: 400 }), tag: fc.integer({ min: 0, max: 15 }) }),
    { maxLength: 6 },
  );
  const transfer = fc.record({
    write: fc.boolean(),
    offset: fc.nat({ max: TOTAL - 1 }),
    length: fc.integer({ min: 0, max: 3 * PAGE_SIZE }),
  });

  test.prop([tagSetup, fc.array(transfer, { minLength: 1, maxLength: 6 })])('never changes tags or page tag state', (fills, transfers) => {
    const memory = makeGuest();
    for (const { granule, count, tag } of fills) {
      const gpa = RAM_BASE + granule * 16;
      const region = memory.space.findRam(gpa)!;
      region.tags!.fillTags(gpa - region.base, Math.min(count, (region.end - gpa) / 16), tag);
    }
    const before = snapshotTags(memory);
    for (const { write, offset, length } of transfers) {
      const len = Math.min(length, TOTAL - offset);
      if (write) memory.dma.write(RAM_BASE + offset, patternBytes(len, offset + 1));
      else memory.dma.read(RAM_BASE + offset, new Uint8Array(len));
    }
    expect(snapshotTags(memory)).toEqual(before);
  });

  test('DMA succeeds whatever the tags (never tag-checked)', () => {
    const memory = makeGuest();
    memory.debug.writeTags(RAM_BASE, TOTAL, Uint8Array.of(3, 9, 14));
    const data = patternBytes(TOTAL, 5);
    memory.dma.write(RAM_BASE, data);
    const back = new Uint8Array(TOTAL);
    memory.dma.read(RAM_BASE, back);
    expect(back).toEqual(data);
  });
});

describe('DMA bookkeeping', () => {
  test('marks data pages dirty only while dirty logging, never tag pages', () => {
    const memory = makeGuest();
    const [low, high] = memory.space.ramRegions;
    memory.dma.write(RAM_BASE, patternBytes(PAGE_SIZE));
    expect(low!.dataDirty.count()).toBe(0);
    low!.dirtyLogging = true;
    high!.dirtyLogging = true;
    // Bytes 0x..fff of page 2 to 0x..000 of page 5 (region high, page 1).
    memory.dma.write(RAM_BASE + 3 * PAGE_SIZE - 1, patternBytes(PAGE_SIZE + 2));
    const pages: number[] = [];
    low!.dataDirty.forEach((p) => pages.push(p));
    expect(pages).toEqual([2, 3]);
    const highPages: number[] = [];
    high!.dataDirty.forEach((p) => highPages.push(p));
    expect(highPages).toEqual([0]);
    expect(low!.tagDirty.count() + high!.tagDirty.count()).toBe(0);
    memory.dma.read(RAM_BASE + 6 * PAGE_SIZE, new Uint8Array(16)); // reads dirty nothing
    expect(high!.dataDirty.isSet(2)).toBe(false);
  });

  test('a DMA write to a page holding decoded code invalidates it, and only it', () => {
    const memory = makeGuest();
    const region = memory.space.ramRegions[HIGH]!;
    const invalidated: number[] = [];
    region.onCodeWrite = (page) => invalidated.push(page);
    region.codePages[1] = 1;
    region.codePages[3] = 1;
    memory.dma.write(region.base + PAGE_SIZE + 0x10, Uint8Array.of(0xd5));
    expect(invalidated).toEqual([1]);
    expect(region.codePages[1]).toBe(0);
    expect(region.codePages[3]).toBe(1);
    memory.dma.read(region.base + 3 * PAGE_SIZE, new Uint8Array(16)); // reads never invalidate
    expect(invalidated).toEqual([1]);
    memory.dma.writeWith(region.base + 3 * PAGE_SIZE, 4, (w) => w.fill(1));
    expect(invalidated).toEqual([1, 3]);
  });
});
