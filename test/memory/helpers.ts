import { expect } from 'vitest';
import { GuestMemory, GuestMemoryError, type GuestMemoryErrorCode } from '../../src/memory/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const RAM_BASE = 0x4000_0000;

/** Runs `fn`, expects a GuestMemoryError with `code`, and returns it for further checks. */
export function expectMemoryError(fn: () => unknown, code: GuestMemoryErrorCode): GuestMemoryError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a GuestMemoryError with code '${code}'`).toBeInstanceOf(GuestMemoryError);
  const error = caught as GuestMemoryError;
  expect(error.code).toBe(code);
  return error;
}

/** A guest with one RAM region of `pages` pages at RAM_BASE, optionally with MTE. */
export function makeMemory(pages: number, mte: boolean): GuestMemory {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, pages * 4096);
  if (mte) memory.enableMte();
  return memory;
}

/** Deterministic non-trivial bytes. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A snapshot of every region's raw bytes, tags (as read) and initialised flags. */
export function snapshotTags(memory: GuestMemory): { tags: number[]; initialised: number[] } {
  const tags: number[] = [];
  const initialised: number[] = [];
  for (const region of memory.space.ramRegions) {
    const store = region.tags;
    if (!store) continue;
    const unpacked = new Uint8Array(region.size / 16);
    store.readUnpacked(0, unpacked.length, unpacked);
    for (const tag of unpacked) tags.push(tag);
    for (const flag of store.initialised) initialised.push(flag);
  }
  return { tags, initialised };
}
