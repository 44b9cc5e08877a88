/**
 * The virt board's interrupt controller and virtio devices (docs/devices.md), wired as QEMU's
 * `virt,gic-version=3` wires them (hw/arm/virt.c):
 *
 * - GICv3 distributor 0x0800_0000, redistributor 0x080A_0000 (in-kernel, src/hv/vgic);
 * - 32 virtio-mmio transports at 0x0A00_0000 + n × 0x200 with SPI 16 + n (INTID 48 + n); devices
 *   take slots from the highest downwards in the order given (QEMU fills the virtio-mmio buses
 *   that way for -device options in command-line order), empty slots read device ID 0;
 * - the arch timer's PPIs 27 (virtual) and 30 (physical) come from the vCPU (src/hv/arch-timer.ts).
 *
 * `registry()` lists them as board devices (boot/board.ts) for the device tree and snapshots.
 */
import type { Stateful } from '../common/persist.js';
import { GICD_BASE, GICR_BASE, PPI_PTIMER, PPI_VTIMER, type Vcpu, type VgicV3, type Vm } from '../hv/index.js';
import { PageOwnership } from '../memory/index.js';
import { gicV3Node, timerNode, virtioMmioNode, type BoardDevice } from './boot/index.js';
import { createDmaPath, type DmaMode, type DmaPath } from './dma-path.js';
import { MMIO_WINDOW, VirtioBlk, VirtioConsole, VirtioMmioTransport, type BlockBackend, type VirtioDevice } from './devices/virtio/index.js';
import { SharedPages } from './hyp-mem.js';

export const VIRTIO_MMIO_BASE = 0x0a00_0000;
export const VIRTIO_MMIO_SLOTS = 32;
/** GICv3 frames as the device tree describes them: 64 KiB distributor, one 128 KiB redistributor. */
const GICD_SIZE = 0x1_0000;
const GICR_SIZE = 0x2_0000;
/** The timer binding's four PPIs: secure physical, non-secure physical, virtual, hypervisor. */
const TIMER_INTIDS = [29, PPI_PTIMER, PPI_VTIMER, 26] as const;
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

  /**
   * The board devices these are, in restore order (the GIC before the lines that drive it).
   * Every virtio-mmio slot has a device-tree node (as on QEMU); only occupied ones have state.
   */
  registry(): BoardDevice[] {
    const gic: BoardDevice = {
      name: 'gicv3',
      kind: 'gicv3',
      mmio: [{ base: GICD_BASE, size: GICD_SIZE }, { base: GICR_BASE, size: GICR_SIZE }],
      interrupts: [],
      deviceTree: () => [gicV3Node({ base: GICD_BASE, size: GICD_SIZE }, { base: GICR_BASE, size: GICR_SIZE })],
      persist: this.gic as Stateful<unknown>,
    };
    const timer: BoardDevice = { name: 'arch-timer', kind: 'arch-timer', mmio: [], interrupts: TIMER_INTIDS, deviceTree: () => [timerNode(TIMER_INTIDS)], persist: this.vcpu.timer as Stateful<unknown> };
    const shared: BoardDevice = { name: 'shared-pages', kind: 'shared-pages', mmio: [], interrupts: [], deviceTree: null, persist: this.sharedPages as Stateful<unknown> };
    const slots: BoardDevice[] = this.transports.map((transport, slot) => {
      const range = { base: VIRTIO_MMIO_BASE + slot * MMIO_WINDOW, size: MMIO_WINDOW };
      const persist = transport.device ? (transport as Stateful<unknown>) : null;
      return { name: `virtio-mmio${slot}`, kind: 'virtio-mmio', mmio: [range], interrupts: [virtioIntid(slot)], deviceTree: () => [virtioMmioNode(range, virtioIntid(slot))], persist, hostInput: transport.device === this.console && this.console !== null };
    });
    return [gic, timer, shared, ...slots];
  }
}
