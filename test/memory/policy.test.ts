import { describe, expect, test, vi } from 'vitest';
import { GuestMemory, PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE, PageOwnership, ownershipPolicy, type AccessRequest } from '../../src/memory/index.js';
import { RAM_BASE, expectMemoryError, patternBytes } from './helpers.js';

function protectedGuest(allowDebug: boolean, audit?: (request: AccessRequest) => void): { memory: GuestMemory; ownership: PageOwnership } {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, 4 * PAGE_SIZE);
  memory.enableMte();
  // Set up contents before the policy is installed: every page holds data and tags.
  memory.dma.write(RAM_BASE, patternBytes(4 * PAGE_SIZE, 21));
  memory.debug.writeTags(RAM_BASE, 4 * PAGE_SIZE, Uint8Array.of(6, 7));
  const ownership = new PageOwnership(memory.space);
  memory.setPolicy(ownershipPolicy(ownership, { allowDebug, audit }));
  return { memory, ownership };
}

const P0 = RAM_BASE;
const P1 = RAM_BASE + PAGE_SIZE;

/** Every VMM access to one page (or a range starting there), by class. */
function accesses(memory: GuestMemory, gpa: number, length: number) {
  return {
    dma: [
      () => memory.dma.read(gpa, new Uint8Array(length)),
      () => memory.dma.write(gpa, new Uint8Array(length).fill(0xee)),
      () => memory.dma.readWith(gpa, length, () => {}),
      () => memory.dma.writeWith(gpa, length, (w) => w.fill(0xee)),
    ],
    debug: [
      () => memory.debug.readData(gpa, new Uint8Array(length)),
      () => memory.debug.writeData(gpa, new Uint8Array(length).fill(0xee)),
      () => memory.debug.readTags(gpa, length),
      () => memory.debug.writeTags(gpa, length, Uint8Array.of(1)),
    ],
    migration: [
      () => memory.migration.readPage(gpa, new Uint8Array(PAGE_SIZE)),
      () => memory.migration.writePage(gpa, new Uint8Array(PAGE_SIZE).fill(0xee)),
      () => memory.migration.readPageTags(gpa, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)),
      () => memory.migration.writePageTags(gpa, new Uint8Array(PACKED_TAG_BYTES_PER_PAGE)),
      () => memory.migration.writePageTags(gpa, null),
      () => memory.migration.fillPageTags(gpa, 1),
      () => memory.migration.uniformTag(gpa),
      () => memory.migration.tagState(gpa),
    ],
  };
}

function contents(memory: GuestMemory): { bytes: number[]; tags: number[]; initialised: number[] } {
  const region = memory.space.ramRegions[0]!;
  const tags = new Uint8Array(region.size / 16);
  region.tags!.readUnpacked(0, tags.length, tags);
  return { bytes: [...region.bytes], tags: [...tags], initialised: [...region.tags!.initialised] };
}

describe('ownership policy of a protected VM', () => {
  test.each(['dma', 'debug', 'migration'] as const)('%s on a private page is denied and moves nothing', (cls) => {
    const { memory } = protectedGuest(false);
    const before = contents(memory);
    for (const op of accesses(memory, P1, PAGE_SIZE)[cls]) {
      const error = expectMemoryError(op, 'denied');
      expect(error.addr).toBe(P1);
    }
    expect(contents(memory)).toEqual(before);
  });

  test('a DMA read refused by the policy leaves the destination untouched', () => {
    const { memory } = protectedGuest(false);
    const dst = new Uint8Array(64).fill(0x5a);
    expectMemoryError(() => memory.dma.read(P0, dst), 'denied');
    expect(dst.every((b) => b === 0x5a)).toBe(true);
  });

  test('a range half shared, half private copies nothing', () => {
    const { memory, ownership } = protectedGuest(false);
    ownership.share(P0, PAGE_SIZE);
    const before = contents(memory);
    const gpa = P1 - 32;
    for (const op of [...accesses(memory, gpa, 64).dma, ...accesses(memory, gpa, 64).debug]) expectMemoryError(op, 'denied');
    expect(contents(memory)).toEqual(before);
    const dst = new Uint8Array(64).fill(0x5a);
    expectMemoryError(() => memory.dma.read(gpa, dst), 'denied');
    expect(dst.every((b) => b === 0x5a)).toBe(true);
  });

  test('the error names the first private page', () => {
    const { memory, ownership } = protectedGuest(false);
    ownership.share(P0, PAGE_SIZE);
    const error = expectMemoryError(() => memory.dma.write(P0 + 16, new Uint8Array(2 * PAGE_SIZE)), 'denied');
    expect(error.message).toContain(`page 0x${P1.toString(16)}`);
    expect(ownership.firstPrivate(P0 + 16, 2 * PAGE_SIZE)).toBe(P1);
    expect(ownership.firstPrivate(P1 + 16, 8)).toBe(P1 + 16);
  });

  test('DMA and migration work after share() and are refused again after unshare()', () => {
    const { memory, ownership } = protectedGuest(false);
    ownership.share(P1, 2 * PAGE_SIZE);
    expect(ownership.isShared(P1, 2 * PAGE_SIZE)).toBe(true);
    expect(ownership.isShared(P0)).toBe(false);
    for (const op of [...accesses(memory, P1, PAGE_SIZE).dma, ...accesses(memory, P1, PAGE_SIZE).migration]) op();
    memory.dma.write(P1 + PAGE_SIZE - 8, patternBytes(16)); // spans two shared pages
    ownership.unshare(P1, PAGE_SIZE);
    for (const op of [...accesses(memory, P1, PAGE_SIZE).dma, ...accesses(memory, P1, PAGE_SIZE).migration]) expectMemoryError(op, 'denied');
    memory.dma.write(P1 + PAGE_SIZE, patternBytes(16)); // the other page stays shared
  });

  test('debug of private memory without allowDebug is denied even after other pages are shared', () => {
    const { memory, ownership } = protectedGuest(false);
    ownership.share(P0, PAGE_SIZE);
    for (const op of accesses(memory, P0, PAGE_SIZE).debug) op();
    for (const op of accesses(memory, P1, PAGE_SIZE).debug) expectMemoryError(op, 'denied');
  });

  test('with allowDebug, debug of private memory is allowed and audited with the request', () => {
    const audit = vi.fn<(request: AccessRequest) => void>();
    const { memory, ownership } = protectedGuest(true, audit);
    const back = new Uint8Array(32);
    memory.debug.readData(P1 + 16, back);
    expect(back).toEqual(patternBytes(4 * PAGE_SIZE, 21).subarray(PAGE_SIZE + 16, PAGE_SIZE + 48));
    expect(audit).toHaveBeenLastCalledWith({ cls: 'debug', op: 'read', gpa: P1 + 16, length: 32, tags: false });
    memory.debug.writeTags(P1 + 8, 16, Uint8Array.of(3));
    expect(audit).toHaveBeenLastCalledWith({ cls: 'debug', op: 'write', gpa: P1, length: 32, tags: true });
    expect([...memory.debug.readTags(P1, 48)]).toEqual([3, 3, 6]);
    expect(audit).toHaveBeenCalledTimes(3);
    // DMA and migration remain refused.
    for (const op of [...accesses(memory, P1, PAGE_SIZE).dma, ...accesses(memory, P1, PAGE_SIZE).migration]) expectMemoryError(op, 'denied');
    // Shared pages need no audit.
    ownership.share(P0, PAGE_SIZE);
    memory.debug.readData(P0, new Uint8Array(4));
    expect(audit).toHaveBeenCalledTimes(3);
  });

  test('zero-length accesses are not policy decisions', () => {
    const { memory } = protectedGuest(false);
    memory.dma.write(P1, new Uint8Array(0));
    memory.dma.read(P1, new Uint8Array(0));
    expect(memory.debug.readTags(P1, 0).length).toBe(0);
  });

  test('share/unshare refuse partial pages and holes without changing ownership', () => {
    const { memory, ownership } = protectedGuest(false);
    expectMemoryError(() => ownership.share(P0 + 16, PAGE_SIZE), 'misaligned');
    expectMemoryError(() => ownership.share(P0, 16), 'misaligned');
    expectMemoryError(() => ownership.share(P0, 0), 'misaligned');
    expectMemoryError(() => ownership.share(RAM_BASE + 3 * PAGE_SIZE, 2 * PAGE_SIZE), 'unmapped');
    expect(ownership.isShared(RAM_BASE + 3 * PAGE_SIZE)).toBe(false);
    expectMemoryError(() => memory.dma.read(P0, new Uint8Array(1)), 'denied');
  });

  test('a hole is reported as unmapped, not denied', () => {
    const { memory } = protectedGuest(false);
    expectMemoryError(() => memory.dma.read(RAM_BASE + 4 * PAGE_SIZE, new Uint8Array(4)), 'unmapped');
  });
});

describe('PageOwnership bookkeeping', () => {
  test('a region replaced at the same base starts private, and all of it can be shared', () => {
    // Ownership belongs to the memory, not to an address: a new region (memslot deleted and
    // re-created, RAM resized) must not inherit the old region's shared pages, and share() must
    // cover the new region's full size.
    const memory = new GuestMemory();
    const old = memory.addRam(RAM_BASE, PAGE_SIZE);
    const ownership = new PageOwnership(memory.space);
    memory.setPolicy(ownershipPolicy(ownership, { allowDebug: false }));
    ownership.share(RAM_BASE, PAGE_SIZE);
    memory.space.removeRam(old);
    memory.addRam(RAM_BASE, 4 * PAGE_SIZE);
    expect(ownership.isShared(RAM_BASE)).toBe(false);
    expectMemoryError(() => memory.dma.read(RAM_BASE, new Uint8Array(16)), 'denied');
    ownership.share(RAM_BASE, 4 * PAGE_SIZE);
    expect(ownership.isShared(RAM_BASE, 4 * PAGE_SIZE)).toBe(true);
    memory.dma.write(RAM_BASE + 3 * PAGE_SIZE, patternBytes(16));
  });
});
