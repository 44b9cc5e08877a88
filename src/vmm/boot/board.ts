import type { Stateful } from '../../common/persist.js';
import type { FdtNode } from '../fdt/index.js';
import type { MmioRange } from './device-nodes.js';

/**
 * One entry of the machine's device registry: what the device tree, snapshots, migration and
 * the CLI iterate instead of a fixed list of devices (docs/linux.md, "What the machine offers").
 */
export interface BoardDevice {
  /** Instance name, unique on the board ("pl011", "virtio-mmio31"). */
  readonly name: string;
  /** What it is ("pl011", "gicv3", "arch-timer", "virtio-mmio", "shared-pages"). */
  readonly kind: string;
  readonly mmio: readonly MmioRange[];
  /** The INTIDs it raises (or names in its node). */
  readonly interrupts: readonly number[];
  /** Emits its device-tree node(s); null when the device has none (hypervisor-internal state). */
  readonly deviceTree: (() => FdtNode[]) | null;
  /** Its saved state in snapshots and migration streams, or null when it has none. */
  readonly persist: Stateful<unknown> | null;
  /** Fed by host input (a virtio-console): a guest idle in WFI may be waiting for the host. */
  readonly hostInput?: boolean;
}
