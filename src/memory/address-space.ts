import { hex, isValidGpa } from './address.js';
import { PAGE_SIZE } from './constants.js';
import { GuestMemoryError } from './errors.js';
import type { MmioHandler, MmioRange } from './mmio.js';
import { RamRegion, type RamRegionOptions } from './ram-region.js';

/** Device windows need only register alignment (virtio-mmio slots are 0x200 apart). */
const MMIO_ALIGN = 4;

/** A piece of a guest-physical range that falls inside one RAM region. */
export interface RamChunk {
  readonly region: RamRegion;
  /** Byte offset into the region. */
  readonly offset: number;
  readonly length: number;
  /** Offset of this chunk within the whole requested range. */
  readonly done: number;
}

/**
 * The guest physical address space: a small explicit table of RAM regions and MMIO windows.
 * Setup refuses misaligned or overlapping ranges. `ramChunks` is the one place where an access is
 * split at region boundaries; it validates the whole range before returning anything, so callers
 * either get every chunk or an error (exact accesses fail as a whole).
 */
export class PhysicalAddressSpace {
  private readonly ram: RamRegion[] = [];
  private readonly mmio: MmioRange[] = [];
  private lastHit: RamRegion | null = null;

  /** RAM regions, by ascending base. */
  get ramRegions(): readonly RamRegion[] {
    return this.ram;
  }

  /** Device windows, by ascending base. */
  get mmioRanges(): readonly MmioRange[] {
    return this.mmio;
  }

  /** Adds a RAM region of whole pages; refuses misaligned or overlapping ranges (GuestMemoryError). */
  addRam(base: number, size: number, options: RamRegionOptions = {}): RamRegion {
    this.checkNewRange(base, size, options.name ?? 'RAM', PAGE_SIZE);
    const region = new RamRegion(base, size, options);
    this.ram.push(region);
    this.ram.sort((a, b) => a.base - b.base);
    return region;
  }

  /** Removes a RAM region (a deleted memslot). */
  removeRam(region: RamRegion): void {
    const index = this.ram.indexOf(region);
    if (index < 0) throw new Error(`region ${region.name} is not part of this address space`);
    this.ram.splice(index, 1);
    if (this.lastHit === region) this.lastHit = null;
  }

  /** Adds a device window (4-byte aligned) served by `handler`; refuses overlaps. */
  addMmio(base: number, size: number, name: string, handler: MmioHandler): MmioRange {
    this.checkNewRange(base, size, name, MMIO_ALIGN);
    const range: MmioRange = { base, size, name, handler };
    this.mmio.push(range);
    this.mmio.sort((a, b) => a.base - b.base);
    return range;
  }

  /** The RAM region containing `gpa`, if any. */
  findRam(gpa: number): RamRegion | undefined {
    const last = this.lastHit;
    if (last && gpa >= last.base && gpa < last.end) return last;
    for (const region of this.ram) {
      if (gpa >= region.base && gpa < region.end) {
        this.lastHit = region;
        return region;
      }
    }
    return undefined;
  }

  /** The device window containing `gpa`, if any. */
  findMmio(gpa: number): MmioRange | undefined {
    for (const range of this.mmio) if (gpa >= range.base && gpa < range.base + range.size) return range;
    return undefined;
  }

  /**
   * Splits [gpa, gpa + length) at region boundaries. Throws (before returning any chunk) if any
   * byte is not RAM. A zero-length range yields no chunks and always succeeds.
   */
  ramChunks(gpa: number, length: number): RamChunk[] {
    const span = this.ramSpan(gpa, length);
    return span instanceof RamRegion ? [{ region: span, offset: gpa - span.base, length, done: 0 }] : span;
  }

  /**
   * Where [gpa, gpa + length) lies, in one pass: the region holding all of it (the common case,
   * returned without building a list), or its chunks when it spans regions (empty for length 0).
   * Validates like `ramChunks`: an error means no byte of the range is touched.
   */
  ramSpan(gpa: number, length: number): RamRegion | RamChunk[] {
    // Fast path: inside the last region hit (the bounds make gpa a valid address).
    const last = this.lastHit;
    if (last !== null && length > 0 && gpa >= last.base && gpa + length <= last.end && Number.isInteger(gpa) && Number.isInteger(length)) return last;
    checkRange(gpa, length);
    if (length === 0) return [];
    const first = this.findRam(gpa);
    if (!first) throw GuestMemoryError.unmapped(gpa, length);
    if (gpa + length <= first.end) return first;
    const chunks: RamChunk[] = [];
    let region = first;
    let done = 0;
    for (;;) {
      const addr = gpa + done;
      const take = Math.min(length - done, region.end - addr);
      chunks.push({ region, offset: addr - region.base, length: take, done });
      done += take;
      if (done === length) return chunks;
      const next = this.findRam(gpa + done);
      if (!next) throw GuestMemoryError.unmapped(gpa + done, length - done);
      region = next;
    }
  }

  private checkNewRange(base: number, size: number, name: string, align: number): void {
    if (!isValidGpa(base) || !Number.isInteger(size) || size <= 0 || !isValidGpa(base + size - 1)) {
      throw new GuestMemoryError('invalid-range', `${name}: ${hex(base)}+${hex(size)} is not a valid guest physical range`, base, size);
    }
    if (base % align !== 0 || size % align !== 0) {
      throw new GuestMemoryError('misaligned', `${name}: ${hex(base)}+${hex(size)} is not ${align}-byte aligned`, base, size);
    }
    const clash = [...this.ram, ...this.mmio].find((r) => base < r.base + r.size && r.base < base + size);
    if (clash) {
      throw new GuestMemoryError('overlap', `${name}: ${hex(base)}+${hex(size)} overlaps ${clash.name} at ${hex(clash.base)}+${hex(clash.size)}`, base, size);
    }
  }
}

/** Validates an (address, length) pair supplied by an untrusted caller. */
export function checkRange(gpa: number, length: number): void {
  if (!isValidGpa(gpa) || !Number.isInteger(length) || length < 0 || gpa + length > 2 ** 52) {
    throw new GuestMemoryError('invalid-range', `invalid guest physical range ${String(gpa)}+${String(length)}`, gpa, length);
  }
}
