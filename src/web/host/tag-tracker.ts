import type { RamRegion } from '../../memory/index.js';
import { RAM_BASE, type VirtMachine } from '../../vmm/index.js';
import { GRANULE_NONE, GRANULES_PER_PAGE, PAGE_BYTES, PAGE_NEVER, PAGE_UNTAGGED, summaryOf, type HostMessageOf } from '../protocol.js';

/** The most pages whose granules one window may ask for (a zoomed-in map shows far fewer). */
export const MAX_GRANULE_WINDOW = 4096;
/** The most pages read in one request (1 MiB of tags, unpacked). */
const MAX_RUN = 4096;

/**
 * Keeps the viewer's picture of guest RAM's allocation tags up to date, at a cost proportional to
 * what changed:
 *
 * - tag writes (STG and friends, DC GVA/GZVA, the VMM's debug and migration writes, a reset) are
 *   found through the region's tag epochs (RamRegion.tagEpochs / advanceTagEpoch): each poll
 *   takes the pages stamped since its previous one. That leaves the dirty tag log to migration,
 *   and any number of trackers (one per live-viewer connection) poll independently;
 * - a page that becomes tagged memory by a checked load or store (KVM's "tags zeroed on first
 *   use") changes no tag and is not stamped: the per-page "tags initialised" flags are compared
 *   with the last picture (one byte per page, a fraction of a millisecond for 1 GiB).
 *
 * Tags are read through the debug access class (never tag-checked; a protected VM's debug policy
 * applies), one request per run of consecutive changed pages. The summary of a page is one byte (protocol.ts: uniform tag, or dominant tag + PAGE_MIXED,
 * PAGE_NEVER, PAGE_UNTAGGED); granule tags are sent only for the window the map shows zoomed in.
 */
export class TagTracker {
  readonly pages: number;
  private readonly summaries: Uint8Array;
  private readonly seenInitialised: Uint8Array;
  private readonly initialised: Uint8Array | null;
  private primed = false;
  private windowFirst = 0;
  private windowCount = 0;
  private windowStale = false;
  /** 1 for pages already listed as changed in this poll. */
  private readonly changed: Uint8Array;
  /** The region's per-page tag epochs (null without MTE), and the epoch of this tracker's last look. */
  private readonly epochs: Uint32Array | null;
  private readonly region: RamRegion | null;
  private seenEpoch = 0;
  /** Distinct pages found changed by the last poll (the live viewer's activity figure). */
  lastChanged = 0;

  constructor(private readonly machine: VirtMachine) {
    this.pages = machine.memoryBytes / PAGE_BYTES;
    this.summaries = new Uint8Array(this.pages);
    this.seenInitialised = new Uint8Array(this.pages);
    this.changed = new Uint8Array(this.pages);
    // The per-page flags the memory layer keeps (tag-store.ts), read-only here, as query-mte does.
    const region = machine.vm.memory.space.findRam(RAM_BASE) ?? null;
    this.region = region?.tags ? region : null;
    this.initialised = region?.tags?.initialised ?? null;
    this.epochs = this.region ? this.region.trackTagEpochs() : null;
  }

  get mte(): boolean {
    return this.initialised !== null;
  }

  /** The map window zoomed in to granules: pages [first, first + count). */
  setGranuleWindow(first: number, count: number): void {
    const start = Math.max(0, Math.min(Math.floor(first), this.pages));
    this.windowFirst = start;
    this.windowCount = Math.max(0, Math.min(Math.floor(count), MAX_GRANULE_WINDOW, this.pages - start));
    this.windowStale = this.windowCount > 0;
  }

  /** Forget the picture: the next poll sends everything (a new viewer, a reset). */
  invalidate(): void {
    this.primed = false;
    this.windowStale = this.windowCount > 0;
  }

  /** What changed since the last poll, as messages for the UI (none when nothing did). */
  poll(): (HostMessageOf<'page-tags'> | HostMessageOf<'granule-tags'>)[] {
    const messages: (HostMessageOf<'page-tags'> | HostMessageOf<'granule-tags'>)[] = [];
    // Post-copy: pages the page thread delivered since the last look join the map now.
    this.region?.missing?.settleAll();
    if (!this.primed) {
      this.primed = true;
      if (this.initialised) {
        this.seenEpoch = this.region!.advanceTagEpoch(); // everything is read now
        this.seenInitialised.set(this.initialised);
      }
      this.lastChanged = 0; // the first picture is not a change
      const all = new Uint32Array(this.pages);
      for (let i = 0; i < all.length; i++) all[i] = i;
      this.refresh(all, (page, value) => (this.summaries[page] = value));
      messages.push({ type: 'page-tags', full: true, pages: all, values: this.summaries.slice() });
      this.windowStale = this.windowCount > 0;
    } else if (this.initialised) {
      const changed = this.collectChanged().sort((a, b) => a - b);
      this.lastChanged = changed.length;
      const pageList: number[] = [];
      this.refresh(changed, (page, value) => {
        if (value === this.summaries[page]) return;
        this.summaries[page] = value;
        pageList.push(page);
      });
      if (pageList.length > 0) {
        messages.push({ type: 'page-tags', full: false, pages: Uint32Array.from(pageList), values: Uint8Array.from(pageList, (p) => this.summaries[p]!) });
      }
      const inWindow = changed.filter((page) => page >= this.windowFirst && page < this.windowFirst + this.windowCount);
      if (inWindow.length > 0 && !this.windowStale) messages.push(this.granules(inWindow));
    }
    if (this.windowStale) {
      this.windowStale = false;
      const list: number[] = [];
      for (let i = 0; i < this.windowCount; i++) list.push(this.windowFirst + i);
      messages.push(this.granules(list));
    }
    return messages;
  }

  /** Calls `update` with the new summary of each page of `pages` (ascending). */
  private refresh(pages: ArrayLike<number>, update: (page: number, value: number) => void): void {
    this.readRuns(pages, (page, tags, offset) => {
      this.changed[page] = 0;
      update(page, tags === null ? (this.initialised ? PAGE_NEVER : PAGE_UNTAGGED) : summaryOf(tags, offset));
    });
  }

  /**
   * Reads the granule tags of `pages` (ascending) through the debug access class, one request per
   * run of consecutive tagged pages, and calls `visit` for each page: `tags` from `offset` holds
   * its 256 tags, or is null for a page that was never tagged (or RAM without tags).
   */
  private readRuns(pages: ArrayLike<number>, visit: (page: number, tags: Uint8Array | null, offset: number) => void): void {
    const init = this.initialised;
    for (let i = 0; i < pages.length; ) {
      const first = pages[i]!;
      if (!init || init[first] !== 1) {
        visit(first, null, 0);
        i++;
        continue;
      }
      let end = i + 1;
      while (end < pages.length && end - i < MAX_RUN && pages[end] === pages[end - 1]! + 1 && init[pages[end]!] === 1) end++;
      // Uncounted: the map's own reads would drown the debugger's in the activity panel.
      const tags = this.machine.vm.memory.debug.readTags(RAM_BASE + first * PAGE_BYTES, (end - i) * PAGE_BYTES, { counted: false });
      for (let j = i; j < end; j++) visit(pages[j]!, tags, (j - i) * GRANULES_PER_PAGE);
      i = end;
    }
  }

  /** The pages whose tags or tag state changed since the last poll, each once. */
  private collectChanged(): number[] {
    const list: number[] = [];
    const mark = (page: number) => {
      if (this.changed[page] === 1) return;
      this.changed[page] = 1;
      list.push(page);
    };
    const epochs = this.epochs!;
    const since = this.seenEpoch;
    this.seenEpoch = this.region!.advanceTagEpoch();
    for (let page = 0; page < epochs.length; page++) if (epochs[page]! > since) mark(page);
    // Four pages per compare (both arrays start their own buffers, so they are aligned).
    const now = this.initialised!;
    const seen = this.seenInitialised;
    const words = now.length >>> 2;
    const now32 = new Uint32Array(now.buffer, now.byteOffset, words);
    const seen32 = new Uint32Array(seen.buffer, seen.byteOffset, words);
    const compare = (from: number, to: number) => {
      for (let page = from; page < to; page++) {
        if (now[page] === seen[page]) continue;
        seen[page] = now[page]!;
        mark(page);
      }
    };
    for (let word = 0; word < words; word++) if (now32[word] !== seen32[word]) compare(word * 4, word * 4 + 4);
    compare(words * 4, now.length);
    return list;
  }

  private granules(pages: readonly number[]): HostMessageOf<'granule-tags'> {
    const out = new Uint8Array(pages.length * GRANULES_PER_PAGE).fill(GRANULE_NONE);
    let index = 0;
    this.readRuns(pages, (_page, tags, offset) => {
      if (tags) out.set(tags.subarray(offset, offset + GRANULES_PER_PAGE), index * GRANULES_PER_PAGE);
      index++;
    });
    return { type: 'granule-tags', pages: Uint32Array.from(pages), tags: out };
  }
}
