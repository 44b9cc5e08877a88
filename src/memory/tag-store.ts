import { GRANULE_SHIFT, GRANULE_SIZE, GRANULES_PER_PAGE, PACKED_TAG_BYTES_PER_PAGE, PAGE_SHIFT } from './constants.js';

/**
 * Allocation tags of one RAM region: 4 bits per 16-byte granule, two per byte, the low nibble for
 * the even granule (the layout QEMU uses for its tag RAM, so packed exports are byte-compatible).
 *
 * Each page also has a "tags initialised" flag. A page whose flag is clear has never been used as
 * tagged memory: its tags read as 0 whatever the storage holds, and the first use zeroes them
 * (KVM's sanitise_mte_tags rule). That makes a reset O(pages) and guarantees stale tags never
 * leak into a page's new life.
 *
 * Offsets are byte offsets into the region, never guest addresses.
 */
export class TagStore {
  /** Packed tags, PACKED_TAG_BYTES_PER_PAGE per page. */
  readonly packed: Uint8Array;
  /** One byte per page: 1 once the page has been used as tagged memory. */
  readonly initialised: Uint8Array;

  constructor(packed: Uint8Array, pages: number) {
    if (packed.length !== pages * PACKED_TAG_BYTES_PER_PAGE) {
      throw new RangeError(`tag storage of ${packed.length} bytes does not fit ${pages} pages`);
    }
    this.packed = packed;
    this.initialised = new Uint8Array(pages);
  }

  get pages(): number {
    return this.initialised.length;
  }

  isInitialised(page: number): boolean {
    return this.initialised[page] === 1;
  }

  /** Marks a page as tagged memory, zeroing its tags the first time. */
  ensureInitialised(page: number): void {
    if (this.initialised[page] === 1) return;
    const start = page * PACKED_TAG_BYTES_PER_PAGE;
    this.packed.fill(0, start, start + PACKED_TAG_BYTES_PER_PAGE);
    this.initialised[page] = 1;
  }

  /** Forgets that any page was used as tagged memory (VM reset): all tags read 0 again. */
  uninitialiseAll(): void {
    this.initialised.fill(0);
  }

  /** Marks one page as never used as tagged memory. */
  uninitialise(page: number): void {
    this.initialised[page] = 0;
  }

  /** The allocation tag of the granule holding byte `offset`. */
  tagAt(offset: number): number {
    if (this.initialised[offset >>> PAGE_SHIFT] !== 1) return 0;
    return this.rawTagAt(offset);
  }

  /** Tag lookup for pages the caller knows are initialised (the vCPU's tagged TLB entries). */
  rawTagAt(offset: number): number {
    const granule = offset >>> GRANULE_SHIFT;
    return (this.packed[granule >>> 1]! >>> ((granule & 1) << 2)) & 0xf;
  }

  /** Sets the tag of the granule holding byte `offset`, initialising its page first. */
  setTag(offset: number, tag: number): void {
    this.ensureInitialised(offset >>> PAGE_SHIFT);
    this.rawSetTag(offset, tag);
  }

  private rawSetTag(offset: number, tag: number): void {
    const granule = offset >>> GRANULE_SHIFT;
    const index = granule >>> 1;
    const shift = (granule & 1) << 2;
    this.packed[index] = (this.packed[index]! & ~(0xf << shift)) | ((tag & 0xf) << shift);
  }

  /** Sets `count` consecutive granules starting at the granule holding `offset` to one tag. */
  fillTags(offset: number, count: number, tag: number): void {
    let granule = offset >>> GRANULE_SHIFT;
    const end = granule + count;
    const pairByte = (tag & 0xf) * 0x11;
    while (granule < end) {
      const page = Math.floor(granule / GRANULES_PER_PAGE);
      this.ensureInitialised(page);
      const pageEnd = Math.min(end, (page + 1) * GRANULES_PER_PAGE);
      // An odd first granule takes a nibble write, whole bytes one fill, an odd last granule a nibble.
      if (granule & 1) {
        this.rawSetTag(granule * GRANULE_SIZE, tag);
        granule++;
      }
      const pairs = (pageEnd - granule) >>> 1;
      this.packed.fill(pairByte, granule >>> 1, (granule >>> 1) + pairs);
      granule += pairs * 2;
      if (granule < pageEnd) {
        this.rawSetTag(granule * GRANULE_SIZE, tag);
        granule++;
      }
    }
  }

  /**
   * Returns the offset of the first granule in [offset, offset + size) whose tag differs from
   * `logicalTag`, or -1 when every granule matches. Never-initialised pages hold tag 0.
   */
  firstMismatch(offset: number, size: number, logicalTag: number): number {
    if (size <= 0) return -1;
    const first = offset >>> GRANULE_SHIFT;
    const last = (offset + size - 1) >>> GRANULE_SHIFT;
    for (let granule = first; granule <= last; granule++) {
      if (this.tagAt(granule * GRANULE_SIZE) !== logicalTag) {
        return granule === first ? offset : granule * GRANULE_SIZE;
      }
    }
    return -1;
  }

  /** Copies `count` tags, one per byte, starting at the granule holding `offset`. */
  readUnpacked(offset: number, count: number, dst: Uint8Array, dstOffset = 0): void {
    const packed = this.packed;
    let granule = offset >>> GRANULE_SHIFT;
    const end = granule + count;
    while (granule < end) {
      // One page at a time: the initialised check is per page, the unpacking a tight loop.
      const pageEnd = Math.min(end, (Math.floor(granule / GRANULES_PER_PAGE) + 1) * GRANULES_PER_PAGE);
      const out = dstOffset + (granule - (offset >>> GRANULE_SHIFT));
      if (this.initialised[Math.floor(granule / GRANULES_PER_PAGE)] !== 1) {
        dst.fill(0, out, out + (pageEnd - granule));
      } else {
        for (let g = granule, o = out; g < pageEnd; g++, o++) dst[o] = (packed[g >>> 1]! >>> ((g & 1) << 2)) & 0xf;
      }
      granule = pageEnd;
    }
  }

  /** Writes `count` tags given one per byte (low nibble used) from the granule holding `offset`. */
  writeUnpacked(offset: number, count: number, src: Uint8Array, srcOffset = 0): void {
    const packed = this.packed;
    let granule = offset >>> GRANULE_SHIFT;
    const end = granule + count;
    while (granule < end) {
      this.ensureInitialised(Math.floor(granule / GRANULES_PER_PAGE));
      const pageEnd = Math.min(end, (Math.floor(granule / GRANULES_PER_PAGE) + 1) * GRANULES_PER_PAGE);
      for (let g = granule, i = srcOffset + (granule - (offset >>> GRANULE_SHIFT)); g < pageEnd; g++, i++) {
        const shift = (g & 1) << 2;
        packed[g >>> 1] = (packed[g >>> 1]! & ~(0xf << shift)) | ((src[i]! & 0xf) << shift);
      }
      granule = pageEnd;
    }
  }

  /** Copies a page's packed tags into `dst` (zeros if the page was never tagged). */
  copyPagePacked(page: number, dst: Uint8Array, dstOffset = 0): void {
    const start = page * PACKED_TAG_BYTES_PER_PAGE;
    if (this.initialised[page] !== 1) dst.fill(0, dstOffset, dstOffset + PACKED_TAG_BYTES_PER_PAGE);
    else dst.set(this.packed.subarray(start, start + PACKED_TAG_BYTES_PER_PAGE), dstOffset);
  }

  /** Replaces a page's tags from packed form and marks it initialised. */
  setPagePacked(page: number, src: Uint8Array): void {
    this.packed.set(src.subarray(0, PACKED_TAG_BYTES_PER_PAGE), page * PACKED_TAG_BYTES_PER_PAGE);
    this.initialised[page] = 1;
  }

  /** The tag every granule of the page carries, or -1 when they differ. */
  uniformTag(page: number): number {
    if (this.initialised[page] !== 1) return 0;
    const start = page * PACKED_TAG_BYTES_PER_PAGE;
    const first = this.packed[start]!;
    if ((first & 0xf) !== first >>> 4) return -1;
    for (let i = 1; i < PACKED_TAG_BYTES_PER_PAGE; i++) if (this.packed[start + i] !== first) return -1;
    return first & 0xf;
  }
}
