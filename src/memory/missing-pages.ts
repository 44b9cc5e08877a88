import { hex } from './address.js';
import { ACTIVITY_MIGRATION } from './activity.js';
import { PAGE_SHIFT, PAGE_SIZE } from './constants.js';
import type { RamRegion } from './ram-region.js';

/** A page's state in `MissingPages.state`. */
export const PAGE_PRESENT = 0;
/** Not received yet: its data and tags must be fetched before anything touches it. */
export const PAGE_MISSING = 1;
/** Received (data and tags written) by another thread, tags "never tagged"; settled on the next look. */
export const PAGE_ARRIVED_UNTAGGED = 2;
/** Received by another thread with its tags (the page was used as tagged memory). */
export const PAGE_ARRIVED_TAGGED = 3;

/**
 * The host's fetch of one missing page (post-copy migration, docs/migration-protocol.md §9): it
 * returns once the page's data and tags are in place and its state is no longer PAGE_MISSING
 * (another thread may write them and move the state to PAGE_ARRIVED_*), or throws a
 * PageFetchError. It runs synchronously inside a guest access, so nothing else may run meanwhile.
 */
export type PageFetcher = (region: RamRegion, page: number) => void;

/** A missing page could not be fetched (post-copy: the link to the source is gone). The guest cannot go on. */
export class PageFetchError extends Error {
  override readonly name = 'PageFetchError';
}

/**
 * The pages of one RAM region that a post-copy destination has not received yet. While a region
 * has one (`RamRegion.missing`), every path that reads or writes its data or tags without the
 * vCPU's TLB calls `RamRegion.ensurePresent` first: the CPU's slow path, page-table walks and
 * instruction fetch (so no TLB entry and no decoded page is ever made from a missing page) and
 * the access gate (DMA, debugger, migration, semihosting). Pages only go from missing to
 * present, so whatever was cached from a present page stays valid. When the last page settles
 * the region drops this object and the checks cost one null compare again.
 *
 * `state` may live in a SharedArrayBuffer: a worker thread that receives a page writes its data
 * and packed tags into the shared guest memory, then stores PAGE_ARRIVED_* with Atomics. Only
 * this thread settles pages (the tag store's "initialised" flags are not shared memory).
 */
export class MissingPages {
  readonly state: Uint8Array;
  /** Pages not settled yet (missing or arrived). */
  private remaining: number;
  /** Set by the host: fetches a page on demand. Without one, touching a missing page throws. */
  fetcher: PageFetcher | null = null;

  constructor(
    readonly region: RamRegion,
    state: Uint8Array,
  ) {
    if (state.length !== region.pages) throw new RangeError(`missing-page state of ${state.length} pages for a region of ${region.pages}`);
    this.state = state;
    let remaining = 0;
    for (let page = 0; page < state.length; page++) if (state[page] !== PAGE_PRESENT) remaining++;
    this.remaining = remaining;
  }

  /** Pages not settled yet. */
  get count(): number {
    return this.remaining;
  }

  /** The slow half of `RamRegion.ensurePresent`: fetch the page if it is missing, then settle it. */
  take(page: number): void {
    let state = Atomics.load(this.state, page);
    if (state === PAGE_MISSING) {
      const fetcher = this.fetcher;
      const where = hex(this.region.base + (page << PAGE_SHIFT));
      if (fetcher === null) throw new PageFetchError(`page ${where} has not arrived and nothing can fetch it`);
      fetcher(this.region, page);
      state = Atomics.load(this.state, page);
      if (state === PAGE_MISSING) throw new PageFetchError(`page ${where} was not delivered`);
    }
    this.settle(page, state);
  }

  /** Settles every page other threads delivered; returns how many are still missing. */
  settleAll(): number {
    for (let page = 0; page < this.state.length && this.remaining > 0; page++) {
      const state = Atomics.load(this.state, page);
      if (state !== PAGE_MISSING) this.settle(page, state);
    }
    return this.remaining;
  }

  private settle(page: number, state: number): void {
    if (state === PAGE_PRESENT) return;
    const tags = this.region.tags;
    // The sender's rule: a page's tags come with its data, so both are in place now.
    if (tags !== null) {
      if (state === PAGE_ARRIVED_TAGGED) {
        tags.initialised[page] = 1;
        // Written by migration on another thread: the viewer's epochs and activity learn it now.
        this.region.noteTagWrite(page << PAGE_SHIFT, PAGE_SIZE, ACTIVITY_MIGRATION);
      } else tags.uninitialise(page);
    }
    Atomics.store(this.state, page, PAGE_PRESENT);
    if (--this.remaining === 0 && this.region.missing === this) this.region.missing = null;
  }
}

/** A state array for `pages` pages, all missing, in shared memory when the host has it (workers fill it). */
export function allMissingState(pages: number): Uint8Array {
  const buffer = typeof SharedArrayBuffer !== 'undefined' ? new SharedArrayBuffer(pages) : new ArrayBuffer(pages);
  return new Uint8Array(buffer).fill(PAGE_MISSING);
}
