import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isZeroPageAt, PAGE_SIZE } from '../../src/memory/index.js';

describe('isZeroPageAt (every migration, snapshot and post-copy page)', () => {
  const memory = new Uint8Array(new SharedArrayBuffer(4 * PAGE_SIZE));

  it('a zero page is zero, whatever its neighbours hold', () => {
    memory.fill(0xff, 0, PAGE_SIZE);
    memory.fill(0xff, 2 * PAGE_SIZE);
    expect(isZeroPageAt(memory, PAGE_SIZE)).toBe(true);
    expect(isZeroPageAt(memory, 0)).toBe(false);
    expect(isZeroPageAt(memory, 2 * PAGE_SIZE)).toBe(false);
    memory.fill(0);
  });

  test.prop([fc.integer({ min: 0, max: PAGE_SIZE - 1 }), fc.integer({ min: 1, max: 255 })])('one non-zero byte anywhere makes a page non-zero', (at, value) => {
    memory[PAGE_SIZE + at] = value;
    try {
      expect(isZeroPageAt(memory, PAGE_SIZE)).toBe(false);
      expect(isZeroPageAt(memory, 0)).toBe(true);
      expect(isZeroPageAt(memory, 2 * PAGE_SIZE)).toBe(true);
    } finally {
      memory[PAGE_SIZE + at] = 0;
    }
  });

  it('works on a view that starts inside its buffer', () => {
    const view = memory.subarray(PAGE_SIZE);
    memory[2 * PAGE_SIZE + 4095] = 1;
    expect(isZeroPageAt(view, 0)).toBe(true);
    expect(isZeroPageAt(view, PAGE_SIZE)).toBe(false);
    memory.fill(0);
  });
});
