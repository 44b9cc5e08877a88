import type { GuestMemory } from '../guest-memory.js';
import { ACTIVITY_DMA } from '../activity.js';

/**
 * Device DMA: moves data, never tag-checked, never changes tags, marks data pages dirty.
 * This is the path real VMMs take with TCO set or through an untagged mapping of guest RAM.
 *
 * The window callbacks give zero-copy access (a file read straight into guest RAM) without
 * handing out a view that outlives the request: a window is valid only during its callback.
 */
export class DmaAccess {
  constructor(private readonly memory: GuestMemory) {}

  /** Copies guest memory at `gpa` into `dst` (exactly dst.length bytes, or nothing). */
  read(gpa: number, dst: Uint8Array): void {
    const region = this.memory.authorizedRegion('dma', 'read', gpa, dst.length, false);
    if (region) {
      const offset = gpa - region.base;
      dst.set(region.bytes.subarray(offset, offset + dst.length));
      region.activity.noteRead(ACTIVITY_DMA, offset, dst.length);
      return;
    }
    this.readWith(gpa, dst.length, (window, done) => dst.set(window, done));
  }

  /** Copies `src` into guest memory at `gpa` (all of it, or nothing). */
  write(gpa: number, src: Uint8Array): void {
    const region = this.memory.authorizedRegion('dma', 'write', gpa, src.length, false);
    if (region) {
      region.bytes.set(src, gpa - region.base);
      region.noteDataWrite(gpa - region.base, src.length, ACTIVITY_DMA);
      return;
    }
    this.writeWith(gpa, src.length, (window, done) => window.set(src.subarray(done, done + window.length)));
  }

  /** Calls `consume` with windows over [gpa, gpa + length), split only at region boundaries. */
  readWith(gpa: number, length: number, consume: (window: Uint8Array, done: number) => void): void {
    for (const chunk of this.memory.authorizedChunks('dma', 'read', gpa, length, false)) {
      consume(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.activity.noteRead(ACTIVITY_DMA, chunk.offset, chunk.length);
    }
  }

  /** Calls `produce` to fill windows over [gpa, gpa + length); the pages become dirty. */
  writeWith(gpa: number, length: number, produce: (window: Uint8Array, done: number) => void): void {
    for (const chunk of this.memory.authorizedChunks('dma', 'write', gpa, length, false)) {
      produce(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.noteDataWrite(chunk.offset, chunk.length, ACTIVITY_DMA);
    }
  }
}
