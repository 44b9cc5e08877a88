import type { PhysicalAddressSpace } from './address-space.js';
import { GuestMemoryError } from './errors.js';

/**
 * The guest's tag check in its simplest form: the first address in [gpa, gpa + size) whose
 * granule's allocation tag differs from `logicalTag`, or -1 when all granules match. Memory
 * without tag storage is untagged and always matches. Nothing is accessed either way, so a caller
 * that gets a mismatch performs no part of the access. Throws if the range is not all RAM.
 *
 * The vCPU's hot path inlines the same rule on its TLB entries; this is the reference form.
 */
export function firstTagMismatch(space: PhysicalAddressSpace, gpa: number, size: number, logicalTag: number): number {
  for (const chunk of space.ramChunks(gpa, size)) {
    const tags = chunk.region.tags;
    if (!tags) continue;
    const mismatch = tags.firstMismatch(chunk.offset, chunk.length, logicalTag);
    if (mismatch >= 0) return chunk.region.base + mismatch;
  }
  return -1;
}

/** Reads `dst.length` bytes at `gpa` if every granule matches `logicalTag`; else returns the fault address. */
export function tagCheckedRead(space: PhysicalAddressSpace, gpa: number, dst: Uint8Array, logicalTag: number): number {
  const mismatch = firstTagMismatch(space, gpa, dst.length, logicalTag);
  if (mismatch >= 0) return mismatch;
  for (const chunk of space.ramChunks(gpa, dst.length)) {
    dst.set(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
  }
  return -1;
}

/** Writes `src` at `gpa` if every granule matches `logicalTag`; else returns the fault address. */
export function tagCheckedWrite(space: PhysicalAddressSpace, gpa: number, src: Uint8Array, logicalTag: number): number {
  const mismatch = firstTagMismatch(space, gpa, src.length, logicalTag);
  if (mismatch >= 0) return mismatch;
  const chunks = space.ramChunks(gpa, src.length);
  const rom = chunks.find((chunk) => chunk.region.readOnly);
  if (rom) throw new GuestMemoryError('read-only', `write to read-only region ${rom.region.name}`, gpa, src.length);
  for (const chunk of chunks) {
    chunk.region.bytes.set(src.subarray(chunk.done, chunk.done + chunk.length), chunk.offset);
    chunk.region.noteDataWrite(chunk.offset, chunk.length);
  }
  return -1;
}
