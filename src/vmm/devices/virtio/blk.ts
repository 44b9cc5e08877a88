/**
 * virtio-blk (virtio 1.2 §5.2 "Block Device"), one request queue, requests served synchronously
 * at the notification. Request layout (§5.2.6): a 16-byte device-readable header {le32 type,
 * le32 reserved, le64 sector}, the data (device-readable for writes, device-writable for reads),
 * and a one-byte device-writable status as the chain's last byte.
 *
 * Data moves through the DMA path with zero-copy windows: the backend reads from its file
 * straight into guest RAM (writeWith) and writes from it (readWith). No tag is checked or changed;
 * the pages written become dirty. Status (§5.2.6.1): VIRTIO_BLK_S_IOERR for requests beyond the
 * capacity, data not a multiple of 512 bytes, host I/O errors, and writes to a read-only disk
 * ("A device MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request if the
 * VIRTIO_BLK_F_RO feature if offered, and MUST NOT write any data"); VIRTIO_BLK_S_UNSUPP for
 * request types it does not implement. A chain too short for a header and a status is a driver
 * error (§5.2.6.2): the device needs reset.
 */
import { expectState, StateError, type Shape } from '../../../common/persist.js';
import type { DmaPath } from '../../dma-path.js';
import type { BlockBackend } from './block-backend.js';
import { DEVICE_ID, bit } from './constants.js';
import type { VirtioDevice } from './device.js';
import { QUEUE_MAX, readChain, VirtqueueError, writeChain, type Chain, type Segment, type SplitQueue } from './queue.js';

export const SECTOR = 512;
/** §5.2.3 feature bits. */
export const BLK_F_SEG_MAX = 2n;
export const BLK_F_RO = 5n;
export const BLK_F_BLK_SIZE = 6n;
export const BLK_F_FLUSH = 9n;
/** §5.2.6 request types and status values. */
export const BLK_T_IN = 0;
export const BLK_T_OUT = 1;
export const BLK_T_FLUSH = 4;
export const BLK_T_GET_ID = 8;
export const BLK_S_OK = 0;
export const BLK_S_IOERR = 1;
export const BLK_S_UNSUPP = 2;
const ID_BYTES = 20;

export interface BlkState {
  /** The disk the state was saved with: a restore onto another disk is refused. */
  readonly capacity: number;
  readonly readOnly: boolean;
}

export class VirtioBlk implements VirtioDevice<BlkState> {
  readonly deviceId = DEVICE_ID.BLOCK;
  readonly kind = 'virtio-blk';
  readonly queueSizes = [QUEUE_MAX];
  readonly features: bigint;
  /** Sectors of 512 bytes; a partial last sector of the backing store is not exposed. */
  readonly capacity: number;
  private readonly config = new Uint8Array(0x3c);
  private readonly header = new Uint8Array(16);
  private readonly status = new Uint8Array(1);

  constructor(readonly backend: BlockBackend) {
    this.capacity = Math.floor(backend.size / SECTOR);
    this.features = bit(BLK_F_SEG_MAX) | bit(BLK_F_BLK_SIZE) | bit(BLK_F_FLUSH) | (backend.readOnly ? bit(BLK_F_RO) : 0n);
    // §5.2.4 struct virtio_blk_config: capacity, size_max, seg_max, geometry, blk_size, ...
    const view = new DataView(this.config.buffer);
    view.setUint32(0x00, this.capacity % 2 ** 32, true);
    view.setUint32(0x04, Math.floor(this.capacity / 2 ** 32), true);
    view.setUint32(0x0c, QUEUE_MAX - 2, true); // seg_max: header and status take two descriptors
    view.setUint32(0x14, SECTOR, true); // blk_size
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    if (offset < 0 || offset + size > this.config.length) return 0;
    const view = new DataView(this.config.buffer);
    return size === 1 ? view.getUint8(offset) : size === 2 ? view.getUint16(offset, true) : view.getUint32(offset, true);
  }

  writeConfig(): void {
    // Every field we expose is read-only for the driver (no VIRTIO_BLK_F_CONFIG_WCE).
  }

  reset(): void {}

  process(_index: number, queue: SplitQueue, dma: DmaPath): void {
    for (let chain = queue.pop(); chain !== null; chain = queue.pop()) {
      queue.pushUsed(chain.head, this.handle(chain, dma));
    }
  }

  /** Performs one request; returns the bytes written to the device-writable part (§2.7.8). */
  private handle(chain: Chain, dma: DmaPath): number {
    if (chain.readableBytes < 16 || chain.writableBytes < 1) {
      throw new VirtqueueError(`block request ${chain.head} has no room for its header and status`);
    }
    readChain(dma, chain.readable, 0, this.header);
    const view = new DataView(this.header.buffer);
    const type = view.getUint32(0, true);
    const sectorHi = view.getUint32(12, true);
    const sector = sectorHi < 2 ** 21 ? sectorHi * 2 ** 32 + view.getUint32(8, true) : Infinity;
    let status = BLK_S_OK;
    let written = 0;
    try {
      switch (type) {
        case BLK_T_IN: {
          const length = chain.writableBytes - 1;
          if (!this.inRange(sector, length)) status = BLK_S_IOERR;
          else {
            this.transfer(dma, chain.writable, 0, length, sector * SECTOR, 'in');
            written = length;
          }
          break;
        }
        case BLK_T_OUT: {
          const length = chain.readableBytes - 16;
          if (this.backend.readOnly || !this.inRange(sector, length)) status = BLK_S_IOERR;
          else this.transfer(dma, chain.readable, 16, length, sector * SECTOR, 'out');
          break;
        }
        case BLK_T_FLUSH:
          this.backend.flush();
          break;
        case BLK_T_GET_ID: {
          // §5.2.6: up to 20 bytes; NUL-terminated only when shorter (QEMU's convention too).
          const id = new Uint8Array(ID_BYTES);
          for (let i = 0; i < Math.min(this.backend.id.length, ID_BYTES); i++) id[i] = this.backend.id.charCodeAt(i) & 0x7f;
          written = Math.min(this.backend.id.length + 1, ID_BYTES, chain.writableBytes - 1);
          writeChain(dma, chain.writable, 0, id.subarray(0, written));
          break;
        }
        default:
          status = BLK_S_UNSUPP;
      }
    } catch (error) {
      if (error instanceof VirtqueueError) throw error;
      // A host I/O error (or a buffer the DMA path refused after validation): the request fails.
      status = BLK_S_IOERR;
      written = 0;
    }
    this.status[0] = status;
    writeChain(dma, chain.writable, chain.writableBytes - 1, this.status);
    return written + 1;
  }

  private inRange(sector: number, length: number): boolean {
    return length % SECTOR === 0 && sector <= this.capacity && sector + length / SECTOR <= this.capacity;
  }

  /** Moves `length` bytes between the disk at `position` and segments (skipping `skip` bytes). */
  private transfer(dma: DmaPath, segments: readonly Segment[], skip: number, length: number, position: number, direction: 'in' | 'out'): void {
    let left = length;
    let pos = position;
    for (const s of segments) {
      if (left === 0) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const take = Math.min(s.len - skip, left);
      if (direction === 'in') dma.writeWith(s.addr + skip, take, (window, done) => this.backend.read(pos + done, window));
      else dma.readWith(s.addr + skip, take, (window, done) => this.backend.write(pos + done, window));
      pos += take;
      left -= take;
      skip = 0;
    }
  }

  readonly deviceShape: Shape = { fields: { capacity: 'integer', readOnly: 'boolean' } };

  saveDevice(): BlkState {
    return { capacity: this.capacity, readOnly: this.backend.readOnly };
  }

  checkDevice(untrusted: unknown, path: string): BlkState {
    const o = expectState.object(untrusted, path);
    const capacity = expectState.integer(o.capacity, `${path}.capacity`, 0, Number.MAX_SAFE_INTEGER);
    const readOnly = expectState.boolean(o.readOnly, `${path}.readOnly`);
    if (capacity !== this.capacity || readOnly !== this.backend.readOnly) {
      throw new StateError(path, `state is for a ${capacity}-sector ${readOnly ? 'read-only ' : ''}disk; this one has ${this.capacity} sectors${this.backend.readOnly ? ', read-only' : ''}`);
    }
    return { capacity, readOnly };
  }

  loadDevice(): void {}
}
