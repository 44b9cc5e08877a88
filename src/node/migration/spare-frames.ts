import { MAX_RAM_FRAME_BYTES } from '../../vmm/migration/index.js';

/**
 * RAM section frame buffers a destination reuses: the socket reader gathers each deferred RAM
 * section into one (SectionReader's `allocate`), a decoder thread applies it and hands the buffer
 * back (page-workers.ts). Fresh 16 MiB buffers cost a page fault per 4 KiB and garbage-collector
 * work; a few spares kept here avoid both. Process-wide, bounded.
 */
class SpareFrames {
  private readonly spares: ArrayBuffer[] = [];
  /** Buffers this pool handed out: only those may be transferred to another thread. */
  private readonly issued = new WeakSet<ArrayBuffer>();
  /** Frames gathered into a spare buffer rather than a fresh one. */
  reused = 0;

  constructor(private readonly limit: number) {}

  /** A buffer of at least `n` bytes (a spare, or a whole frame buffer unless `n` is small). */
  take(n: number): Uint8Array {
    const spare = n <= MAX_RAM_FRAME_BYTES ? this.spares.pop() : undefined;
    if (spare) this.reused++;
    // A small section (mostly zero pages) gets a buffer of its own size: not worth keeping.
    const buffer = spare ?? new ArrayBuffer(n < MAX_RAM_FRAME_BYTES / 4 ? n : Math.max(n, MAX_RAM_FRAME_BYTES));
    this.issued.add(buffer);
    return new Uint8Array(buffer);
  }

  /** Whether `buffer` came from `take`: owned by its section alone. */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.issued.has(buffer);
  }

  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === MAX_RAM_FRAME_BYTES && this.spares.length < this.limit) this.spares.push(buffer);
  }

  /** Lets the spares go (the migration ended: 16 MiB each would stay in the process's memory). */
  clear(): void {
    this.spares.length = 0;
  }

  /** Bytes held in spares now. */
  get heldBytes(): number {
    return this.spares.length * MAX_RAM_FRAME_BYTES;
  }
}

export const spareFrames = new SpareFrames(6);
