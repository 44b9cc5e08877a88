/**
 * Storage behind a virtio-blk device. Browser-safe: the file-backed backend lives in src/node
 * (file-disk.ts); MemoryDisk serves tests and in-browser use. Offsets and lengths are in bytes
 * and always within `size`; the device checks requests against the capacity first.
 */
export interface BlockBackend {
  /** Bytes of storage (the device exposes floor(size / 512) sectors). */
  readonly size: number;
  /** Writes are refused (VIRTIO_BLK_F_RO is offered). */
  readonly readOnly: boolean;
  /** Device ID string (VIRTIO_BLK_T_GET_ID), at most 20 bytes of ASCII. */
  readonly id: string;
  /** Fills `dst` from byte `offset`. */
  read(offset: number, dst: Uint8Array): void;
  /** Stores `src` at byte `offset`. */
  write(offset: number, src: Uint8Array): void;
  /** Makes completed writes durable. */
  flush(): void;
}

/** A disk image held in memory. */
export class MemoryDisk implements BlockBackend {
  constructor(
    readonly bytes: Uint8Array,
    readonly readOnly = false,
    readonly id = 'tagvisor-mem',
  ) {}

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, dst: Uint8Array): void {
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only disk');
    this.bytes.set(src, offset);
  }

  flush(): void {}
}
