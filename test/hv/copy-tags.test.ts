import { describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { Vm } from '../../src/hv/vm.js';
import { KVM_ARM_TAGS_FROM_GUEST, KVM_ARM_TAGS_TO_GUEST, KVM_CAP_ARM_MTE, KVM_MEM_LOG_DIRTY_PAGES, type CopyMteTags } from '../../src/hv/kvm-api.js';
import { PAGE, RAM_BASE, expectKvmError } from './helpers.js';

const OP = 'KVM_ARM_MTE_COPY_TAGS';
const TAGS_PER_PAGE = PAGE / 16;
/** Slots 0 (4 pages) and 1 (2 pages) are adjacent; the hole starts at HOLE. */
const HOLE = RAM_BASE + 6 * PAGE;

function mteVm(): Vm {
  const vm = new Vm();
  vm.enableCap({ cap: KVM_CAP_ARM_MTE });
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: 4 * PAGE });
  vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: RAM_BASE + 4 * PAGE, memorySize: 2 * PAGE });
  return vm;
}

function toGuest(guestIpa: number, length: number, buffer: Uint8Array): CopyMteTags {
  return { guestIpa, length, buffer, flags: KVM_ARM_TAGS_TO_GUEST };
}

function fromGuest(guestIpa: number, length: number, buffer = new Uint8Array(length / 16)): CopyMteTags {
  return { guestIpa, length, buffer, flags: KVM_ARM_TAGS_FROM_GUEST };
}

describe('KVM_ARM_MTE_COPY_TAGS', () => {
  test.prop([fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.uint8Array({ minLength: 6 * TAGS_PER_PAGE, maxLength: 6 * TAGS_PER_PAGE })])(
    'round-trips one tag per byte to and from the guest, across slots',
    (firstPage, wantedPages, random) => {
      const vm = mteVm();
      const pages = Math.min(wantedPages, 6 - firstPage);
      const tags = random.subarray(0, pages * TAGS_PER_PAGE).map((b) => b & 0xf);
      const gpa = RAM_BASE + firstPage * PAGE;
      expect(vm.armMteCopyTags(toGuest(gpa, pages * PAGE, tags))).toBe(pages * PAGE);
      // The guest (debug view) sees exactly these tags, granule by granule.
      expect(vm.memory.debug.readTags(gpa, pages * PAGE)).toEqual(tags);
      const out = fromGuest(gpa, pages * PAGE);
      expect(vm.armMteCopyTags(out)).toBe(pages * PAGE);
      expect(out.buffer).toEqual(tags);
    },
  );

  test('to-guest uses the low nibble of each byte (as STG does)', () => {
    const vm = mteVm();
    const buffer = new Uint8Array(TAGS_PER_PAGE).fill(0x3c);
    vm.armMteCopyTags(toGuest(RAM_BASE, PAGE, buffer));
    expect(vm.memory.debug.readTags(RAM_BASE, PAGE).every((t) => t === 0xc)).toBe(true);
  });

  test('to-guest marks the page as tagged memory; from-guest does not', () => {
    const vm = mteVm();
    vm.armMteCopyTags(fromGuest(RAM_BASE, PAGE));
    expect(vm.memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
    vm.armMteCopyTags(toGuest(RAM_BASE + PAGE, PAGE, new Uint8Array(TAGS_PER_PAGE)));
    expect(vm.memory.migration.tagState(RAM_BASE + PAGE)).toBe('initialised');
  });

  test('untouched pages read as 0, even with stale tag storage', () => {
    const vm = mteVm();
    vm.memory.debug.writeTags(RAM_BASE, 4 * PAGE, Uint8Array.of(9));
    vm.memory.resetTags();
    const out = fromGuest(RAM_BASE, 4 * PAGE, new Uint8Array(4 * TAGS_PER_PAGE).fill(0xff));
    expect(vm.armMteCopyTags(out)).toBe(4 * PAGE);
    expect(out.buffer.every((t) => t === 0)).toBe(true);
  });

  test('length 0 returns 0 and touches nothing', () => {
    const vm = mteVm();
    expect(vm.armMteCopyTags(fromGuest(RAM_BASE, 0))).toBe(0);
    expect(vm.armMteCopyTags(toGuest(RAM_BASE, 0, new Uint8Array(0)))).toBe(0);
    expect(vm.armMteCopyTags(fromGuest(HOLE, 0))).toBe(0); // no page handled, no fault
  });

  test('guest_ipa and length must be page aligned (EINVAL)', () => {
    const vm = mteVm();
    for (const args of [fromGuest(RAM_BASE + 16, PAGE), fromGuest(RAM_BASE, PAGE + 16), fromGuest(RAM_BASE, PAGE - 16), toGuest(RAM_BASE + 0x800, PAGE, new Uint8Array(256))]) {
      expectKvmError(() => vm.armMteCopyTags(args), 'EINVAL', OP);
    }
    expect(vm.memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('negative, non-integer or above-INT_MAX arguments are EINVAL', () => {
    const vm = mteVm();
    expectKvmError(() => vm.armMteCopyTags(fromGuest(-PAGE, PAGE)), 'EINVAL', OP);
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), length: -PAGE }), 'EINVAL', OP);
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), guestIpa: Number.NaN }), 'EINVAL', OP);
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), length: 2 ** 31 }), 'EINVAL', OP);
  });

  test('reserved fields other than 0 are EINVAL', () => {
    const vm = mteVm();
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), reserved: [1, 0] }), 'EINVAL', OP);
    expectKvmError(() => vm.armMteCopyTags({ ...toGuest(RAM_BASE, PAGE, new Uint8Array(256).fill(3)), reserved: [0, 1] }), 'EINVAL', OP);
    expect(vm.memory.migration.tagState(RAM_BASE)).toBe('uninitialised');
  });

  test('unknown flags are EINVAL', () => {
    const vm = mteVm();
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), flags: 2 }), 'EINVAL', OP);
    expectKvmError(() => vm.armMteCopyTags({ ...fromGuest(RAM_BASE, PAGE), flags: 3 }), 'EINVAL', OP);
  });

  test('a VM without MTE is EINVAL', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    expectKvmError(() => vm.armMteCopyTags(fromGuest(RAM_BASE, PAGE)), 'EINVAL', OP);
  });

  test('to-guest is EBUSY while any slot logs dirty pages; from-guest is allowed', () => {
    const vm = mteVm();
    vm.memory.debug.writeTags(RAM_BASE, PAGE, Uint8Array.of(4));
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE + 4 * PAGE, memorySize: 2 * PAGE });
    expectKvmError(() => vm.armMteCopyTags(toGuest(RAM_BASE, PAGE, new Uint8Array(TAGS_PER_PAGE).fill(1))), 'EBUSY', OP);
    expect(vm.memory.debug.readTags(RAM_BASE, PAGE).every((t) => t === 4)).toBe(true);
    const out = fromGuest(RAM_BASE, PAGE);
    expect(vm.armMteCopyTags(out)).toBe(PAGE);
    expect(out.buffer.every((t) => t === 4)).toBe(true);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: RAM_BASE + 4 * PAGE, memorySize: 2 * PAGE });
    expect(vm.armMteCopyTags(toGuest(RAM_BASE, PAGE, new Uint8Array(TAGS_PER_PAGE).fill(1)))).toBe(PAGE);
  });

  test('a range running into a hole returns the bytes handled and copies up to the hole', () => {
    const vm = mteVm();
    const tags = new Uint8Array(4 * TAGS_PER_PAGE).fill(6);
    expect(vm.armMteCopyTags(toGuest(HOLE - 2 * PAGE, 4 * PAGE, tags))).toBe(2 * PAGE);
    expect(vm.memory.debug.readTags(HOLE - 2 * PAGE, 2 * PAGE).every((t) => t === 6)).toBe(true);
    const out = fromGuest(HOLE - PAGE, 3 * PAGE, new Uint8Array(3 * TAGS_PER_PAGE).fill(0xee));
    expect(vm.armMteCopyTags(out)).toBe(PAGE);
    expect(out.buffer.subarray(0, TAGS_PER_PAGE).every((t) => t === 6)).toBe(true);
    expect(out.buffer.subarray(TAGS_PER_PAGE).every((t) => t === 0xee)).toBe(true);
  });

  test('a range starting in a hole is EFAULT', () => {
    const vm = mteVm();
    expectKvmError(() => vm.armMteCopyTags(fromGuest(HOLE, PAGE)), 'EFAULT', OP);
    expectKvmError(() => vm.armMteCopyTags(toGuest(0, PAGE, new Uint8Array(TAGS_PER_PAGE))), 'EFAULT', OP);
  });

  test('a buffer too short for the range gives partial progress, or EFAULT when no page fits', () => {
    const vm = mteVm();
    const tags = new Uint8Array(TAGS_PER_PAGE + 100).fill(2);
    expect(vm.armMteCopyTags(toGuest(RAM_BASE, 3 * PAGE, tags))).toBe(PAGE);
    expect(vm.memory.debug.readTags(RAM_BASE, PAGE).every((t) => t === 2)).toBe(true);
    // The page whose tags did not fit is not touched at all (no partial page).
    expect(vm.memory.migration.tagState(RAM_BASE + PAGE)).toBe('uninitialised');
    expectKvmError(() => vm.armMteCopyTags(toGuest(RAM_BASE, PAGE, new Uint8Array(TAGS_PER_PAGE - 1).fill(5))), 'EFAULT', OP);
    expect(vm.memory.debug.readTags(RAM_BASE, PAGE).every((t) => t === 2)).toBe(true);
    expectKvmError(() => vm.armMteCopyTags(fromGuest(RAM_BASE, PAGE, new Uint8Array(0))), 'EFAULT', OP);
  });

  test('tag writes while logging show in the tag dirty log, not the data log', () => {
    // KVM refuses to-guest copies while logging, so the debug path writes the tags here.
    const vm = mteVm();
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: 4 * PAGE });
    vm.memory.debug.writeTags(RAM_BASE + 2 * PAGE, 16, Uint8Array.of(1));
    expect([...vm.getDirtyTagLog(0)]).toEqual([0b0100]);
    expect([...vm.getDirtyLog(0)]).toEqual([0]);
  });
});
