import { xxhash32 } from '../../common/xxhash32.js';
import { PAGE_SIZE } from '../../memory/index.js';
import { isZeroPageAt, type RegionMemory } from './chunk-codec.js';
import { MAX_RAM_PAGES_PER_SECTION, RAM_RAW, RAM_ZERO } from './payloads.js';
import { SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES } from './sections.js';
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
  if (view.getUint32(SECTION_HEADER_BYTES + length, true) !== xxhash32(frame.subarray(0, SECTION_HEADER_BYTES + length))) {
    throw new StreamFormatError('RAM section: checksum mismatch (corrupted stream)');
  }
  const end = SECTION_HEADER_BYTES + length;
  if (length < 4) throw new StreamFormatError('RAM section: page count: truncated');
  const count = view.getUint32(SECTION_HEADER_BYTES, true);
  if (count > MAX_RAM_PAGES_PER_SECTION) throw new StreamFormatError(`RAM section with ${count} pages exceeds ${MAX_RAM_PAGES_PER_SECTION}`);
  // First pass: every entry well-formed and inside RAM, before any page is written.
  const targets: { region: RegionMemory; offset: number; data: number }[] = [];
  let at = SECTION_HEADER_BYTES + 4;
  for (let i = 0; i < count; i++) {
    if (at + 9 > end) throw new StreamFormatError('RAM pages: truncated');
    const gpa = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    const encoding = view.getUint8(at + 8);
    at += 9;
    if (gpa % PAGE_SIZE !== 0) throw new StreamFormatError(`page address 0x${gpa.toString(16)} is not page-aligned`);
    const region = regions.find((r) => gpa >= r.base && gpa + PAGE_SIZE <= r.base + r.data.length);
    if (!region) throw new StreamFormatError(`page 0x${gpa.toString(16)} is outside guest RAM`);
    if (encoding === RAM_RAW) {
      if (at + PAGE_SIZE > end) throw new StreamFormatError('page data: truncated');
      targets.push({ region, offset: gpa - region.base, data: at });
      at += PAGE_SIZE;
    } else if (encoding === RAM_ZERO) targets.push({ region, offset: gpa - region.base, data: -1 });
    else throw new StreamFormatError(`unknown page encoding ${encoding}`);
  }
  if (at !== end) throw new StreamFormatError(`RAM pages: ${end - at} bytes left over`);
  const perRegion = regions.map(() => 0);
  for (const { region, offset, data } of targets) {
    perRegion[regions.indexOf(region)]!++;
    if (data >= 0) region.data.set(frame.subarray(data, data + PAGE_SIZE), offset);
    else if (!isZeroPageAt(region.data, offset)) region.data.fill(0, offset, offset + PAGE_SIZE); // a fresh page stays untouched
  }
  return perRegion;
}
