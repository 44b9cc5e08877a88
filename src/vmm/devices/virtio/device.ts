/**
 * What a virtio device model provides to the MMIO transport (transport.ts). The transport owns
 * the generic parts (status, feature negotiation, queues, interrupts); the device owns its
 * configuration space and what its queues mean.
 */
import type { DmaPath } from '../../dma-path.js';
import type { SplitQueue } from './queue.js';
import type { Shape } from '../../../common/persist.js';

export interface VirtioDevice<S = unknown> {
  /** §5 device ID (2 block, 3 console...). */
  readonly deviceId: number;
  /** Short name for state sections and messages ("virtio-blk"). */
  readonly kind: string;
  /** Device-specific feature bits offered (the transport adds VIRTIO_F_VERSION_1). */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues. */
  readonly queueSizes: readonly number[];
  /** Device configuration space (§4.2.2 Config, little-endian); out-of-range bytes read as 0. */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Serves queue `index` after a notification or host event: pops chains, performs them through
   * `dma`, and pushes used elements. Throws VirtqueueError for a malformed chain.
   */
  process(index: number, queue: SplitQueue, dma: DmaPath, negotiated: bigint): void;
  /** Device reset (status 0): forget in-flight work. Host-side configuration stays. */
  reset(): void;
  /** Guest-visible device state beyond the transport's (may be an empty object), and its fields. */
  readonly deviceShape: Shape;
  saveDevice(): S;
  checkDevice(untrusted: unknown, path: string): S;
  loadDevice(state: S): void;
  /** A host event (console input...) wants queue processing: set by the transport. */
  onHostEvent?: (queue: number) => void;
}
