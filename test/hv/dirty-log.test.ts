import { describe, expect, test } from 'vitest';
import { Vm } from '../../src/hv/vm.js';
import { KVM_CAP_ARM_MTE, KVM_MEM_LOG_DIRTY_PAGES } from '../../src/hv/kvm-api.js';
import { PAGE, RAM_BASE, expectKvmError } from './helpers.js';

function loggingVm(pages = 40): { vm: Vm; writeProtects: () => number } {
  const vm = new Vm();
  vm.enableCap({ cap: KVM_CAP_ARM_MTE });
  let count = 0;
  vm.registerVcpu(0, { writeProtectAll: () => count++ });
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: pages * PAGE });
  vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: pages * PAGE });
  return { vm, writeProtects: () => count };
}

describe('KVM_GET_DIRTY_LOG and the tag log', () => {
  test('ENOENT for a missing slot or a slot without logging', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 2, flags: 0, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    expectKvmError(() => vm.getDirtyLog(0), 'ENOENT', 'KVM_GET_DIRTY_LOG');
    expectKvmError(() => vm.getDirtyLog(2), 'ENOENT', 'KVM_GET_DIRTY_LOG');
    expectKvmError(() => vm.getDirtyTagLog(0), 'ENOENT', 'KVM_GET_DIRTY_TAG_LOG');
    expectKvmError(() => vm.getDirtyTagLog(2), 'ENOENT', 'KVM_GET_DIRTY_TAG_LOG');
  });

  test('EINVAL for a slot number outside the memslot range, as KVM does', () => {
    const vm = new Vm();
    expectKvmError(() => vm.getDirtyLog(32), 'EINVAL', 'KVM_GET_DIRTY_LOG');
    expectKvmError(() => vm.getDirtyLog(-1), 'EINVAL', 'KVM_GET_DIRTY_LOG');
    expectKvmError(() => vm.getDirtyTagLog(1.5), 'EINVAL', 'KVM_GET_DIRTY_TAG_LOG');
  });

  test('byte layout: bit i of the log is page i, LSB first, ceil(pages / 8) bytes', () => {
    const { vm } = loggingVm(40);
    for (const page of [0, 9, 31, 32, 39]) vm.memory.dma.write(RAM_BASE + page * PAGE + 100, Uint8Array.of(1));
    expect([...vm.getDirtyLog(0)]).toEqual([0x01, 0x02, 0x00, 0x80, 0x81]);
  });

  test('get-and-clear: a second call reports only newer writes', () => {
    const { vm } = loggingVm(16);
    vm.memory.dma.write(RAM_BASE + 3 * PAGE, Uint8Array.of(1));
    expect([...vm.getDirtyLog(0)]).toEqual([0b1000, 0]);
    expect([...vm.getDirtyLog(0)]).toEqual([0, 0]);
    vm.memory.dma.write(RAM_BASE + 8 * PAGE, Uint8Array.of(1));
    expect([...vm.getDirtyLog(0)]).toEqual([0, 1]);
  });

  test('the data and tag logs are separate and each is cleared only by its own harvest', () => {
    const { vm } = loggingVm(8);
    vm.memory.dma.write(RAM_BASE + PAGE, Uint8Array.of(1));
    vm.memory.debug.writeTags(RAM_BASE + 5 * PAGE, 16, Uint8Array.of(3));
    expect([...vm.getDirtyLog(0)]).toEqual([0b0000_0010]);
    expect([...vm.getDirtyTagLog(0)]).toEqual([0b0010_0000]);
    expect([...vm.getDirtyTagLog(0)]).toEqual([0]);
  });

  test('writes before logging was enabled are not reported; toggling clears the log', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: 8 * PAGE });
    vm.memory.dma.write(RAM_BASE, Uint8Array.of(1));
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: 8 * PAGE });
    expect([...vm.getDirtyLog(0)]).toEqual([0]);
    vm.memory.dma.write(RAM_BASE + PAGE, Uint8Array.of(1));
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: 8 * PAGE });
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: 8 * PAGE });
    expect([...vm.getDirtyLog(0)]).toEqual([0]);
  });

  test('logs are per slot', () => {
    const { vm } = loggingVm(8);
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE + 8 * PAGE, memorySize: 8 * PAGE });
    vm.memory.dma.write(RAM_BASE + 8 * PAGE - 1, Uint8Array.of(1, 2)); // last page of slot 0, first of slot 1
    expect([...vm.getDirtyLog(0)]).toEqual([0x80]);
    expect([...vm.getDirtyLog(1)]).toEqual([0x01]);
  });

  test('writeProtectAll is called when logging is toggled on or off', () => {
    const vm = new Vm();
    let count = 0;
    vm.registerVcpu(0, { writeProtectAll: () => count++ });
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    expect(count).toBe(1); // created with logging on
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    expect(count).toBe(2);
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    expect(count).toBe(3);
  });

  test('writeProtectAll is called on every harvest of the data log', () => {
    const { vm, writeProtects } = loggingVm(8);
    const before = writeProtects();
    vm.getDirtyLog(0);
    expect(writeProtects()).toBe(before + 1);
    vm.getDirtyLog(0);
    expect(writeProtects()).toBe(before + 2);
  });

  test('writeProtectAll is called on every harvest of the tag log', () => {
    // VcpuHooks: "a log was harvested: writable TLB entries must be dropped". A vCPU that stops
    // recording writes to pages it already holds writable would lose tag-only changes otherwise.
    const { vm, writeProtects } = loggingVm(8);
    const before = writeProtects();
    vm.getDirtyTagLog(0);
    expect(writeProtects()).toBe(before + 1);
  });

  test('a failed harvest does not write-protect', () => {
    const vm = new Vm();
    let count = 0;
    vm.registerVcpu(0, { writeProtectAll: () => count++ });
    expectKvmError(() => vm.getDirtyLog(5), 'ENOENT');
    expect(count).toBe(0);
  });
});
