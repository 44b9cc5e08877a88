/**
 * Device-tree nodes of the virt board's devices, as QEMU's hw/arm/virt.c emits them for
 * `virt,gic-version=3` (names, compatibles, cells), so a kernel sees the same board on both.
 */
import { fdtNode, prop, type FdtNode } from '../fdt/index.js';

/** Phandles as QEMU numbers them, which keeps `dtc` dumps of both easy to compare. */
export const PHANDLE = { clock: 0x8000, cpu0: 0x8001, gic: 0x8002 } as const;

/** GIC interrupt specifier kinds (arm,gic-v3 binding, first cell) and the trigger QEMU uses. */
const GIC_SPI = 0;
const GIC_PPI = 1;
const LEVEL_HIGH = 4;
const EDGE_RISING = 1;

export interface MmioRange {
  readonly base: number;
  readonly size: number;
}

/** INTID -> the three interrupt cells: SPIs are 32.., PPIs 16..31. */
function interruptCells(intid: number, trigger: number): number[] {
  if (intid >= 32) return [GIC_SPI, intid - 32, trigger];
  if (intid >= 16) return [GIC_PPI, intid - 16, trigger];
  throw new RangeError(`INTID ${intid} is an SGI: no device-tree specifier`);
}

const reg = (ranges: readonly MmioRange[]) => prop.u64('reg', ...ranges.flatMap((r) => [r.base, r.size]));
const unit = (base: number): string => base.toString(16);

export function pl011Node(range: MmioRange, intid: number): FdtNode {
  return fdtNode(`pl011@${unit(range.base)}`, [
    prop.strings('compatible', 'arm,pl011', 'arm,primecell'),
    reg([range]),
    prop.cells('interrupts', ...interruptCells(intid, LEVEL_HIGH)),
    prop.cells('clocks', PHANDLE.clock, PHANDLE.clock),
    prop.strings('clock-names', 'uartclk', 'apb_pclk'),
  ]);
}

/** The 24 MHz APB clock PrimeCell devices name (the AMBA bus needs it to probe them). */
export function apbClockNode(): FdtNode {
  return fdtNode('apb-pclk', [
    prop.strings('compatible', 'fixed-clock'),
    prop.cells('#clock-cells', 0),
    prop.cells('clock-frequency', 24_000_000),
    prop.strings('clock-output-names', 'clk24mhz'),
    prop.cells('phandle', PHANDLE.clock),
  ]);
}

export function gicV3Node(dist: MmioRange, redist: MmioRange): FdtNode {
  return fdtNode(`intc@${unit(dist.base)}`, [
    prop.strings('compatible', 'arm,gic-v3'),
    prop.cells('#interrupt-cells', 3),
    prop.empty('interrupt-controller'),
    reg([dist, redist]),
    prop.cells('#redistributor-regions', 1),
    // As QEMU: an interrupt provider states its own address cells (dtc warns otherwise).
    prop.cells('#address-cells', 2),
    prop.cells('#size-cells', 2),
    prop.empty('ranges'),
    prop.cells('phandle', PHANDLE.gic),
  ]);
}

/**
 * The generic timer: the binding lists four PPIs (secure physical, non-secure physical,
 * virtual, hypervisor). Tagvisor raises the physical (30) and virtual (27) ones; the secure
 * and hypervisor timers do not exist without EL3/EL2, their PPIs (29, 26) are listed as QEMU
 * lists them and never fire.
 */
export function timerNode(intids: readonly [number, number, number, number]): FdtNode {
  return fdtNode('timer', [
    prop.strings('compatible', 'arm,armv8-timer', 'arm,armv7-timer'),
    prop.cells('interrupts', ...intids.flatMap((intid) => interruptCells(intid, LEVEL_HIGH))),
    prop.empty('always-on'),
  ]);
}

export function virtioMmioNode(range: MmioRange, intid: number): FdtNode {
  return fdtNode(`virtio_mmio@${unit(range.base)}`, [
    prop.strings('compatible', 'virtio,mmio'),
    reg([range]),
    prop.cells('interrupts', ...interruptCells(intid, EDGE_RISING)),
    prop.empty('dma-coherent'),
  ]);
}
