/**
 * A split virtqueue, device side (virtio 1.2 §2.7 "Split Virtqueues"). Everything in the rings is
 * written by an untrusted driver, so every index, address and length is checked before use, and
 * every violation is a VirtqueueError (the transport then sets DEVICE_NEEDS_RESET, §2.1.2):
 *
 * - an available index that moved by more than the queue size (§2.7.6: the driver cannot have
 *   made more buffers available than there are entries; a jump means a corrupt or hostile ring);
 * - a head or `next` index outside the table, or a chain longer than the queue size (§2.7.5.2:
 *   "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total; this implies that
 *   loops in the descriptor chain are forbidden", and a chain has at most Queue Size entries);
 * - a total length above 2^32 bytes (§2.7.5.2), a device-readable descriptor after a
 *   device-writable one (§2.7.4.2 Message Framing), VIRTQ_DESC_F_INDIRECT without
 *   VIRTIO_F_INDIRECT_DESC (§2.7.5.3.1);
 * - a buffer or ring that is not guest RAM or that the DMA path may not touch (a bounce-mode
 *   device outside the shared pool): the three ring areas, sized by the queue size (§2.7: 16
 *   bytes per descriptor, 6 + 2 per entry for the driver area, 6 + 8 per entry for the device
 *   area), are checked before any request of a notification is acted on, so a used ring that
 *   runs off the end of RAM stops the device before it writes the disk;
 * - ring areas that overlap each other, a device-writable buffer over a ring (the device would
 *   corrupt its own rings), a zero-length buffer (as QEMU: "zero sized buffers are not allowed").
 * A whole chain is validated before the device performs any of it, so a bad chain moves no data.
 */
import { GuestMemoryError } from '../../../memory/index.js';
import type { DmaPath } from '../../dma-path.js';
import { AVAIL_F_NO_INTERRUPT, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE } from './constants.js';

export class VirtqueueError extends Error {
  override readonly name = 'VirtqueueError';
}

/** One buffer of a chain. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

/** A validated descriptor chain: device-readable segments, then device-writable ones. */
export interface Chain {
  readonly head: number;
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  readonly readableBytes: number;
  readonly writableBytes: number;
}

/** The largest queue a Tagvisor device offers (QueueNumMax). */
export const QUEUE_MAX = 256;
const MAX_CHAIN_BYTES = 2 ** 32;
/** Guest physical addresses are below 2^52 (docs/memory-and-kvm.md); a high word at or above 2^20 is not RAM. */
const GPA_HIGH_LIMIT = 2 ** 20;

export interface QueueState {
  readonly size: number;
  readonly ready: boolean;
  readonly desc: readonly [number, number];
  readonly driver: readonly [number, number];
  readonly device: readonly [number, number];
  readonly lastAvail: number;
  readonly usedIdx: number;
}

export class SplitQueue {
  size = 0;
  ready = false;
  /** Descriptor table, driver area (available ring), device area (used ring): [low, high] words. */
  desc: [number, number] = [0, 0];
  driver: [number, number] = [0, 0];
  device: [number, number] = [0, 0];
  /** Next available-ring entry the device will read (free-running u16). */
  lastAvail = 0;
  /** The used index the device publishes (free-running u16). */
  usedIdx = 0;
  private readonly scratch = new Uint8Array(16);
  private readonly view = new DataView(this.scratch.buffer);

  constructor(
    readonly maxSize: number,
    private readonly dma: DmaPath,
  ) {
    this.reset();
  }

  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.desc = [0, 0];
    this.driver = [0, 0];
    this.device = [0, 0];
    this.lastAvail = 0;
    this.usedIdx = 0;
  }

  /**
   * Why the configuration cannot be made ready (QueueReady = 1), or null: the size must be a
   * power of 2 no larger than QueueNumMax (§2.7), the parts aligned (§2.7.1: 16, 2 and 4 bytes)
   * and addressable.
   */
  configError(): string | null {
    const n = this.size;
    if (n < 1 || n > this.maxSize || (n & (n - 1)) !== 0) return `queue size ${n} is not a power of 2 in 1..${this.maxSize}`;
    for (const [name, [lo, hi], align] of [['descriptor table', this.desc, 16], ['driver area', this.driver, 2], ['device area', this.device, 4]] as const) {
      if (hi >= GPA_HIGH_LIMIT) return `${name} address is beyond the guest physical address space`;
      if (lo % align !== 0) return `${name} is not ${align}-byte aligned`;
    }
    return null;
  }

  /** The descriptor table, driver area and device area as [start, length, access] (§2.7). */
  private rings(): [string, number, number, 'read' | 'write'][] {
    return [
      ['descriptor table', this.addr(this.desc), 16 * this.size, 'read'],
      ['driver area', this.addr(this.driver), 6 + 2 * this.size, 'read'],
      ['device area', this.addr(this.device), 6 + 8 * this.size, 'write'],
    ];
  }

  /**
   * Why the rings of a ready queue cannot be used, or null: each area must lie whole in memory
   * the DMA path may access (RAM; the shared pool in bounce mode) and none may overlap another.
   * Checked at every notification: in bounce mode the guest may unshare pages at any time.
   */
  ringsError(): string | null {
    const rings = this.rings();
    for (const [name, start, length, op] of rings) {
      try {
        this.dma.check(start, length, op);
      } catch (error) {
        if (error instanceof GuestMemoryError) return `${name} at 0x${start.toString(16)} (${length} bytes): ${error.message}`;
        throw error;
      }
    }
    for (let i = 0; i < rings.length; i++) {
      for (let j = i + 1; j < rings.length; j++) {
        const [a, aStart, aLength] = rings[i]!;
        const [b, bStart, bLength] = rings[j]!;
        if (aStart < bStart + bLength && bStart < aStart + aLength) return `${a} and ${b} overlap`;
      }
    }
    return null;
  }

  /** A device-writable buffer that overlaps a ring, by name, or null. */
  private ringUnder(addr: number, len: number): string | null {
    for (const [name, start, length] of this.rings()) if (addr < start + length && start < addr + len) return name;
    return null;
  }

  private addr([lo, hi]: readonly [number, number]): number {
    return hi * 2 ** 32 + lo;
  }

  private read(gpa: number, length: number): DataView {
    this.guard(() => this.dma.read(gpa, this.scratch.subarray(0, length)));
    return this.view;
  }

  private guard(access: () => void): void {
    try {
      access();
    } catch (error) {
      if (error instanceof GuestMemoryError) throw new VirtqueueError(`ring access refused: ${error.message}`);
      throw error;
    }
  }

  /** The next available chain, validated, or null when the driver has made nothing new available. */
  pop(): Chain | null {
    if (!this.ready) return null;
    const driver = this.addr(this.driver);
    const availIdx = this.read(driver + 2, 2).getUint16(0, true);
    const pending = (availIdx - this.lastAvail) & 0xffff;
    if (pending === 0) return null;
    if (pending > this.size) throw new VirtqueueError(`available index jumped from ${this.lastAvail} to ${availIdx} (queue size ${this.size})`);
    const head = this.read(driver + 4 + 2 * (this.lastAvail % this.size), 2).getUint16(0, true);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return this.walk(head);
  }

  private walk(head: number): Chain {
    const table = this.addr(this.desc);
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let readableBytes = 0;
    let writableBytes = 0;
    let index = head;
    for (let count = 1; ; count++) {
      if (index >= this.size) throw new VirtqueueError(`descriptor index ${index} outside a table of ${this.size}`);
      if (count > this.size) throw new VirtqueueError(`descriptor chain from ${head} is longer than the queue (a loop)`);
      const d = this.read(table + 16 * index, 16);
      const lo = d.getUint32(0, true);
      const hi = d.getUint32(4, true);
      const len = d.getUint32(8, true);
      const flags = d.getUint16(12, true);
      const next = d.getUint16(14, true);
      // Tagvisor devices do not offer VIRTIO_F_INDIRECT_DESC, so the flag is never allowed.
      if ((flags & DESC_F_INDIRECT) !== 0) throw new VirtqueueError(`descriptor ${index} is indirect but VIRTIO_F_INDIRECT_DESC was not negotiated`);
      if (hi >= GPA_HIGH_LIMIT) throw new VirtqueueError(`descriptor ${index} points outside guest memory`);
      const addr = hi * 2 ** 32 + lo;
      const write = (flags & DESC_F_WRITE) !== 0;
      if (!write && writable.length > 0) throw new VirtqueueError(`device-readable descriptor ${index} follows a device-writable one`);
      if (readableBytes + writableBytes + len > MAX_CHAIN_BYTES) throw new VirtqueueError(`descriptor chain from ${head} exceeds 2^32 bytes`);
      if (len === 0) throw new VirtqueueError(`descriptor ${index} has a zero-length buffer`);
      this.guard(() => this.dma.check(addr, len, write ? 'write' : 'read'));
      const ring = write ? this.ringUnder(addr, len) : null;
      if (ring) throw new VirtqueueError(`device-writable descriptor ${index} overlaps the ${ring}`);
      if (write) {
        writable.push({ addr, len });
        writableBytes += len;
      } else {
        readable.push({ addr, len });
        readableBytes += len;
      }
      if ((flags & DESC_F_NEXT) === 0) break;
      index = next;
    }
    return { head, readable, writable, readableBytes, writableBytes };
  }

  /** §2.7.8: publishes a used element (head, bytes written), then the new used index. */
  pushUsed(head: number, written: number): void {
    const device = this.addr(this.device);
    const elem = device + 4 + 8 * (this.usedIdx % this.size);
    this.view.setUint32(0, head, true);
    this.view.setUint32(4, written, true);
    this.guard(() => this.dma.write(elem, this.scratch.subarray(0, 8)));
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.view.setUint16(0, this.usedIdx, true);
    this.guard(() => this.dma.write(device + 2, this.scratch.subarray(0, 2)));
  }

  /** §2.7.7: without VIRTIO_F_EVENT_IDX the driver may ask for no used-buffer notifications. */
  interruptSuppressed(): boolean {
    return (this.read(this.addr(this.driver), 2).getUint16(0, true) & AVAIL_F_NO_INTERRUPT) !== 0;
  }

  save(): QueueState {
    return { size: this.size, ready: this.ready, desc: [...this.desc], driver: [...this.driver], device: [...this.device], lastAvail: this.lastAvail, usedIdx: this.usedIdx };
  }

  load(state: QueueState): void {
    this.size = state.size;
    this.ready = state.ready;
    this.desc = [state.desc[0], state.desc[1]];
    this.driver = [state.driver[0], state.driver[1]];
    this.device = [state.device[0], state.device[1]];
    this.lastAvail = state.lastAvail;
    this.usedIdx = state.usedIdx;
  }
}

/** Copies `length` bytes of a chain's readable segments, from byte `offset` of them, into dst. */
export function readChain(dma: DmaPath, segments: readonly Segment[], offset: number, dst: Uint8Array): void {
  let skip = offset;
  let done = 0;
  for (const s of segments) {
    if (done >= dst.length) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const take = Math.min(s.len - skip, dst.length - done);
    dma.read(s.addr + skip, dst.subarray(done, done + take));
    done += take;
    skip = 0;
  }
}

/** Copies src into a chain's writable segments starting at byte `offset` of them. */
export function writeChain(dma: DmaPath, segments: readonly Segment[], offset: number, src: Uint8Array): void {
  let skip = offset;
  let done = 0;
  for (const s of segments) {
    if (done >= src.length) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const take = Math.min(s.len - skip, src.length - done);
    dma.write(s.addr + skip, src.subarray(done, done + take));
    done += take;
    skip = 0;
  }
}
