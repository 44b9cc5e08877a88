/**
 * Who touched guest memory, counted cheaply for the live viewer (`tagvisor run --web`,
 * docs/web.md). Each RAM region keeps one MemoryActivity; the counters only ever grow, and a
 * reader samples them and takes differences.
 *
 * The unit is a *page-write*: a write that touches n pages counts n, so a guest that retags one
 * page 100 times counts 100. Distinct pages are what the tag epochs (RamRegion.tagEpochs) give.
 *
 * - `dma`, `debug`, `migration`: counted exactly by the access classes (data and tag writes, and
 *   reads; the live viewer's own tag map reads go through the debug class uncounted). The image
 *   load at boot and reset goes through `dma`.
 * - `guest`: tag writes are exact (every STG-family instruction and DC GVA/GZVA already calls
 *   RamRegion.noteTagWrite, on the fast path too). Data writes are an approximation: only stores
 *   that leave the vCPU's fast path are seen (RamRegion.noteDataWrite, the slow path's
 *   noteGuestWrite): the first store to a page after a write-TLB miss or flush, stores to pages
 *   holding decoded code, page-crossing stores, DC ZVA, and page-table updates. A guest that keeps
 *   writing pages already in its TLB shows little; one that sweeps memory shows about one count
 *   per page it moves to. Nothing is added to the fast path.
 */
export const ACTIVITY_CLASSES = ['guest', 'dma', 'debug', 'migration'] as const;
export type ActivityClass = (typeof ACTIVITY_CLASSES)[number];

/** Indices into the counter arrays, in ACTIVITY_CLASSES order. */
export const ACTIVITY_GUEST = 0;
export const ACTIVITY_DMA = 1;
export const ACTIVITY_DEBUG = 2;
export const ACTIVITY_MIGRATION = 3;
export type ActivityIndex = typeof ACTIVITY_GUEST | typeof ACTIVITY_DMA | typeof ACTIVITY_DEBUG | typeof ACTIVITY_MIGRATION;

export class MemoryActivity {
  /** Page-writes of data, per class (Float64: exact far beyond 2^32). */
  readonly dataPages = new Float64Array(ACTIVITY_CLASSES.length);
  /** Page-writes of allocation tags (including a page returned to "never tagged"), per class. */
  readonly tagPages = new Float64Array(ACTIVITY_CLASSES.length);
  /** Page reads (dma, debug and migration; see above), per class. */
  readonly readPages = new Float64Array(ACTIVITY_CLASSES.length);

  /** Counts a read of [offset, offset + length) (byte offsets into the region). */
  noteRead(cls: ActivityIndex, offset: number, length: number): void {
    if (length > 0) this.readPages[cls]! += ((offset + length - 1) >>> 12) - (offset >>> 12) + 1;
  }

  /** Adds this region's counters into `into` (summing the regions of a VM). */
  addTo(into: MemoryActivity): void {
    for (let i = 0; i < ACTIVITY_CLASSES.length; i++) {
      into.dataPages[i]! += this.dataPages[i]!;
      into.tagPages[i]! += this.tagPages[i]!;
      into.readPages[i]! += this.readPages[i]!;
    }
  }
}
