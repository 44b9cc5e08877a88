/**
 * Constants of the Linux KVM API (include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h)
 * that the hypervisor interface mirrors, with the same values, so code written against this
 * interface reads like code written against /dev/kvm.
 */

export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_MAX_VCPUS = 66;
export const KVM_CAP_READONLY_MEM = 81;
export const KVM_CAP_ARM_MTE = 205;

export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;

/** KVM_ARM_MTE_COPY_TAGS direction flags. */
export const KVM_ARM_TAGS_TO_GUEST = 0;
export const KVM_ARM_TAGS_FROM_GUEST = 1;

/** Memslots per VM (KVM_USER_MEM_SLOTS on arm64 is larger; 32 is plenty for a virt board). */
export const MAX_MEMSLOTS = 32;
/** Tagvisor runs one vCPU per VM for now; the interface takes ids like KVM does. */
export const MAX_VCPUS = 1;

/** struct kvm_userspace_memory_region, minus userspace_addr: the VM allocates the RAM itself. */
export interface UserMemoryRegion {
  readonly slot: number;
  readonly flags: number;
  readonly guestPhysAddr: number;
  readonly memorySize: number;
}

/** struct kvm_arm_copy_mte_tags. `buffer` holds one tag per byte, length / 16 of them. */
export interface CopyMteTags {
  readonly guestIpa: number;
  readonly length: number;
  readonly buffer: Uint8Array;
  readonly flags: number;
  readonly reserved?: readonly [number, number];
}

/** struct kvm_enable_cap. */
export interface EnableCap {
  readonly cap: number;
  readonly flags?: number;
  readonly args?: readonly number[];
}
