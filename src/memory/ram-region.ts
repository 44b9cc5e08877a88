import { hex } from './address.js';
import { PACKED_TAG_BYTES_PER_PAGE, PAGE_SHIFT, PAGE_SIZE } from './constants.js';
import { DirtyBitmap } from './dirty-bitmap.js';
import { GuestMemoryError } from './errors.js';
import { TagStore } from './tag-store.js';
import { ACTIVITY_GUEST, MemoryActivity, type ActivityIndex } from './activity.js';
import type { MissingPages } from './missing-pages.js';

const WASM_PAGE = 65536;
/** A wasm32 memory holds at most 4 GiB; data and tags of one region share it. */
export const MAX_REGION_BYTES = 2 ** 32 - 2 ** 27;
/** Bytes after data and tags kept for the vCPU's JIT (its TLB and register file, src/cpu/jit). */
export const JIT_AREA_BYTES = 3 * WASM_PAGE;

/**
 * Guest RAM's memory is shared (`shared: true`) wherever the host allows it, so worker threads
 * can read and write guest pages in place (migration's encoders, src/node/migration). A browser
 * page that is not cross-origin isolated has no SharedArrayBuffer: there it is not shared.
 * Wasm modules importing it must declare the same sharing (`RamRegion.shared`).
 */
function createGuestMemory(descriptor: { initial: number; maximum: number }): WebAssembly.Memory {
  if (typeof SharedArrayBuffer === 'undefined') return new WebAssembly.Memory(descriptor);
  try {
    return new WebAssembly.Memory({ ...descriptor, shared: true });
  } catch {
    return new WebAssembly.Memory(descriptor);
  }
}

export interface RamRegionOptions {
  readonly readOnly?: boolean;
  readonly name?: string;
}

/**
 * One contiguous range of guest RAM: its bytes, its allocation tags (when the VM has MTE), and
 * per-page bookkeeping (dirty bits for data and tags, pages holding decoded guest code).
 *
 * The bytes live in a WebAssembly.Memory so that a future JIT and worker threads can share them.
 * Tags are placed in the same memory right after the data once MTE is enabled.
 *
 * Only the vCPU and the access classes touch a region directly; every writer other than the vCPU
 * reports its writes through `noteDataWrite` so dirty logging and code invalidation stay exact.
 */
export class RamRegion {
  readonly pages: number;
  readonly name: string;
  readonly readOnly: boolean;
  private memory: WebAssembly.Memory;
  /** Byte offset of the JIT area (JIT_AREA_BYTES) in `wasmMemory`. */
  readonly jitAreaOffset: number;
  /** Data bytes. Do not keep references across `enableTags` (the backing memory grows). */
  bytes: Uint8Array;
  view: DataView;
  tags: TagStore | null = null;
  readonly dataDirty: DirtyBitmap;
  readonly tagDirty: DirtyBitmap;
  /** Dirty logging on (KVM_MEM_LOG_DIRTY_PAGES): only then are writes recorded. */
  dirtyLogging = false;
  /** One byte per page: 1 when the vCPU holds decoded instructions from it. */
  readonly codePages: Uint8Array;
  /** Called (with the page index) when a page holding decoded code is written. */
  onCodeWrite: ((page: number) => void) | null = null;
  /** Page-writes per access class (activity.ts), for the live viewer. */
  readonly activity = new MemoryActivity();
  /**
   * Live viewer: the tag epoch of each page, or null until `trackTagEpochs` is first called.
   * Independent of dirty logging (which migration owns): every tag write stamps its pages with
   * the current epoch, and any number of readers find the pages changed since their last look
   * with `advanceTagEpoch` (see there). 4 bytes per page once allocated; nothing before.
   */
  tagEpochs: Uint32Array | null = null;
  /** The stamp tag writes get now (advanced by readers, never by writers, so it cannot wrap in practice). */
  private tagEpoch = 1;
  /**
   * Post-copy destination: the pages not received yet (missing-pages.ts), or null (the normal
   * case, and once every page arrived). Nothing may touch a missing page before `ensurePresent`.
   */
  missing: MissingPages | null = null;

  constructor(
    readonly base: number,
    readonly size: number,
    options: RamRegionOptions = {},
  ) {
    if (size <= 0 || size % PAGE_SIZE !== 0 || base % PAGE_SIZE !== 0) {
      throw new GuestMemoryError('misaligned', `RAM region ${hex(base)}+${hex(size)} is not a non-empty whole number of 4 KiB pages`, base, size);
    }
    if (size > MAX_REGION_BYTES) {
      throw new GuestMemoryError('invalid-range', `RAM region of ${size} bytes exceeds the ${MAX_REGION_BYTES}-byte limit of one region`, base, size);
    }
    this.pages = size / PAGE_SIZE;
    this.name = options.name ?? `ram@${hex(base)}`;
    this.readOnly = options.readOnly ?? false;
    const dataPages = Math.ceil(size / WASM_PAGE);
    const tagPages = Math.ceil((this.pages * PACKED_TAG_BYTES_PER_PAGE) / WASM_PAGE);
    // The whole layout (data, room for tags, the JIT area) is reserved at once (untouched pages cost
    // no host memory), so the buffer never grows and views into it stay valid.
    this.jitAreaOffset = (dataPages + tagPages) * WASM_PAGE;
    const allPages = dataPages + tagPages + JIT_AREA_BYTES / WASM_PAGE;
    this.memory = createGuestMemory({ initial: allPages, maximum: allPages });
    this.bytes = new Uint8Array(this.memory.buffer, 0, size);
    this.view = new DataView(this.memory.buffer, 0, size);
    this.dataDirty = new DirtyBitmap(this.pages);
    this.tagDirty = new DirtyBitmap(this.pages);
    this.codePages = new Uint8Array(this.pages);
  }

  /** The memory holding data, tags and the JIT area; the JIT's code imports it. */
  get wasmMemory(): WebAssembly.Memory {
    return this.memory;
  }

  /** Whether the memory is a shared one (its buffer a SharedArrayBuffer): workers may use it in place. */
  get shared(): boolean {
    return typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer;
  }

  get end(): number {
    return this.base + this.size;
  }

  /** True when [gpa, gpa + length) lies inside this region. */
  contains(gpa: number, length: number): boolean {
    return gpa >= this.base && gpa + length <= this.end;
  }

  /** Allocates tag storage (MTE enabled for the VM). Idempotent. */
  enableTags(): TagStore {
    if (this.tags) return this.tags;
    if (this.readOnly) {
      throw new GuestMemoryError('no-tags', `read-only region ${this.name} cannot hold allocation tags`, this.base, this.size);
    }
    const tagBytes = this.pages * PACKED_TAG_BYTES_PER_PAGE;
    const needed = Math.ceil((this.size + tagBytes) / WASM_PAGE) - this.memory.buffer.byteLength / WASM_PAGE;
    if (needed > 0) this.memory.grow(needed);
    // Growing detaches the old buffer: rebuild every view.
    this.bytes = new Uint8Array(this.memory.buffer, 0, this.size);
    this.view = new DataView(this.memory.buffer, 0, this.size);
    this.tags = new TagStore(new Uint8Array(this.memory.buffer, this.size, tagBytes), this.pages);
    return this.tags;
  }

  /**
   * Bookkeeping for a data write of [offset, offset + length) by anyone but the vCPU fast path:
   * marks pages dirty while logging and drops decoded code of written pages.
   */
  noteDataWrite(offset: number, length: number, cls: ActivityIndex = ACTIVITY_GUEST): void {
    if (length <= 0) return;
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    this.activity.dataPages[cls]! += last - first + 1; // live viewer counters (activity.ts)
    for (let page = first; page <= last; page++) {
      if (this.dirtyLogging) this.dataDirty.mark(page);
      if (this.codePages[page] === 1) this.invalidateCode(page);
    }
  }

  /**
   * Bookkeeping for a tag write covering [offset, offset + length) by `cls` (the vCPU's STG family
   * and DC GVA/GZVA call this on their fast paths too, so it stays a few operations): the dirty
   * tag log while logging, and, for the live viewer, the activity counter and the pages' tag epoch.
   */
  noteTagWrite(offset: number, length: number, cls: ActivityIndex = ACTIVITY_GUEST): void {
    if (length <= 0) return;
    const first = offset >>> PAGE_SHIFT; // offsets are below 2^32 (MAX_REGION_BYTES)
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    this.activity.tagPages[cls]! += last - first + 1;
    const epochs = this.tagEpochs;
    if (epochs !== null) {
      if (first === last) epochs[first] = this.tagEpoch;
      else epochs.fill(this.tagEpoch, first, last + 1);
    }
    if (this.dirtyLogging) this.tagDirty.markRange(first, last - first + 1);
  }

  /**
   * Every page's tags were forgotten (VM reset: TagStore.uninitialiseAll): migration's dirty log
   * must resend them, and the viewer's epochs must show them changed.
   */
  noteTagsForgotten(): void {
    if (this.dirtyLogging) this.tagDirty.setAll();
    this.tagEpochs?.fill(this.tagEpoch);
  }

  /** Starts (idempotently) stamping tag writes with epochs; returns the per-page epochs. */
  trackTagEpochs(): Uint32Array {
    this.tagEpochs ??= new Uint32Array(this.pages);
    return this.tagEpochs;
  }

  /**
   * A reader's look at the epochs: returns the current epoch E and moves writers on to E + 1.
   * The pages whose tags were written since the reader's previous look (which returned P) are
   * exactly those with `tagEpochs[page] > P`; the reader keeps E for next time. Readers do not
   * disturb each other, and the dirty tag log is untouched.
   */
  advanceTagEpoch(): number {
    return this.tagEpoch++;
  }

  /**
   * Makes sure page `page` holds its data and tags before anything reads or writes it (post-copy:
   * fetches it from the source, synchronously). One compare when nothing is missing.
   */
  ensurePresent(page: number): void {
    const missing = this.missing;
    if (missing !== null && missing.state[page] !== 0) missing.take(page);
  }

  /** `ensurePresent` for every page of [offset, offset + length). */
  ensureRangePresent(offset: number, length: number): void {
    if (this.missing === null || length <= 0) return;
    for (let page = offset >>> PAGE_SHIFT, last = (offset + length - 1) >>> PAGE_SHIFT; page <= last; page++) this.ensurePresent(page);
  }

  invalidateCode(page: number): void {
    this.codePages[page] = 0;
    this.onCodeWrite?.(page);
  }

  pageOf(gpa: number): number {
    return (gpa - this.base) >>> PAGE_SHIFT;
  }
}
