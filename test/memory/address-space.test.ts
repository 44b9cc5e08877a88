import { describe, expect, test } from 'vitest';
import { PhysicalAddressSpace, type MmioHandler } from '../../src/memory/index.js';
import { expectMemoryError } from './helpers.js';

const nullDevice: MmioHandler = { read: () => 0, write: () => {} };

describe('PhysicalAddressSpace setup', () => {
  test('overlapping RAM and MMIO ranges are refused with code overlap', () => {
    const space = new PhysicalAddressSpace();
    space.addRam(0x4000_0000, 0x10000);
    space.addMmio(0x0900_0000, 0x1000, 'uart', nullDevice);
    expectMemoryError(() => space.addRam(0x4000_f000, 0x2000), 'overlap');
    expectMemoryError(() => space.addRam(0x3fff_f000, 0x2000), 'overlap');
    expectMemoryError(() => space.addRam(0x4000_4000, 0x1000), 'overlap'); // inside
    expectMemoryError(() => space.addRam(0x3000_0000, 0x2000_0000), 'overlap'); // covering
    expectMemoryError(() => space.addMmio(0x4000_0100, 0x200, 'virtio', nullDevice), 'overlap');
    expectMemoryError(() => space.addMmio(0x0900_0ffc, 8, 'other', nullDevice), 'overlap');
    const error = expectMemoryError(() => space.addRam(0x0900_0000, 0x1000), 'overlap');
    expect(error.addr).toBe(0x0900_0000);
    expect(error.length).toBe(0x1000);
    expect(space.ramRegions.length).toBe(1);
    expect(space.mmioRanges.length).toBe(1);
  });

  test('adjacent ranges are not overlaps', () => {
    const space = new PhysicalAddressSpace();
    space.addRam(0x4000_0000, 0x1000);
    space.addRam(0x4000_1000, 0x1000);
    space.addMmio(0x4000_2000, 0x200, 'dev0', nullDevice);
    space.addMmio(0x4000_2200, 0x200, 'dev1', nullDevice);
    expect(space.ramRegions.length).toBe(2);
    expect(space.mmioRanges.length).toBe(2);
  });

  test('RAM must be 4 KiB aligned, MMIO 4-byte aligned', () => {
    const space = new PhysicalAddressSpace();
    expectMemoryError(() => space.addRam(0x4000_0800, 0x1000), 'misaligned');
    expectMemoryError(() => space.addRam(0x4000_0000, 0x1800), 'misaligned');
    expectMemoryError(() => space.addMmio(0x0a00_0002, 0x200, 'v', nullDevice), 'misaligned');
    expectMemoryError(() => space.addMmio(0x0a00_0000, 0x201, 'v', nullDevice), 'misaligned');
    space.addMmio(0x0a00_0004, 0x204, 'v', nullDevice); // 4-byte aligned is enough for MMIO
    expect(space.ramRegions.length).toBe(0);
  });

  test('invalid ranges are refused with code invalid-range', () => {
    const space = new PhysicalAddressSpace();
    expectMemoryError(() => space.addRam(-0x1000, 0x1000), 'invalid-range');
    expectMemoryError(() => space.addRam(0x1000, 0), 'invalid-range');
    expectMemoryError(() => space.addRam(0x1000, -0x1000), 'invalid-range');
    expectMemoryError(() => space.addRam(4096.5, 0x1000), 'invalid-range');
    expectMemoryError(() => space.addRam(2 ** 52 - 0x1000, 0x2000), 'invalid-range');
    expectMemoryError(() => space.addMmio(Number.NaN, 4, 'x', nullDevice), 'invalid-range');
    expect(space.ramRegions.length).toBe(0);
  });

  test('regions are kept sorted and found by address', () => {
    const space = new PhysicalAddressSpace();
    const high = space.addRam(0x8000_0000, 0x1000);
    const low = space.addRam(0x4000_0000, 0x1000);
    expect(space.ramRegions).toEqual([low, high]);
    expect(space.findRam(0x8000_0fff)).toBe(high);
    expect(space.findRam(0x4000_0000)).toBe(low);
    expect(space.findRam(0x4000_1000)).toBeUndefined();
    space.removeRam(low);
    expect(space.findRam(0x4000_0000)).toBeUndefined(); // no stale lookup cache
  });
});

describe('PhysicalAddressSpace.ramChunks', () => {
  function twoAdjacent(): PhysicalAddressSpace {
    const space = new PhysicalAddressSpace();
    space.addRam(0x4000_0000, 0x2000, { name: 'a' });
    space.addRam(0x4000_2000, 0x2000, { name: 'b' });
    return space;
  }

  test('splits a range exactly at the boundary of two adjacent regions', () => {
    const space = twoAdjacent();
    const chunks = space.ramChunks(0x4000_1ff0, 0x30);
    expect(chunks.map((c) => [c.region.name, c.offset, c.length, c.done])).toEqual([
      ['a', 0x1ff0, 0x10, 0],
      ['b', 0, 0x20, 0x10],
    ]);
  });

  test('a range inside one region is one chunk', () => {
    const chunks = twoAdjacent().ramChunks(0x4000_2004, 8);
    expect(chunks.map((c) => [c.region.name, c.offset, c.length, c.done])).toEqual([['b', 4, 8, 0]]);
  });

  test('a range running into a hole throws unmapped, naming where the hole starts', () => {
    const space = twoAdjacent();
    const error = expectMemoryError(() => space.ramChunks(0x4000_3000, 0x2000), 'unmapped');
    expect(error.addr).toBe(0x4000_4000);
    expect(error.length).toBe(0x1000);
    expectMemoryError(() => space.ramChunks(0x3fff_fff0, 0x20), 'unmapped');
  });

  test('MMIO is not RAM', () => {
    const space = new PhysicalAddressSpace();
    space.addRam(0x1000, 0x1000);
    space.addMmio(0x2000, 0x1000, 'dev', nullDevice);
    expectMemoryError(() => space.ramChunks(0x1ff0, 0x20), 'unmapped');
  });

  test('zero length yields no chunks, even outside RAM', () => {
    const space = twoAdjacent();
    expect(space.ramChunks(0x4000_1000, 0)).toEqual([]);
    expect(space.ramChunks(0x10, 0)).toEqual([]);
  });

  test('invalid addresses and lengths are refused', () => {
    const space = twoAdjacent();
    expectMemoryError(() => space.ramChunks(-1, 4), 'invalid-range');
    expectMemoryError(() => space.ramChunks(0x4000_0000, -4), 'invalid-range');
    expectMemoryError(() => space.ramChunks(0x4000_0000, 1.5), 'invalid-range');
    expectMemoryError(() => space.ramChunks(2 ** 52 - 4, 8), 'invalid-range');
  });
});
