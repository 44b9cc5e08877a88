/**
 * How devices reach guest memory: the one device model runs over either DMA path.
 *
 * - `direct` (default): devices read and write the guest's buffers in place through the `dma`
 *   access class (no tag checks, tags untouched, data pages marked dirty; zero-copy windows for
 *   file I/O).
 * - `bounce`: devices may only touch pages the guest has shared with the host (swiotlb-style): the
 *   bounce pool IS the set of shared pages of a PageOwnership, which the guest declares with the
 *   MEM_SHARE hypercall (docs/devices.md, src/vmm/hyp-mem.ts); the guest's driver copies between
 *   its own (private, tagged) buffers and the pool. Any access that touches a page outside the
 *   pool is refused before a byte moves. This is the path protected VMs use; there the VM's access
 *   policy (ownershipPolicy) additionally refuses every other DMA.
 */
import { GuestMemoryError, hex, PageOwnership, type GuestMemory } from '../memory/index.js';

export type DmaMode = 'direct' | 'bounce';

export interface DmaPath {
  readonly mode: DmaMode;
  /** Throws GuestMemoryError unless a device may `op` every byte of [gpa, gpa + length). */
  check(gpa: number, length: number, op: 'read' | 'write'): void;
  /** Copies exactly dst.length bytes from guest memory (or nothing). */
  read(gpa: number, dst: Uint8Array): void;
  /** Copies all of src into guest memory (or nothing). */
  write(gpa: number, src: Uint8Array): void;
  /** Zero-copy: windows over guest memory, valid only during the callback. */
  readWith(gpa: number, length: number, consume: (window: Uint8Array, done: number) => void): void;
  writeWith(gpa: number, length: number, produce: (window: Uint8Array, done: number) => void): void;
}

/** Devices use the guest's buffers in place. */
export class DirectDma implements DmaPath {
  readonly mode = 'direct';

  constructor(private readonly memory: GuestMemory) {}

  check(gpa: number, length: number, op: 'read' | 'write'): void {
    this.memory.authorizedChunks('dma', op, gpa, length, false);
  }

  read(gpa: number, dst: Uint8Array): void {
    this.memory.dma.read(gpa, dst);
  }

  write(gpa: number, src: Uint8Array): void {
    this.memory.dma.write(gpa, src);
  }

  readWith(gpa: number, length: number, consume: (window: Uint8Array, done: number) => void): void {
    this.memory.dma.readWith(gpa, length, consume);
  }

  writeWith(gpa: number, length: number, produce: (window: Uint8Array, done: number) => void): void {
    this.memory.dma.writeWith(gpa, length, produce);
  }
}

/** Devices may only use the bounce pool: the pages the guest shared. */
export class BounceDma implements DmaPath {
  readonly mode = 'bounce';
  private readonly direct: DirectDma;

  constructor(
    memory: GuestMemory,
    readonly pool: PageOwnership,
  ) {
    this.direct = new DirectDma(memory);
  }

  check(gpa: number, length: number, op: 'read' | 'write'): void {
    this.direct.check(gpa, length, op);
    const page = this.pool.firstPrivate(gpa, length);
    if (page >= 0) {
      throw new GuestMemoryError('denied', `bounce DMA ${op} at ${hex(gpa)}+${hex(length)} refused: page ${hex(page)} is not in the shared bounce pool`, gpa, length);
    }
  }

  read(gpa: number, dst: Uint8Array): void {
    this.check(gpa, dst.length, 'read');
    this.direct.read(gpa, dst);
  }

  write(gpa: number, src: Uint8Array): void {
    this.check(gpa, src.length, 'write');
    this.direct.write(gpa, src);
  }

  readWith(gpa: number, length: number, consume: (window: Uint8Array, done: number) => void): void {
    this.check(gpa, length, 'read');
    this.direct.readWith(gpa, length, consume);
  }

  writeWith(gpa: number, length: number, produce: (window: Uint8Array, done: number) => void): void {
    this.check(gpa, length, 'write');
    this.direct.writeWith(gpa, length, produce);
  }
}

/** The DMA path of a machine; `pool` is the guest's shared pages (used by `bounce`). */
export function createDmaPath(mode: DmaMode, memory: GuestMemory, pool: PageOwnership): DmaPath {
  return mode === 'bounce' ? new BounceDma(memory, pool) : new DirectDma(memory);
}
