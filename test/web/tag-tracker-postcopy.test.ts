/**
 * The viewer's tag map on a post-copy destination: a page the page thread delivered (data and
 * tags written from another thread, its state published) shows up at the next poll with its tags.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_ARRIVED_TAGGED } from '../../src/memory/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { PAGE_NEVER } from '../../src/web/protocol.js';
import { TagTracker } from '../../src/web/host/tag-tracker.js';

describe('the tag map during post-copy', () => {
  it('shows a delivered tagged page at the next poll', () => {
    const machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20, mte: true });
    const region = machine.vm.memory.space.ramRegions[0]!;
    const [missing] = machine.vm.memory.markAllMissing(null);
    const tracker = new TagTracker(machine);
    const first = tracker.poll();
    expect(first[0]).toMatchObject({ type: 'page-tags', full: true });
    expect((first[0] as { values: Uint8Array }).values[3]).toBe(PAGE_NEVER);
    region.tags!.packed.fill(0x99, 3 * 128, 4 * 128); // the page thread writes page 3's packed tags in shared memory
    Atomics.store(missing!.state, 3, PAGE_ARRIVED_TAGGED);
    const next = tracker.poll().find((m) => m.type === 'page-tags') as { pages: Uint32Array; values: Uint8Array } | undefined;
    expect(next).toBeDefined();
    expect(Array.from(next!.pages)).toEqual([3]);
    expect(next!.values[0]).not.toBe(PAGE_NEVER);
  });
});
