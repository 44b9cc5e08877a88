import { ACTIVITY_MIGRATION, GRANULE_SIZE, GuestMemory, GuestMemoryError, PAGE_SIZE, hex, type RamRegion, type RegionDirtyLog } from '../memory/index.js';
import { KvmError } from './errno.js';
import { GIC_NR_IRQS } from './vgic/gic-state.js';
import { Vcpu } from './vcpu.js';
import { VgicV3, type VgicV3Options } from './vgic/vgic-v3.js';
import {
  KVM_ARM_TAGS_FROM_GUEST,
  KVM_CAP_ARM_MTE,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_READONLY_MEM,
  KVM_CAP_USER_MEMORY,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  MAX_MEMSLOTS,
  MAX_VCPUS,
  type CopyMteTags,
  type EnableCap,
  type UserMemoryRegion,
} from './kvm-api.js';

interface Memslot {
  readonly region: RamRegion;
  flags: number;
}

export interface VmOptions {
  /** Pretend the host has no MTE (KVM_CAP_ARM_MTE unsupported), e.g. for a migration target. */
  readonly hostMte?: boolean;
}

/** What the VM needs from a vCPU it created: hooks the VM-wide ioctls must reach. */
export interface VcpuHooks {
  /** Dirty logging changed or a log was harvested: writable TLB entries must be dropped. */
  writeProtectAll(): void;
  /** Memslots were added or removed: translations and decoded code must be rebuilt. */
  memoryChanged?(): void;
  /** An in-kernel interrupt controller was created: connect the vCPU's lines and registers. */
  attachIrqchip?(gic: VgicV3): void;
}

/**
 * A virtual machine in the shape of a KVM VM file descriptor (Documentation/virt/kvm/api.rst):
 * capabilities, memslots, the arm64 MTE tag copy and the dirty log. Errors are KvmError with the
 * errno the kernel would return.
 */
export class Vm {
  readonly memory = new GuestMemory();
  private readonly memslots = new Map<number, Memslot>();
  private readonly vcpus = new Map<number, VcpuHooks>();
  private readonly hostMte: boolean;
  /** The in-kernel GICv3 (docs/devices.md), once created with createDevice('arm-vgic-v3'). */
  irqchip: VgicV3 | null = null;

  constructor(options: VmOptions = {}) {
    this.hostMte = options.hostMte ?? true;
  }

  get mteEnabled(): boolean {
    return this.memory.mteEnabled;
  }

  get vcpuCount(): number {
    return this.vcpus.size;
  }

  /** KVM_CHECK_EXTENSION. */
  checkExtension(cap: number): number {
    switch (cap) {
      case KVM_CAP_USER_MEMORY:
      case KVM_CAP_READONLY_MEM:
        return 1;
      case KVM_CAP_NR_MEMSLOTS:
        return MAX_MEMSLOTS;
      case KVM_CAP_NR_VCPUS:
      case KVM_CAP_MAX_VCPUS:
        return MAX_VCPUS;
      case KVM_CAP_ARM_MTE:
        return this.hostMte ? 1 : 0;
      default:
        return 0;
    }
  }

  /** KVM_ENABLE_CAP. Only KVM_CAP_ARM_MTE can be enabled, before the first vCPU exists. */
  enableCap({ cap, flags = 0 }: EnableCap): void {
    const op = 'KVM_ENABLE_CAP';
    if (flags !== 0) throw new KvmError('EINVAL', op, 'cap.flags must be 0');
    if (cap !== KVM_CAP_ARM_MTE) throw new KvmError('EINVAL', op, `capability ${cap} cannot be enabled`);
    if (!this.hostMte) throw new KvmError('EINVAL', op, 'the host does not support MTE');
    if (this.vcpus.size > 0) throw new KvmError('EINVAL', op, 'KVM_CAP_ARM_MTE must be enabled before any vCPU is created');
    try {
      this.memory.enableMte();
    } catch (error) {
      if (error instanceof GuestMemoryError) throw new KvmError('EINVAL', op, error.message);
      throw error;
    }
  }

  /** KVM_SET_USER_MEMORY_REGION: create, change flags of (dirty logging), or delete (size 0) a slot. */
  setUserMemoryRegion({ slot, flags, guestPhysAddr, memorySize }: UserMemoryRegion): void {
    const op = 'KVM_SET_USER_MEMORY_REGION';
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_MEMSLOTS) throw new KvmError('EINVAL', op, `slot ${slot} out of range`);
    if ((flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) !== 0) throw new KvmError('EINVAL', op, `unknown flags ${hex(flags)}`);
    if (guestPhysAddr % PAGE_SIZE !== 0 || memorySize % PAGE_SIZE !== 0 || memorySize < 0) {
      throw new KvmError('EINVAL', op, `guest_phys_addr ${hex(guestPhysAddr)} and memory_size ${hex(memorySize)} must be page aligned`);
    }
    const existing = this.memslots.get(slot);
    if (memorySize === 0) {
      if (!existing) throw new KvmError('EINVAL', op, `slot ${slot} does not exist`);
      this.memory.space.removeRam(existing.region);
      this.memslots.delete(slot);
      this.memoryChanged();
      return;
    }
    if (existing) {
      const same = existing.region.base === guestPhysAddr && existing.region.size === memorySize;
      if (!same) throw new KvmError('EINVAL', op, `slot ${slot} exists; it cannot be moved or resized`);
      if ((existing.flags ^ flags) & KVM_MEM_READONLY) throw new KvmError('EINVAL', op, 'KVM_MEM_READONLY cannot change on an existing slot');
      existing.flags = flags;
      this.setDirtyLogging(existing.region, (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0);
      return;
    }
    if (this.mteEnabled && flags & KVM_MEM_READONLY) {
      throw new KvmError('EINVAL', op, 'with MTE enabled every memslot must be able to hold tags; a read-only slot cannot');
    }
    let region: RamRegion;
    try {
      region = this.memory.addRam(guestPhysAddr, memorySize, { readOnly: (flags & KVM_MEM_READONLY) !== 0, name: `memslot ${slot}` });
    } catch (error) {
      if (!(error instanceof GuestMemoryError)) throw error;
      throw new KvmError(error.code === 'overlap' ? 'EEXIST' : 'EINVAL', op, error.message);
    }
    this.memslots.set(slot, { region, flags });
    this.setDirtyLogging(region, (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0);
    this.memoryChanged();
  }

  /** KVM_GET_DIRTY_LOG: the slot's dirty data pages since the last call (bit i = page i), cleared. */
  getDirtyLog(slot: number): Uint8Array {
    const region = this.loggedRegion('KVM_GET_DIRTY_LOG', slot);
    const log = region.dataDirty.takeAndClear().toBytes();
    this.writeProtectAll();
    return log;
  }

  /**
   * Tagvisor extension beside KVM_GET_DIRTY_LOG: pages whose allocation tags changed (STG and
   * friends, tag writes by the VMM). KVM has no such log; without it a tag-only change is lost.
   */
  getDirtyTagLog(slot: number): Uint8Array {
    const log = this.loggedRegion('KVM_GET_DIRTY_TAG_LOG', slot).tagDirty.takeAndClear().toBytes();
    this.writeProtectAll();
    return log;
  }

  /**
   * Tagvisor extension: the data and tag dirty logs of every logged memslot at once, as bitmaps,
   * cleared and write-protected like KVM_GET_DIRTY_LOG (what pre-copy migration needs per round).
   */
  takeDirtyLogs(): RegionDirtyLog[] {
    const logs = this.memory.migration.takeDirty().filter((log) => this.memory.space.findRam(log.base)?.dirtyLogging);
    this.writeProtectAll();
    return logs;
  }

  /** Turns dirty logging on or off for every memslot (KVM_MEM_LOG_DIRTY_PAGES on each). */
  setDirtyLoggingAll(on: boolean): void {
    for (const [slot, memslot] of this.memslots) {
      const flags = on ? memslot.flags | KVM_MEM_LOG_DIRTY_PAGES : memslot.flags & ~KVM_MEM_LOG_DIRTY_PAGES;
      this.setUserMemoryRegion({ slot, flags, guestPhysAddr: memslot.region.base, memorySize: memslot.region.size });
    }
  }

  /**
   * KVM_ARM_MTE_COPY_TAGS: copy allocation tags between guest memory and `buffer` (one tag per
   * byte). Returns `length` on success, or the number of guest bytes handled when it fails after
   * handling some; throws when nothing was handled.
   */
  armMteCopyTags({ guestIpa, length, buffer, flags, reserved = [0, 0] }: CopyMteTags): number {
    const op = 'KVM_ARM_MTE_COPY_TAGS';
    if (reserved[0] !== 0 || reserved[1] !== 0) throw new KvmError('EINVAL', op, 'reserved fields must be 0');
    if (!this.mteEnabled) throw new KvmError('EINVAL', op, 'MTE is not enabled for this VM');
    if ((flags & ~KVM_ARM_TAGS_FROM_GUEST) !== 0) throw new KvmError('EINVAL', op, `unknown flags ${hex(flags)}`);
    if (!Number.isInteger(guestIpa) || !Number.isInteger(length) || guestIpa < 0 || length < 0 || guestIpa % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0) {
      throw new KvmError('EINVAL', op, `guest_ipa ${hex(guestIpa)} and length ${hex(length)} must be page aligned`);
    }
    if (length > 0x7fffffff) throw new KvmError('EINVAL', op, 'length above INT_MAX cannot be reported');
    const toGuest = (flags & KVM_ARM_TAGS_FROM_GUEST) === 0;
    if (toGuest && [...this.memslots.values()].some((s) => s.region.dirtyLogging)) {
      throw new KvmError('EBUSY', op, 'cannot write tags while dirty logging is enabled');
    }
    const tagsPerPage = PAGE_SIZE / GRANULE_SIZE;
    let handled = 0;
    let failure: KvmError | null = null;
    for (; handled < length; handled += PAGE_SIZE) {
      const addr = guestIpa + handled;
      const region = this.memory.space.findRam(addr);
      const tagOffset = (handled / PAGE_SIZE) * tagsPerPage;
      if (!region?.tags) {
        failure = new KvmError('EFAULT', op, `no memslot at ${hex(addr)}`);
        break;
      }
      if (tagOffset + tagsPerPage > buffer.length) {
        failure = new KvmError('EFAULT', op, `buffer of ${buffer.length} bytes ends before the tags of ${hex(addr)}`);
        break;
      }
      const offset = addr - region.base;
      region.ensurePresent(offset >>> 12); // post-copy: tags arrive with their page
      if (toGuest) {
        region.tags.writeUnpacked(offset, tagsPerPage, buffer, tagOffset);
        region.noteTagWrite(offset, PAGE_SIZE, ACTIVITY_MIGRATION); // VMM userspace (QEMU: save/restore)
      } else {
        region.tags.readUnpacked(offset, tagsPerPage, buffer, tagOffset);
      }
    }
    if (failure && handled === 0) throw failure;
    return handled;
  }

  /**
   * KVM_CREATE_DEVICE for KVM_DEV_TYPE_ARM_VGIC_V3 (with its KVM_VGIC_V3_ADDR_TYPE_DIST/REDIST
   * addresses, QEMU virt's by default): the in-kernel GICv3. One per VM (EEXIST); ENODEV for other
   * types. Existing and later vCPUs are connected to it.
   */
  createDevice(type: 'arm-vgic-v3', options: VgicV3Options = {}): VgicV3 {
    const op = 'KVM_CREATE_DEVICE';
    if (type !== 'arm-vgic-v3') throw new KvmError('ENODEV', op, `unknown device type ${String(type)}`);
    if (this.irqchip) throw new KvmError('EEXIST', op, 'the VM already has a vGIC');
    let gic: VgicV3;
    try {
      gic = new VgicV3(this.memory.space, options);
    } catch (error) {
      if (error instanceof GuestMemoryError) throw new KvmError(error.code === 'overlap' ? 'EEXIST' : 'EINVAL', op, error.message);
      throw error;
    }
    this.irqchip = gic;
    for (const vcpu of this.vcpus.values()) vcpu.attachIrqchip?.(gic);
    return gic;
  }

  /**
   * KVM_IRQ_LINE with an in-kernel irqchip: drives SPI `intid` (32..287), or PPI `intid` (16..31)
   * of vCPU `vcpuId`, to `level`. ENXIO without a vGIC, EINVAL for other INTIDs.
   */
  irqLine(intid: number, level: boolean, vcpuId = 0): void {
    const op = 'KVM_IRQ_LINE';
    if (!this.irqchip) throw new KvmError('ENXIO', op, 'the VM has no in-kernel interrupt controller');
    if (!Number.isInteger(intid) || intid < 16 || intid >= GIC_NR_IRQS) throw new KvmError('EINVAL', op, `INTID ${intid} is not a PPI or SPI`);
    if (intid < 32 && !this.vcpus.has(vcpuId)) throw new KvmError('EINVAL', op, `vcpu ${vcpuId} does not exist`);
    this.irqchip.setLine(intid, level);
  }

  /** KVM_CREATE_VCPU: a vCPU with the given id (see Vcpu for the run interface). */
  createVcpu(id: number): Vcpu {
    return new Vcpu(this, id);
  }

  /** KVM_CREATE_VCPU bookkeeping: registers a vCPU's VM-wide hooks under `id`. */
  registerVcpu(id: number, hooks: VcpuHooks): void {
    const op = 'KVM_CREATE_VCPU';
    if (!Number.isInteger(id) || id < 0 || id >= MAX_VCPUS) throw new KvmError('EINVAL', op, `vcpu id ${id} out of range (max ${MAX_VCPUS})`);
    if (this.vcpus.has(id)) throw new KvmError('EEXIST', op, `vcpu ${id} already exists`);
    this.vcpus.set(id, hooks);
    if (this.irqchip) hooks.attachIrqchip?.(this.irqchip);
  }

  private loggedRegion(op: string, slot: number): RamRegion {
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_MEMSLOTS) throw new KvmError('EINVAL', op, `slot ${slot} out of range`);
    const memslot = this.memslots.get(slot);
    if (!memslot) throw new KvmError('ENOENT', op, `slot ${slot} does not exist`);
    if (!memslot.region.dirtyLogging) throw new KvmError('ENOENT', op, `slot ${slot} has no dirty log (KVM_MEM_LOG_DIRTY_PAGES is off)`);
    return memslot.region;
  }

  private setDirtyLogging(region: RamRegion, on: boolean): void {
    if (region.dirtyLogging === on) return;
    region.dirtyLogging = on;
    region.dataDirty.clear();
    region.tagDirty.clear();
    this.writeProtectAll();
  }

  private memoryChanged(): void {
    for (const vcpu of this.vcpus.values()) vcpu.memoryChanged?.();
  }

  private writeProtectAll(): void {
    for (const vcpu of this.vcpus.values()) vcpu.writeProtectAll();
  }
}
