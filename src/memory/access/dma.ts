import { RamRegion } from '../ram-region.js';
import type { AccessGate } from './gate.js';
import { ACTIVITY_DMA } from '../activity.js';

/**
 * Device DMA: moves data, never tag-checked, never changes tags, marks data pages dirty.
 * This is the path real VMMs take with TCO set or through an untagged mapping of guest RAM.
 *
 * The window callbacks give zero-copy access (a file read straight into guest RAM) without
 * handing out a view that outlives the request: a window is valid only during its callback.
 */
export class DmaAccess {
  constructor(private readonly gate: AccessGate) {}

  /** Copies guest memory at `gpa` into `dst` (exactly dst.length bytes, or nothing). */
  read(gpa: number, dst: Uint8Array): void {
    const span = this.gate.open('dma', 'read', gpa, dst.length, false);
    if (span instanceof RamRegion) {
      const offset = gpa - span.base;
      dst.set(span.bytes.subarray(offset, offset + dst.length));
      span.activity.noteRead(ACTIVITY_DMA, offset, dst.length);
      return;
    }
    for (const chunk of span) {
      dst.set(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.activity.noteRead(ACTIVITY_DMA, chunk.offset, chunk.length);
    }
  }

  /** Copies `src` into guest memory at `gpa` (all of it, or nothing). */
  write(gpa: number, src: Uint8Array): void {
    const span = this.gate.open('dma', 'write', gpa, src.length, false);
    if (span instanceof RamRegion) {
      span.bytes.set(src, gpa - span.base);
      span.noteDataWrite(gpa - span.base, src.length, ACTIVITY_DMA);
      return;
    }
    for (const chunk of span) {
      chunk.region.bytes.set(src.subarray(chunk.done, chunk.done + chunk.length), chunk.offset);
      chunk.region.noteDataWrite(chunk.offset, chunk.length, ACTIVITY_DMA);
    }
  }

  /** Calls `consume` with windows over [gpa, gpa + length), split only at region boundaries. */
  readWith(gpa: number, length: number, consume: (window: Uint8Array, done: number) => void): void {
    for (const chunk of this.gate.chunks('dma', 'read', gpa, length, false)) {
      consume(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.activity.noteRead(ACTIVITY_DMA, chunk.offset, chunk.length);
    }
  }

  /** Calls `produce` to fill windows over [gpa, gpa + length); the pages become dirty. */
  writeWith(gpa: number, length: number, produce: (window: Uint8Array, done: number) => void): void {
    for (const chunk of this.gate.chunks('dma', 'write', gpa, length, false)) {
      produce(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.noteDataWrite(chunk.offset, chunk.length, ACTIVITY_DMA);
    }
  }
}
