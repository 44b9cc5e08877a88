/**
 * The live viewer's bookkeeping in the memory layer (src/memory/activity.ts, RamRegion tag
 * epochs): per-class counters, and tag epochs that any number of readers poll without touching
 * the dirty tag log that migration owns.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ACTIVITY_DEBUG, ACTIVITY_DMA, ACTIVITY_GUEST, ACTIVITY_MIGRATION, PAGE_SIZE, type RamRegion } from '../../src/memory/index.js';
import { RAM_BASE as VIRT_RAM, VirtMachine } from '../../src/vmm/index.js';
import { RAM_BASE, makeMemory, patternBytes } from './helpers.js';

/** The pages stamped after `since` (what a reader that last looked at `since` finds). */
function changedSince(region: RamRegion, since: number): number[] {
  const out: number[] = [];
  region.tagEpochs!.forEach((epoch, page) => epoch > since && out.push(page));
  return out;
}

describe('access-class activity counters', () => {
  test('count page-writes and reads of the dma, debug and migration classes', () => {
    const memory = makeMemory(8, true);
    const region = memory.space.ramRegions[0]!;
    memory.dma.write(RAM_BASE + PAGE_SIZE - 8, patternBytes(16)); // two pages
    memory.dma.read(RAM_BASE, new Uint8Array(3 * PAGE_SIZE));
    memory.debug.writeData(RAM_BASE, patternBytes(8));
    memory.debug.writeTags(RAM_BASE + 2 * PAGE_SIZE, 2 * PAGE_SIZE, Uint8Array.of(3));
    memory.debug.readTags(RAM_BASE, 64); // a debugger's read: one page
    memory.debug.readData(RAM_BASE + PAGE_SIZE - 4, new Uint8Array(8)); // two pages
    memory.debug.readTags(RAM_BASE, 4 * PAGE_SIZE, { counted: false }); // the live viewer's map: not counted
    memory.migration.readPage(RAM_BASE + 4 * PAGE_SIZE, new Uint8Array(PAGE_SIZE));
    memory.migration.writePage(RAM_BASE + 5 * PAGE_SIZE, new Uint8Array(PAGE_SIZE));
    memory.migration.fillPageTags(RAM_BASE + 5 * PAGE_SIZE, 9);
    memory.migration.writePageTags(RAM_BASE + 6 * PAGE_SIZE, null);
    const { dataPages, tagPages, readPages } = region.activity;
    expect([...dataPages]).toEqual([0, 2, 1, 1]);
    expect([...tagPages]).toEqual([0, 0, 2, 2]);
    expect([...readPages]).toEqual([0, 3, 3, 1]);
    expect(ACTIVITY_GUEST + ACTIVITY_DMA + ACTIVITY_DEBUG + ACTIVITY_MIGRATION).toBe(6);
    const totals = memory.activityTotals();
    expect([...totals.readPages]).toEqual([...readPages]);
  });

  test("counts the guest's tag writes and slow-path stores as 'guest' (demo.elf)", () => {
    const machine = new VirtMachine({ memoryBytes: 64 << 20 });
    machine.loadElf(readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf')));
    const before = machine.vm.memory.activityTotals();
    expect(before.dataPages[ACTIVITY_DMA]).toBeGreaterThan(0); // the image load
    while (machine.state === 'running') machine.runSlice(1_000_000);
    const after = machine.vm.memory.activityTotals();
    expect(after.tagPages[ACTIVITY_GUEST]).toBeGreaterThan(0); // malloc's ST2G, free's retag
    expect(after.dataPages[ACTIVITY_GUEST]).toBeGreaterThan(0);
    expect(after.dataPages[ACTIVITY_DMA]).toBe(before.dataPages[ACTIVITY_DMA]);
  });
});

describe('tag epochs', () => {
  test('cost nothing until a reader asks, then stamp every tag write whatever the dirty log does', () => {
    const memory = makeMemory(8, true);
    const region = memory.space.ramRegions[0]!;
    memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(1));
    expect(region.tagEpochs).toBeNull();
    const epochs = region.trackTagEpochs();
    expect(region.trackTagEpochs()).toBe(epochs);
    const a = region.advanceTagEpoch();
    expect(changedSince(region, a)).toEqual([]);
    memory.debug.writeTags(RAM_BASE + 3 * PAGE_SIZE - 16, 32, Uint8Array.of(2)); // pages 2 and 3
    memory.migration.writePageTags(RAM_BASE + 6 * PAGE_SIZE, null);
    // Migration's dirty logging on, its log taken and cleared: the epochs do not care.
    region.dirtyLogging = true;
    memory.migration.fillPageTags(RAM_BASE + 7 * PAGE_SIZE, 4);
    expect(memory.migration.takeDirty()[0]!.tags.count()).toBe(1);
    expect(changedSince(region, a)).toEqual([2, 3, 6, 7]);
  });

  test('two readers poll independently, and a reset shows every page changed', () => {
    const memory = makeMemory(4, true);
    const region = memory.space.ramRegions[0]!;
    region.trackTagEpochs();
    let one = region.advanceTagEpoch();
    let two = region.advanceTagEpoch();
    memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(5));
    expect(changedSince(region, one)).toEqual([0]);
    one = region.advanceTagEpoch();
    expect(changedSince(region, one)).toEqual([]);
    memory.debug.writeTags(RAM_BASE + PAGE_SIZE, 16, Uint8Array.of(5));
    expect(changedSince(region, two)).toEqual([0, 1]); // reader two has not looked since
    two = region.advanceTagEpoch();
    memory.resetTags();
    expect(changedSince(region, two)).toEqual([0, 1, 2, 3]);
    expect(changedSince(region, one)).toEqual([0, 1, 2, 3]);
  });

  test("the vCPU's tag stores stamp too (STG and friends call noteTagWrite on the fast and slow paths)", () => {
    const machine = new VirtMachine({ memoryBytes: 64 << 20 });
    const region = machine.vm.memory.space.findRam(VIRT_RAM)!;
    region.trackTagEpochs();
    const since = region.advanceTagEpoch();
    machine.loadElf(readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf')));
    while (machine.state === 'running') machine.runSlice(1_000_000);
    // demo.elf's heap page: malloc tags the granule 2, free retags it 4.
    expect(changedSince(region, since)).toContain((0x4050_0000 - VIRT_RAM) / PAGE_SIZE);
  });
});
