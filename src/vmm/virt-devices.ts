/**
 * The virt board's interrupt controller and virtio devices (issue 4), wired as QEMU's
 * `virt,gic-version=3` wires them (hw/arm/virt.c):
 *
 * - GICv3 distributor 0x0800_0000, redistributor 0x080A_0000 (in-kernel, src/hv/vgic);
 * - 32 virtio-mmio transports at 0x0A00_0000 + n × 0x200 with SPI 16 + n (INTID 48 + n); devices
 *   take slots from the highest downwards in the order given (QEMU fills the virtio-mmio buses
 *   that way for -device options in command-line order), empty slots read device ID 0;
 * - the arch timer's PPIs 27 (virtual) and 30 (physical) come from the vCPU (src/hv/arch-timer.ts).
 */
import type { Stateful } from '../common/persist.js';
import type { Vcpu, VgicV3, Vm } from '../hv/index.js';
import { PageOwnership } from '../memory/index.js';
import { createDmaPath, type DmaMode, type DmaPath } from './dma-path.js';
import { MMIO_WINDOW, VirtioBlk, VirtioConsole, VirtioMmioTransport, type BlockBackend, type VirtioDevice } from './devices/virtio/index.js';
import { SharedPages } from './hyp-mem.js';

export const VIRTIO_MMIO_BASE = 0x0a00_0000;
export const VIRTIO_MMIO_SLOTS = 32;
/** INTID of slot n: SPI 16 + n. */
export const virtioIntid = (slot: number): number => 32 + 16 + slot;

export interface VirtDeviceOptions {
  /** virtio-blk disks, in order (the first gets slot 31). */
  readonly drives?: readonly BlockBackend[];
  /** Attach a virtio-console after the disks; its output goes here. */
  readonly console?: (bytes: Uint8Array) => void;
  readonly dma?: DmaMode;
}

export class VirtDevices {
  readonly gic: VgicV3;
  readonly pool: PageOwnership;
  readonly sharedPages: SharedPages;
  readonly dma: DmaPath;
  /** Index = slot. */
  readonly transports: VirtioMmioTransport[] = [];
  readonly disks: VirtioBlk[] = [];
  readonly console: VirtioConsole | null = null;

  constructor(
    vm: Vm,
    private readonly vcpu: Vcpu,
    options: VirtDeviceOptions,
    onError: (message: string) => void,
  ) {
    this.gic = vm.createDevice('arm-vgic-v3');
    this.pool = new PageOwnership(vm.memory.space);
    this.sharedPages = new SharedPages(this.pool, vm.memory.space);
    this.dma = createDmaPath(options.dma ?? 'direct', vm.memory, this.pool);
    const devices: VirtioDevice[] = [];
    for (const drive of options.drives ?? []) {
      const disk = new VirtioBlk(drive);
      this.disks.push(disk);
      devices.push(disk);
    }
    if (options.console) {
      this.console = new VirtioConsole(options.console);
      devices.push(this.console);
    }
    if (devices.length > VIRTIO_MMIO_SLOTS) throw new RangeError(`at most ${VIRTIO_MMIO_SLOTS} virtio devices fit the virt board`);
    for (let slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
      const device = devices[VIRTIO_MMIO_SLOTS - 1 - slot] ?? null;
      const transport = new VirtioMmioTransport(slot, device, this.dma, (level) => vm.irqLine(virtioIntid(slot), level), onError);
      vm.memory.space.addMmio(VIRTIO_MMIO_BASE + slot * MMIO_WINDOW, MMIO_WINDOW, `virtio-mmio${slot}`, transport);
      this.transports.push(transport);
    }
  }

  /** System reset: interrupt controller, timer, devices, and the shared pages. */
  reset(): void {
    for (const t of this.transports) t.reset();
    this.gic.reset();
    this.vcpu.timer.reset();
    this.sharedPages.reset();
  }

  /** Save/restore sections, in restore order (the GIC before the lines that drive it). */
  components(): Stateful<unknown>[] {
    const withDevices = this.transports.filter((t) => t.device !== null);
    return [this.gic, this.vcpu.timer, this.sharedPages, ...withDevices] as Stateful<unknown>[];
  }
}
