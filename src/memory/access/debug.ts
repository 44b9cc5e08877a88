import { GRANULE_SIZE } from '../constants.js';
import { GuestMemoryError } from '../errors.js';
import type { AccessGate } from './gate.js';
import type { RamChunk } from '../address-space.js';
import { hex } from '../address.js';
import { ACTIVITY_DEBUG } from '../activity.js';

/**
 * Debugger access (gdb stub, monitor): data and allocation tags, read and write, never
 * tag-checked. Tag ranges are widened to whole granules: a tag request for [gpa, gpa + length)
 * covers every granule that range touches, one tag per byte.
 */
export class DebugAccess {
  constructor(private readonly gate: AccessGate) {}

  /** Copies guest memory at `gpa` into `dst` (exactly dst.length bytes, or nothing); counted as debug reads. */
  readData(gpa: number, dst: Uint8Array): void {
    for (const chunk of this.gate.chunks('debug', 'read', gpa, dst.length, false)) {
      dst.set(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
      chunk.region.activity.noteRead(ACTIVITY_DEBUG, chunk.offset, chunk.length);
    }
  }

  /** Copies `src` into guest memory at `gpa` (all of it, or nothing); tags are left as they are. */
  writeData(gpa: number, src: Uint8Array): void {
    for (const chunk of this.gate.chunks('debug', 'write', gpa, src.length, false)) {
      chunk.region.bytes.set(src.subarray(chunk.done, chunk.done + chunk.length), chunk.offset);
      chunk.region.noteDataWrite(chunk.offset, chunk.length, ACTIVITY_DEBUG);
    }
  }

  /** Whether the RAM at `gpa` holds allocation tags (MTE on for this VM). */
  hasTags(gpa: number): boolean {
    return this.gate.space.findRam(gpa)?.tags != null;
  }

  /**
   * The allocation tags of every granule that [gpa, gpa + length) touches, one per byte. Counted as
   * debug reads unless `counted` is false: the live viewer's own tag map reads are its upkeep, not
   * activity it should show.
   */
  readTags(gpa: number, length: number, { counted = true }: { counted?: boolean } = {}): Uint8Array {
    const { start, granules } = granuleSpan(gpa, length);
    const out = new Uint8Array(granules);
    for (const chunk of this.tagChunks('read', start, granules)) {
      chunk.region.tags!.readUnpacked(chunk.offset, chunk.length / GRANULE_SIZE, out, chunk.done / GRANULE_SIZE);
      if (counted) chunk.region.activity.noteRead(ACTIVITY_DEBUG, chunk.offset, chunk.length);
    }
    return out;
  }

  /**
   * Sets the tags of every granule that [gpa, gpa + length) touches from `pattern`, repeated when
   * shorter than the range (gdb's QMemTags rule). A value above 15 is refused, not truncated.
   */
  writeTags(gpa: number, length: number, pattern: Uint8Array): void {
    const { start, granules } = granuleSpan(gpa, length);
    if (granules === 0) return;
    if (pattern.length === 0) throw new GuestMemoryError('invalid-range', 'empty tag pattern', gpa, length);
    const bad = pattern.findIndex((tag) => tag > 15);
    if (bad >= 0) throw new GuestMemoryError('invalid-range', `tag value ${pattern[bad]} is not a 4-bit tag`, gpa, length);
    for (const chunk of this.tagChunks('write', start, granules)) {
      const tags = chunk.region.tags!;
      for (let i = 0; i < chunk.length / GRANULE_SIZE; i++) {
        tags.setTag(chunk.offset + i * GRANULE_SIZE, pattern[(chunk.done / GRANULE_SIZE + i) % pattern.length]!);
      }
      chunk.region.noteTagWrite(chunk.offset, chunk.length, ACTIVITY_DEBUG);
    }
  }

  private tagChunks(op: 'read' | 'write', start: number, granules: number): RamChunk[] {
    const chunks = this.gate.chunks('debug', op, start, granules * GRANULE_SIZE, true);
    const untagged = chunks.find((chunk) => !chunk.region.tags);
    if (untagged) {
      const addr = untagged.region.base + untagged.offset;
      throw new GuestMemoryError('no-tags', `memory at ${hex(addr)} holds no allocation tags (MTE is off)`, addr, untagged.length);
    }
    return chunks;
  }
}

/** The granule-aligned span covering [gpa, gpa + length). */
export function granuleSpan(gpa: number, length: number): { start: number; granules: number } {
  if (length <= 0) return { start: gpa, granules: 0 };
  const start = gpa - (gpa % GRANULE_SIZE);
  const end = Math.ceil((gpa + length) / GRANULE_SIZE) * GRANULE_SIZE;
  return { start, granules: (end - start) / GRANULE_SIZE };
}
