import { describe, expect, test } from 'vitest';
import { Vm } from '../../src/hv/vm.js';
import { KVM_CAP_ARM_MTE, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, type UserMemoryRegion } from '../../src/hv/kvm-api.js';
import { PAGE, RAM_BASE, expectKvmError } from './helpers.js';

const OP = 'KVM_SET_USER_MEMORY_REGION';

function slot(slotId: number, guestPhysAddr: number, memorySize: number, flags = 0): UserMemoryRegion {
  return { slot: slotId, flags, guestPhysAddr, memorySize };
}

describe('KVM_SET_USER_MEMORY_REGION', () => {
  test('creates RAM at the given address', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 16 * PAGE));
    vm.memory.dma.write(RAM_BASE + 15 * PAGE, Uint8Array.of(1, 2, 3));
    expect(vm.memory.space.findRam(RAM_BASE)?.size).toBe(16 * PAGE);
  });

  test('a bad slot number is EINVAL', () => {
    const vm = new Vm();
    for (const bad of [-1, 32, 1.5, Number.NaN]) expectKvmError(() => vm.setUserMemoryRegion(slot(bad, RAM_BASE, PAGE)), 'EINVAL', OP);
    vm.setUserMemoryRegion(slot(31, RAM_BASE, PAGE));
  });

  test('unknown flags are EINVAL', () => {
    const vm = new Vm();
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE, PAGE, 1 << 2)), 'EINVAL', OP);
    expect(vm.memory.space.ramRegions.length).toBe(0);
  });

  test('misaligned address or size is EINVAL', () => {
    const vm = new Vm();
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE + 0x800, PAGE)), 'EINVAL', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE, PAGE + 16)), 'EINVAL', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE, -PAGE)), 'EINVAL', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, -PAGE, PAGE)), 'EINVAL', OP);
    expect(vm.memory.space.ramRegions.length).toBe(0);
  });

  test('overlapping another slot is EEXIST', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 4 * PAGE));
    expectKvmError(() => vm.setUserMemoryRegion(slot(1, RAM_BASE + 3 * PAGE, 2 * PAGE)), 'EEXIST', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(1, RAM_BASE - PAGE, 2 * PAGE)), 'EEXIST', OP);
    vm.setUserMemoryRegion(slot(1, RAM_BASE + 4 * PAGE, PAGE)); // adjacent is fine
    expect(vm.memory.space.ramRegions.length).toBe(2);
  });

  test('a read-only slot is refused (EINVAL) while MTE is on', () => {
    const vm = new Vm();
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, 0, PAGE, KVM_MEM_READONLY)), 'EINVAL', OP);
    expect(vm.memory.space.ramRegions.length).toBe(0);
  });

  test('a read-only slot without MTE refuses writes through the VMM', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, 0, PAGE, KVM_MEM_READONLY));
    expect(vm.memory.space.findRam(0)?.readOnly).toBe(true);
    expect(() => vm.memory.dma.write(0, Uint8Array.of(1))).toThrow(/read-only/);
  });

  test('size 0 deletes a slot; deleting a missing slot is EINVAL', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(3, RAM_BASE, PAGE));
    vm.setUserMemoryRegion(slot(3, RAM_BASE, 0));
    expect(vm.memory.space.findRam(RAM_BASE)).toBeUndefined();
    expect(() => vm.memory.dma.read(RAM_BASE, new Uint8Array(1))).toThrow(/not RAM/);
    expectKvmError(() => vm.setUserMemoryRegion(slot(3, RAM_BASE, 0)), 'EINVAL', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(4, 0, 0)), 'EINVAL', OP);
    // The slot number and the range are free again.
    vm.setUserMemoryRegion(slot(3, RAM_BASE, 2 * PAGE));
    expect(vm.memory.space.findRam(RAM_BASE + PAGE)).toBeDefined();
  });

  test('moving or resizing an existing slot is EINVAL and leaves it as it was', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 2 * PAGE));
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE, 4 * PAGE)), 'EINVAL', OP);
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE + PAGE, 2 * PAGE)), 'EINVAL', OP);
    expect(vm.memory.migration.layout()).toEqual([{ base: RAM_BASE, size: 2 * PAGE }]);
  });

  test('KVM_MEM_READONLY cannot change on an existing slot', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, RAM_BASE, PAGE));
    expectKvmError(() => vm.setUserMemoryRegion(slot(0, RAM_BASE, PAGE, KVM_MEM_READONLY)), 'EINVAL', OP);
    expect(vm.memory.space.findRam(RAM_BASE)?.readOnly).toBe(false);
  });

  test('toggling KVM_MEM_LOG_DIRTY_PAGES on an existing slot keeps its contents', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 2 * PAGE));
    vm.memory.dma.write(RAM_BASE, Uint8Array.of(42));
    const region = vm.memory.space.findRam(RAM_BASE)!;
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 2 * PAGE, KVM_MEM_LOG_DIRTY_PAGES));
    expect(region.dirtyLogging).toBe(true);
    expect(vm.memory.space.findRam(RAM_BASE)).toBe(region);
    expect(region.bytes[0]).toBe(42);
    vm.memory.dma.write(RAM_BASE + PAGE, Uint8Array.of(1));
    expect([...vm.getDirtyLog(0)]).toEqual([0b10]);
    vm.setUserMemoryRegion(slot(0, RAM_BASE, 2 * PAGE, 0));
    expect(region.dirtyLogging).toBe(false);
    expectKvmError(() => vm.getDirtyLog(0), 'ENOENT', 'KVM_GET_DIRTY_LOG');
  });
});
