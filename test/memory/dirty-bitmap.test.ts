import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { DirtyBitmap } from '../../src/memory/index.js';

function setPages(bitmap: DirtyBitmap): number[] {
  const pages: number[] = [];
  for (let p = 0; p < bitmap.pages; p++) if (bitmap.isSet(p)) pages.push(p);
  return pages;
}

describe('DirtyBitmap', () => {
  test('mark / isSet, including bit 31 and word boundaries', () => {
    const bitmap = new DirtyBitmap(70);
    for (const page of [0, 31, 32, 63, 69]) bitmap.mark(page);
    expect(setPages(bitmap)).toEqual([0, 31, 32, 63, 69]);
    expect(bitmap.count()).toBe(5);
  });

  test('markRange marks exactly the range', () => {
    const bitmap = new DirtyBitmap(100);
    bitmap.markRange(30, 5);
    expect(setPages(bitmap)).toEqual([30, 31, 32, 33, 34]);
  });

  test('takeAndClear returns the old bits and leaves the bitmap empty', () => {
    const bitmap = new DirtyBitmap(40);
    bitmap.mark(3);
    bitmap.mark(33);
    const taken = bitmap.takeAndClear();
    expect(setPages(taken)).toEqual([3, 33]);
    expect(taken.pages).toBe(40);
    expect(bitmap.count()).toBe(0);
    expect(setPages(bitmap)).toEqual([]);
    // New marks go to the live bitmap only, never into a taken one.
    bitmap.mark(5);
    expect(setPages(taken)).toEqual([3, 33]);
    expect(setPages(bitmap.takeAndClear())).toEqual([5]);
  });

  test.each([1, 31, 32, 33, 63, 64, 65, 1000])('setAll on %i pages sets exactly count == pages', (pages) => {
    const bitmap = new DirtyBitmap(pages);
    bitmap.setAll();
    expect(bitmap.count()).toBe(pages);
    const seen: number[] = [];
    bitmap.forEach((p) => seen.push(p));
    expect(seen).toEqual(Array.from({ length: pages }, (_, i) => i));
    expect(bitmap.toBytes().length).toBe(Math.ceil(pages / 8));
  });

  test('clear empties the bitmap', () => {
    const bitmap = new DirtyBitmap(64);
    bitmap.setAll();
    bitmap.clear();
    expect(bitmap.count()).toBe(0);
  });

  test.prop([fc.uniqueArray(fc.nat({ max: 199 }), { maxLength: 60 })])('forEach visits set pages once each, ascending', (pages) => {
    const bitmap = new DirtyBitmap(200);
    for (const p of pages) bitmap.mark(p);
    const seen: number[] = [];
    bitmap.forEach((p) => seen.push(p));
    expect(seen).toEqual([...pages].sort((a, b) => a - b));
    expect(bitmap.count()).toBe(pages.length);
  });

  test('orWith merges bits and refuses a bitmap of another size', () => {
    const data = new DirtyBitmap(40);
    const tags = new DirtyBitmap(40);
    data.mark(1);
    tags.mark(1);
    tags.mark(39);
    data.orWith(tags);
    expect(setPages(data)).toEqual([1, 39]);
    expect(setPages(tags)).toEqual([1, 39]); // the argument is not modified
    expect(() => data.orWith(new DirtyBitmap(41))).toThrow(RangeError);
  });

  test('toBytes is LSB first, ceil(pages / 8) bytes', () => {
    const bitmap = new DirtyBitmap(40);
    for (const page of [0, 9, 31, 32, 39]) bitmap.mark(page);
    expect([...bitmap.toBytes()]).toEqual([0x01, 0x02, 0x00, 0x80, 0x81]);
  });

  test('toBytes is a copy, not a live view', () => {
    const bitmap = new DirtyBitmap(16);
    const bytes = bitmap.toBytes();
    bitmap.mark(0);
    expect(bytes[0]).toBe(0);
  });
});
