import { isZeroPageAt, PAGE_SIZE } from '../../memory/index.js';
import type { RegionMemory } from './chunk-codec.js';
import { ramEntries } from './payloads.js';
import { sectionChecksum, SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES, type SectionType } from './sections.js';
import { StreamFormatError } from './value-codec.js';

/**
 * The destination's side of a RAM section, for decoder threads (decoder-pool.ts): verify the
 * section's checksum, check every page address, then write the pages straight into guest
 * memory. Nothing is written unless the whole section is valid. Returns the pages applied, per region.
 * Same rules as decodeRam + PageApplier (docs/migration-protocol.md §3.1).
 */
export function applyRamFrame(regions: readonly RegionMemory[], frame: Uint8Array): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = view.getUint32(4, true);
  if (frame.length !== SECTION_HEADER_BYTES + length + SECTION_TRAILER_BYTES) throw new StreamFormatError('RAM section frame has the wrong length');
  if (view.getUint32(SECTION_HEADER_BYTES + length, true) !== sectionChecksum(frame[0]!, frame.subarray(0, SECTION_HEADER_BYTES + length))) {
    throw new StreamFormatError('RAM section: checksum mismatch (corrupted stream)');
  }
  const payload = frame.subarray(SECTION_HEADER_BYTES, SECTION_HEADER_BYTES + length);
  // First pass: every entry well-formed and inside RAM, before any page is written.
  const targets = ramEntries(payload, view.getUint8(0) as SectionType).map(({ gpa, data }) => {
    const region = regions.find((r) => gpa >= r.base && gpa + PAGE_SIZE <= r.base + r.data.length);
    if (!region) throw new StreamFormatError(`page 0x${gpa.toString(16)} is outside guest RAM`);
    return { region, offset: gpa - region.base, data };
  });
  const perRegion = regions.map(() => 0);
  for (const { region, offset, data } of targets) {
    perRegion[regions.indexOf(region)]!++;
    if (data >= 0) region.data.set(payload.subarray(data, data + PAGE_SIZE), offset);
    else if (!isZeroPageAt(region.data, offset)) region.data.fill(0, offset, offset + PAGE_SIZE); // a fresh page stays untouched
  }
  return perRegion;
}
