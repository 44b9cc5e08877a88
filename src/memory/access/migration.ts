import { hex } from '../address.js';
import { PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE } from '../constants.js';
import { isZeroPageAt } from '../zero-page.js';
import { DirtyBitmap } from '../dirty-bitmap.js';
import { GuestMemoryError } from '../errors.js';
import type { RamRegion } from '../ram-region.js';
import type { AccessGate } from './gate.js';
import { ACTIVITY_MIGRATION } from '../activity.js';

/** The tag state of one page as migration sees it. */
export type PageTagState = 'untagged' | 'uninitialised' | 'initialised';

/** The dirty pages of one region since the last take, for data and for tags separately. */
export interface RegionDirtyLog {
  /** Guest physical address of the region's first page. */
  readonly base: number;
  /** Pages in the region (bit i of each bitmap is page base + i * 4 KiB). */
  readonly pages: number;
  /** Pages whose data was written. */
  readonly data: DirtyBitmap;
  /** Pages whose allocation tags were written (or forgotten). */
  readonly tags: DirtyBitmap;
}

/**
 * Migration and snapshots: whole pages with their tags, and the dirty log. Pages are addressed by
 * guest physical address (page-aligned). Tags travel packed, 128 bytes per page, in the TagStore
 * layout.
 */
export class MigrationAccess {
  /**
   * @param sealed requests carry `sealed`: their bytes go into an encrypted stream (the policy of
   * a protected VM allows only those on private pages). Use `GuestMemory.sealedMigration`.
   */
  constructor(
    private readonly gate: AccessGate,
    private readonly sealed = false,
  ) {}

  /** The RAM layout: what a stream must describe and a destination must match. */
  layout(): { base: number; size: number }[] {
    return this.gate.space.ramRegions.map((r) => ({ base: r.base, size: r.size }));
  }

  /** Copies the page at `gpa` (4 KiB aligned) into the first 4 KiB of `dst`. */
  readPage(gpa: number, dst: Uint8Array): void {
    if (dst.length < PAGE_SIZE) throw new GuestMemoryError('invalid-range', `page buffer must hold ${PAGE_SIZE} bytes, got ${dst.length}`, gpa, dst.length);
    const { region, page } = this.page('read', gpa, false);
    dst.set(region.bytes.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    region.activity.readPages[ACTIVITY_MIGRATION]!++;
  }

  /** True when every byte of the page is zero (such pages travel without data). */
  isZeroPage(gpa: number): boolean {
    const { region, page } = this.page('read', gpa, false);
    return isZeroPageAt(region.bytes, page * PAGE_SIZE);
  }

  /** Replaces the data of the page at `gpa` with `src` (exactly 4 KiB); its tags are separate. */
  writePage(gpa: number, src: Uint8Array): void {
    if (src.length !== PAGE_SIZE) throw new GuestMemoryError('invalid-range', `page data must be ${PAGE_SIZE} bytes, got ${src.length}`, gpa, src.length);
    const { region, page } = this.page('write', gpa, false);
    region.bytes.set(src, page * PAGE_SIZE);
    region.noteDataWrite(page * PAGE_SIZE, PAGE_SIZE, ACTIVITY_MIGRATION);
  }

  /** Whether the page holds tags, and whether it was ever used as tagged memory. */
  tagState(gpa: number): PageTagState {
    const { region, page } = this.page('read', gpa, true);
    if (!region.tags) return 'untagged';
    return region.tags.isInitialised(page) ? 'initialised' : 'uninitialised';
  }

  /** The tag all granules of the page share (0 for an uninitialised page), or -1 if they differ. */
  uniformTag(gpa: number): number {
    const { region, page } = this.page('read', gpa, true);
    return region.tags ? region.tags.uniformTag(page) : 0;
  }

  /** Copies the page's packed tags into `dst`; zeros for a page never used as tagged memory. */
  readPageTags(gpa: number, dst: Uint8Array): void {
    const { region, page } = this.page('read', gpa, true);
    this.tagsOf(region, gpa).copyPagePacked(page, dst);
  }

  /**
   * Sets the page's tags from packed form, or with `null` returns it to "never tagged" (its tags
   * will be zeroed on first use, as on the source).
   */
  writePageTags(gpa: number, packed: Uint8Array | null): void {
    if (packed && packed.length < PACKED_TAG_BYTES_PER_PAGE) {
      throw new GuestMemoryError('invalid-range', `packed page tags must be ${PACKED_TAG_BYTES_PER_PAGE} bytes`, gpa, packed.length);
    }
    const { region, page } = this.page('write', gpa, true);
    const tags = this.tagsOf(region, gpa);
    if (packed) tags.setPagePacked(page, packed);
    else tags.uninitialise(page);
    region.noteTagWrite(page * PAGE_SIZE, PAGE_SIZE, ACTIVITY_MIGRATION);
  }

  /** Sets every granule of the page to one tag (the compact wire form). */
  fillPageTags(gpa: number, tag: number): void {
    if (!Number.isInteger(tag) || tag < 0 || tag > 15) throw new GuestMemoryError('invalid-range', `tag value ${tag} is not a 4-bit tag`, gpa, PAGE_SIZE);
    const { region, page } = this.page('write', gpa, true);
    this.tagsOf(region, gpa).fillTags(page * PAGE_SIZE, PAGE_SIZE / 16, tag);
    region.noteTagWrite(page * PAGE_SIZE, PAGE_SIZE, ACTIVITY_MIGRATION);
  }

  /**
   * Returns and clears the dirty pages of every region. Only pages written while the region's
   * dirty logging was on are reported; the hypervisor layer decides when logging runs.
   */
  takeDirty(): RegionDirtyLog[] {
    return this.gate.space.ramRegions.map((region) => ({
      base: region.base,
      pages: region.pages,
      data: region.dataDirty.takeAndClear(),
      tags: region.tagDirty.takeAndClear(),
    }));
  }

  private page(op: 'read' | 'write', gpa: number, tags: boolean): { region: RamRegion; page: number } {
    if (gpa % PAGE_SIZE !== 0) throw new GuestMemoryError('misaligned', `page address ${hex(gpa)} is not 4 KiB aligned`, gpa, PAGE_SIZE);
    // Regions are whole pages, so an aligned page always lies in one region.
    const region = this.gate.open('migration', op, gpa, PAGE_SIZE, tags, this.sealed) as RamRegion;
    return { region, page: (gpa - region.base) / PAGE_SIZE };
  }

  private tagsOf(region: RamRegion, gpa: number) {
    if (!region.tags) throw new GuestMemoryError('no-tags', `page ${hex(gpa)} holds no allocation tags (MTE is off)`, gpa, PAGE_SIZE);
    return region.tags;
  }
}
