import { describe, expect, test } from 'vitest';
import { Vm } from '../../src/hv/vm.js';
import {
  KVM_CAP_ARM_MTE,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_READONLY_MEM,
  KVM_CAP_USER_MEMORY,
  KVM_MEM_READONLY,
} from '../../src/hv/kvm-api.js';
import { PAGE, RAM_BASE, expectKvmError } from './helpers.js';

const OP = 'KVM_ENABLE_CAP';
const noopVcpu = { writeProtectAll() {} };

describe('KVM_CHECK_EXTENSION', () => {
  test('reports the capabilities with KVM numbering', () => {
    expect([KVM_CAP_USER_MEMORY, KVM_CAP_NR_VCPUS, KVM_CAP_NR_MEMSLOTS, KVM_CAP_MAX_VCPUS, KVM_CAP_READONLY_MEM, KVM_CAP_ARM_MTE]).toEqual([3, 9, 10, 66, 81, 205]);
    const vm = new Vm();
    expect(vm.checkExtension(KVM_CAP_USER_MEMORY)).toBe(1);
    expect(vm.checkExtension(KVM_CAP_READONLY_MEM)).toBe(1);
    expect(vm.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(32);
    expect(vm.checkExtension(KVM_CAP_NR_VCPUS)).toBe(1);
    expect(vm.checkExtension(KVM_CAP_MAX_VCPUS)).toBe(1);
    expect(vm.checkExtension(KVM_CAP_ARM_MTE)).toBe(1);
    expect(vm.checkExtension(9999)).toBe(0);
  });

  test('a host without MTE reports KVM_CAP_ARM_MTE as 0', () => {
    expect(new Vm({ hostMte: false }).checkExtension(KVM_CAP_ARM_MTE)).toBe(0);
  });
});

describe('KVM_ENABLE_CAP(KVM_CAP_ARM_MTE)', () => {
  test('enables MTE: existing and later memslots get tag storage', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: 4 * PAGE });
    expect(vm.mteEnabled).toBe(false);
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    expect(vm.mteEnabled).toBe(true);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x8000_0000, memorySize: PAGE });
    expect(vm.memory.space.ramRegions.every((r) => r.tags !== null)).toBe(true);
  });

  test('cap.flags other than 0 is EINVAL', () => {
    const vm = new Vm();
    expectKvmError(() => vm.enableCap({ cap: KVM_CAP_ARM_MTE, flags: 1 }), 'EINVAL', OP);
    expect(vm.mteEnabled).toBe(false);
  });

  test('an unknown or non-enableable capability is EINVAL', () => {
    const vm = new Vm();
    expectKvmError(() => vm.enableCap({ cap: 12345 }), 'EINVAL', OP);
    expectKvmError(() => vm.enableCap({ cap: KVM_CAP_USER_MEMORY }), 'EINVAL', OP);
  });

  test('a host without MTE refuses with EINVAL', () => {
    const vm = new Vm({ hostMte: false });
    expectKvmError(() => vm.enableCap({ cap: KVM_CAP_ARM_MTE }), 'EINVAL', OP);
    expect(vm.mteEnabled).toBe(false);
  });

  test('after a vCPU exists it is EINVAL', () => {
    const vm = new Vm();
    vm.registerVcpu(0, noopVcpu);
    expectKvmError(() => vm.enableCap({ cap: KVM_CAP_ARM_MTE }), 'EINVAL', OP);
    expect(vm.mteEnabled).toBe(false);
  });

  test('enabling twice (before any vCPU) is fine and keeps the tags', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    vm.memory.debug.writeTags(RAM_BASE, 16, Uint8Array.of(7));
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    expect(vm.mteEnabled).toBe(true);
    expect([...vm.memory.debug.readTags(RAM_BASE, 16)]).toEqual([7]);
  });

  test('is refused (EINVAL) while a read-only slot exists, and nothing gets tags', () => {
    const vm = new Vm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: PAGE });
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_READONLY, guestPhysAddr: 0, memorySize: PAGE });
    expectKvmError(() => vm.enableCap({ cap: KVM_CAP_ARM_MTE }), 'EINVAL', OP);
    expect(vm.mteEnabled).toBe(false);
    expect(vm.memory.space.ramRegions.every((r) => r.tags === null)).toBe(true);
    // Once the read-only slot is gone, MTE can be enabled.
    vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_READONLY, guestPhysAddr: 0, memorySize: 0 });
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    expect(vm.mteEnabled).toBe(true);
  });
});

describe('KVM_CREATE_VCPU bookkeeping', () => {
  test('ids out of range are EINVAL, duplicates EEXIST', () => {
    const vm = new Vm();
    expectKvmError(() => vm.registerVcpu(1, noopVcpu), 'EINVAL', 'KVM_CREATE_VCPU');
    expectKvmError(() => vm.registerVcpu(-1, noopVcpu), 'EINVAL', 'KVM_CREATE_VCPU');
    vm.registerVcpu(0, noopVcpu);
    expectKvmError(() => vm.registerVcpu(0, noopVcpu), 'EEXIST', 'KVM_CREATE_VCPU');
    expect(vm.vcpuCount).toBe(1);
  });
});
