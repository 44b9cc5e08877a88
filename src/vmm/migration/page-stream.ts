import { PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE, type MigrationAccess } from '../../memory/index.js';
import { MAX_RAM_PAGES_PER_SECTION, MAX_TAG_PAGES_PER_SECTION, RamBatch, TagBatch, type PageTags, type RamPage } from './payloads.js';
import { StreamFormatError } from './value-codec.js';

/** Byte counts of what a stream carried, for progress and the final summary. */
export class StreamStats {
  ramPages = 0;
  zeroPages = 0;
  tagPages = 0;
  dataBytes = 0;
  tagBytes = 0;
}

/**
 * Turns pages of guest memory into RAM and TAGS sections (docs/migration-protocol.md §3): zero
 * pages cost 9 bytes, tags only for pages used as tagged memory, one byte for a uniformly tagged
 * page, 128 bytes otherwise. `emit` receives each finished section.
 */
export class PageEncoder {
  private ram = new RamBatch();
  /** Pages the caller announced it is about to add (sizes the next RAM batch). */
  private expected = 0;
  private tags = new TagBatch();
  readonly stats = new StreamStats();

  constructor(
    private readonly memory: MigrationAccess,
    private readonly emit: (section: Uint8Array) => void,
  ) {}

  /** Announces how many pages are coming, so batches are allocated at their final size. */
  expect(pages: number): void {
    this.expected = pages;
    if (this.ram.count === 0) this.ram = new RamBatch(pages);
  }

  /** Queues the data of the page at `gpa`. */
  addData(gpa: number): void {
    if (this.memory.isZeroPage(gpa)) {
      this.ram.addZero(gpa);
      this.stats.zeroPages++;
    } else {
      this.memory.readPage(gpa, this.ram.addRaw(gpa));
    }
    this.stats.ramPages++;
    if (this.ram.count >= MAX_RAM_PAGES_PER_SECTION) this.flushRam();
  }

  /**
   * Queues the tags of the page at `gpa`. `sendUninitialised` says whether a page never used as
   * tagged memory must be announced (a later round after a reset) or can be skipped (a fresh
   * target's pages start that way).
   */
  addTags(gpa: number, sendUninitialised: boolean): void {
    const state = this.memory.tagState(gpa);
    if (state === 'untagged') return;
    if (state === 'uninitialised') {
      if (!sendUninitialised) return;
      this.tags.addNone(gpa);
    } else {
      const uniform = this.memory.uniformTag(gpa);
      if (uniform >= 0) this.tags.addUniform(gpa, uniform);
      else this.memory.readPageTags(gpa, this.tags.addPacked(gpa));
    }
    this.stats.tagPages++;
    if (this.tags.count >= MAX_TAG_PAGES_PER_SECTION) this.flushTags();
  }

  /** Emits whatever is queued. */
  flush(): void {
    this.flushRam();
    this.flushTags();
  }

  private flushRam(): void {
    if (this.ram.count === 0) return;
    const section = this.ram.seal();
    this.stats.dataBytes += section.length;
    this.emit(section);
    this.expected = Math.max(0, this.expected - MAX_RAM_PAGES_PER_SECTION);
    this.ram = new RamBatch(this.expected);
  }

  private flushTags(): void {
    if (this.tags.count === 0) return;
    const section = this.tags.seal();
    this.stats.tagBytes += section.length;
    this.emit(section);
    this.tags = new TagBatch();
  }
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/**
 * Writes decoded pages into a target's memory. Addresses were checked for alignment by the
 * decoder; here each must lie inside the target's RAM (the migration access class refuses others).
 */
export class PageApplier {
  ramPages = 0;
  tagPages = 0;

  constructor(private readonly memory: MigrationAccess) {}

  /** Checks that every page of a section is inside RAM, before writing any of it. */
  checkPages(pages: readonly { gpa: number }[]): void {
    const layout = this.memory.layout();
    for (const { gpa } of pages) {
      if (!layout.some((r) => gpa >= r.base && gpa + PAGE_SIZE <= r.base + r.size)) {
        throw new StreamFormatError(`page 0x${gpa.toString(16)} is outside guest RAM`);
      }
    }
  }

  applyRam(pages: readonly RamPage[]): void {
    for (const page of pages) {
      // A zero page over a page that is already zero (a fresh target) needs no write.
      if (page.data === null && this.memory.isZeroPage(page.gpa)) continue;
      this.memory.writePage(page.gpa, page.data ?? ZERO_PAGE);
    }
    this.ramPages += pages.length;
  }

  applyTags(pages: readonly PageTags[]): void {
    for (const page of pages) {
      if (page.kind === 'none') this.memory.writePageTags(page.gpa, null);
      else if (page.kind === 'uniform') this.memory.fillPageTags(page.gpa, page.tag);
      else this.memory.writePageTags(page.gpa, page.packed.length === PACKED_TAG_BYTES_PER_PAGE ? page.packed : page.packed.slice());
    }
    this.tagPages += pages.length;
  }
}
