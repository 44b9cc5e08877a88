import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { GuestMemory, PAGE_SIZE, firstTagMismatch, tagCheckedRead, tagCheckedWrite } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, makeMemory, patternBytes } from './helpers.js';

/** Two adjacent tagged regions: the second granule-crossing case also crosses regions. */
function taggedGuest(): GuestMemory {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, 2 * PAGE_SIZE);
  memory.addRam(RAM_BASE + 2 * PAGE_SIZE, PAGE_SIZE);
  memory.enableMte();
  memory.debug.writeTags(RAM_BASE, 3 * PAGE_SIZE, Uint8Array.of(5));
  return memory;
}

function bytesAt(memory: GuestMemory, gpa: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  memory.dma.read(gpa, out);
  return out;
}

describe('tag-checked accesses', () => {
  test.each([
    ['within a page', RAM_BASE + 0x100],
    ['across a page', RAM_BASE + PAGE_SIZE],
    ['across regions', RAM_BASE + 2 * PAGE_SIZE],
  ])('a mismatch in the second granule (%s) reports that granule and performs nothing', (_name, second) => {
    const memory = taggedGuest();
    memory.debug.writeTags(second, 16, Uint8Array.of(9));
    const gpa = second - 8;
    const original = patternBytes(16, 3);
    memory.dma.write(gpa, original);
    expect(firstTagMismatch(memory.space, gpa, 16, 5)).toBe(second);
    const dst = new Uint8Array(16).fill(0xaa);
    expect(tagCheckedRead(memory.space, gpa, dst, 5)).toBe(second);
    expect(dst.every((b) => b === 0xaa)).toBe(true);
    expect(tagCheckedWrite(memory.space, gpa, new Uint8Array(16).fill(0x77), 5)).toBe(second);
    expect(bytesAt(memory, gpa, 16)).toEqual(original);
  });

  test('a mismatch in the first granule reports the access address itself', () => {
    const memory = taggedGuest();
    expect(firstTagMismatch(memory.space, RAM_BASE + 0x13, 4, 6)).toBe(RAM_BASE + 0x13);
  });

  test('matching tags perform the whole access', () => {
    const memory = taggedGuest();
    memory.debug.writeTags(RAM_BASE + 2 * PAGE_SIZE, 16, Uint8Array.of(5));
    const data = patternBytes(64, 8);
    const gpa = RAM_BASE + 2 * PAGE_SIZE - 32;
    expect(tagCheckedWrite(memory.space, gpa, data, 5)).toBe(-1);
    const dst = new Uint8Array(64);
    expect(tagCheckedRead(memory.space, gpa, dst, 5)).toBe(-1);
    expect(dst).toEqual(data);
  });

  test('a checked write marks data dirty and invalidates code like any write', () => {
    const memory = taggedGuest();
    const region = memory.space.ramRegions[0]!;
    region.dirtyLogging = true;
    const invalidated: number[] = [];
    region.onCodeWrite = (page) => invalidated.push(page);
    region.codePages[1] = 1;
    expect(tagCheckedWrite(memory.space, RAM_BASE + PAGE_SIZE + 16, Uint8Array.of(1, 2), 5)).toBe(-1);
    expect(region.dataDirty.isSet(1)).toBe(true);
    expect(region.tagDirty.count()).toBe(0);
    expect(invalidated).toEqual([1]);
  });

  test('never-tagged pages hold tag 0', () => {
    const memory = makeMemory(1, true);
    expect(firstTagMismatch(memory.space, RAM_BASE, PAGE_SIZE, 0)).toBe(-1);
    expect(firstTagMismatch(memory.space, RAM_BASE + 40, 8, 1)).toBe(RAM_BASE + 40);
  });

  test.prop([fc.nat({ max: 2 * PAGE_SIZE - 1 }), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 15 })])(
    'a region without tags always matches',
    (offset, size, logical) => {
      const memory = makeMemory(2, false);
      const data = patternBytes(size, offset + 1);
      const gpa = RAM_BASE + offset;
      const len = Math.min(size, 2 * PAGE_SIZE - offset);
      expect(firstTagMismatch(memory.space, gpa, len, logical)).toBe(-1);
      expect(tagCheckedWrite(memory.space, gpa, data.subarray(0, len), logical)).toBe(-1);
      const dst = new Uint8Array(len);
      expect(tagCheckedRead(memory.space, gpa, dst, logical)).toBe(-1);
      expect(dst).toEqual(data.subarray(0, len));
    },
  );

  test('an access outside RAM throws unmapped and writes nothing', () => {
    const memory = makeMemory(1, false);
    expectMemoryError(() => tagCheckedWrite(memory.space, RAM_BASE + PAGE_SIZE - 4, new Uint8Array(8).fill(1), 0), 'unmapped');
    expect(memory.space.ramRegions[0]!.bytes.every((b) => b === 0)).toBe(true);
  });
});
