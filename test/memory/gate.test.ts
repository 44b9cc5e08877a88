import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GuestMemory, GuestMemoryError, PAGE_SIZE, type AccessRequest } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, patternBytes } from './helpers.js';

/** Two adjacent RAM regions (the second optionally read-only) and a policy that records requests. */
function twoRegions(secondReadOnly = false): { memory: GuestMemory; requests: AccessRequest[] } {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, 2 * PAGE_SIZE);
  memory.addRam(RAM_BASE + 2 * PAGE_SIZE, 2 * PAGE_SIZE, { readOnly: secondReadOnly });
  const requests: AccessRequest[] = [];
  memory.setPolicy({ authorize: (request) => void requests.push(request) });
  return { memory, requests };
}

const allBytes = (memory: GuestMemory): number[] => memory.space.ramRegions.flatMap((r) => [...r.bytes]);

describe('the access gate below the access classes', () => {
  test('a request spanning two regions is authorized once, for its whole range', () => {
    const { memory, requests } = twoRegions();
    const src = patternBytes(2 * PAGE_SIZE, 3);
    memory.dma.write(RAM_BASE + PAGE_SIZE, src);
    const back = new Uint8Array(src.length);
    memory.dma.read(RAM_BASE + PAGE_SIZE, back);
    expect(back).toEqual(src);
    expect(requests).toEqual([
      { cls: 'dma', op: 'write', gpa: RAM_BASE + PAGE_SIZE, length: 2 * PAGE_SIZE, tags: false },
      { cls: 'dma', op: 'read', gpa: RAM_BASE + PAGE_SIZE, length: 2 * PAGE_SIZE, tags: false },
    ]);
  });

  test('a write that reaches read-only RAM in its second region is refused whole', () => {
    const { memory, requests } = twoRegions(true);
    const before = allBytes(memory);
    expectMemoryError(() => memory.dma.write(RAM_BASE + PAGE_SIZE, new Uint8Array(2 * PAGE_SIZE).fill(0xee)), 'read-only');
    expectMemoryError(() => memory.debug.writeData(RAM_BASE + PAGE_SIZE, new Uint8Array(2 * PAGE_SIZE).fill(0xee)), 'read-only');
    expect(allBytes(memory)).toEqual(before);
    expect(requests).toEqual([]);
  });

  test('a request running off the end of RAM is refused whole, naming where RAM ends', () => {
    const { memory } = twoRegions();
    const end = RAM_BASE + 4 * PAGE_SIZE;
    const error = expectMemoryError(() => memory.dma.write(end - 16, new Uint8Array(32).fill(0xee)), 'unmapped');
    expect(error.addr).toBe(end);
    expect(allBytes(memory).every((b) => b === 0)).toBe(true);
  });

  test.each([RAM_BASE + 0.5, -1, NaN, 2 ** 52])('address %s is refused before anything moves', (addr) => {
    const { memory, requests } = twoRegions();
    expectMemoryError(() => memory.dma.write(addr, Uint8Array.of(7)), 'invalid-range');
    expectMemoryError(() => memory.dma.read(addr, new Uint8Array(1)), 'invalid-range');
    expect(() => memory.migration.readPage(addr, new Uint8Array(PAGE_SIZE))).toThrow(GuestMemoryError);
    expect(allBytes(memory).every((b) => b === 0)).toBe(true);
    expect(requests).toEqual([]);
  });

  test('the access classes do not import GuestMemory (it builds the gate and hands it to them)', () => {
    const dir = join(import.meta.dirname, '../../src/memory/access');
    for (const file of readdirSync(dir)) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/from '\.\.\/guest-memory\.js'/);
    }
  });
});
