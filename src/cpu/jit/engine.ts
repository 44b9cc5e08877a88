import { ACTIVITY_GUEST, type RamRegion } from '../../memory/index.js';
import { FIQ_LINE, IRQ_LINE, type Cpu } from '../cpu.js';
import type { CodePage } from '../fetch.js';
import { storeTagEntry } from '../isa/mte-insns.js';
import { addgTag } from '../mte.js';
import { Sys } from '../sysreg-state.js';
import { buildDispatcher, chainIndex, SLOT_SHIFT, type DispatchFn } from './chain.js';
import { compileRegion, type CompiledRegion } from './compile.js';
import { HELPERS } from './emit-mte.js';
import { PARAMS } from './gen.js';
import {
  CHAIN_ENTRIES, CHAIN_OFFSET, ITLB_OFFSET, ST_CHAIN_KEY, ST_DATA_WRITES, ST_CHAINED, ST_CF, ST_MTE_ACTIVE, ST_NF, ST_PC_HI, ST_PC_LO, ST_RD_BASE, ST_SP_ALIGN, ST_GCR, ST_RGSR, ST_TAG_ACCESS, ST_TAG_BASE, ST_TAG_PLAIN, ST_TAG_WRITES, ST_TBI_AND0, ST_TBI_OR1, ST_VF, ST_WR_BASE, ST_X, ST_ZF,
  ST_DAIF, ST_EL1H, ST_EXCL, ST_EXCL_SIZE, ST_IRQ_PENDING, STATE_OFFSET, STATE_WORDS, SYS_OFFSET, TLB_OFFSET,
} from './layout.js';
import { JitPage, type RegionFn } from './page.js';
import { buildModule } from './wasm.js';

/**
 * Block entries the interpreter sees before the region starting there is compiled. Linux's boot
 * to the banner with background compiling (docs/jit.md, "Region selection"), quiet machine:
 * 250: 5.4-5.5 s, 500: 5.4-5.6 s, 1000: 4.6-5.2 s, 2000: 5.05-5.1 s. Fewer regions compile, and
 * a region entered fewer times than this costs less interpreted than compiled and entered.
 */
export const HOT_THRESHOLD = 1000;
/** Regions shorter than this, with no loop, are left to the interpreter (docs/jit.md). */
export const MIN_REGION_INSTRUCTIONS = 16;
/** The code cache's bound: past it every compiled region is dropped (and recompiled when hot). */
export const CACHE_LIMIT_BYTES = 16 * 1024 * 1024;
/** Regions compiled in the background go in modules of at most this many (docs/jit.md, "Compiling"). */
export const BATCH_REGIONS = 16;
/**
 * Instructions after a background compile started when the run loop is asked to end its slice
 * (Cpu.requestStop), so the host's event loop can deliver the code: slices are up to 4 M, and
 * every instruction of a pending region meanwhile is interpreted.
 */
export const DELIVERY_INSTRUCTIONS = 200_000;

/** A region compiled in the background has this as its function until installed: entries interpret. */
const PENDING: RegionFn = () => 0;

/** A hot region waiting in a batch for the background compiler. */
interface Pending {
  readonly page: CodePage;
  readonly jp: JitPage;
  readonly idx: number;
  readonly compiled: CompiledRegion;
}

/** Counters for --stats. */
export interface JitStats {
  compiledRegions: number;
  compiledInstructions: number;
  /** Wasm bytes compiled since the last flush: the code cache's size. */
  cacheBytes: number;
  /** Flushes because the cache was full. */
  flushes: number;
  /** Instructions executed by compiled code. */
  jitInstructions: number;
  /** Regions the host refused to compile (they are interpreted). */
  compileFailures: number;
  /** Entries into compiled code from the run loop (JS to wasm). */
  entries: number;
  /** Regions entered by the dispatcher straight from another one (chain.ts). */
  chained: number;
}

/**
 * The JIT engine (docs/jit.md): counts block entries per code page, compiles hot regions to
 * WebAssembly (compile.ts) and runs them. Compiled code imports the WebAssembly.Memory of one RAM
 * region (the largest writable one), where the data TLB's keys and the register file it works on
 * live; accesses to other regions leave compiled code for the interpreter.
 */
export class Jit {
  readonly stats: JitStats = { compiledRegions: 0, compiledInstructions: 0, cacheBytes: 0, flushes: 0, jitInstructions: 0, compileFailures: 0, entries: 0, chained: 0 };
  private region: RamRegion | null = null;
  private state: Int32Array | null = null;
  private imports: WebAssembly.Imports = {};
  private shared = false;
  /** Block entries before compiling; tests set 0 so even code that runs once, and short regions, are compiled. */
  hotThreshold = HOT_THRESHOLD;
  /** The RAM layout changed (Cpu.watchRegion): choose the region again before compiling. */
  stale = true;
  private readonly pages = new Set<CodePage>();
  /** Every compiled region function, at its slot (0 unused); the dispatcher calls through it. */
  private table: WebAssembly.Table | null = null;
  private nextSlot = 1;
  private dispatch: DispatchFn | null = null;
  /** The jump cache (chain.ts), a view of the JIT area: 4 words an entry. */
  private chain: Int32Array | null = null;
  /** Cpu.codeGeneration when the jump cache was last emptied. */
  private codeGen = -1;
  /** Hot regions not yet handed to the background compiler (Cpu.backgroundCompile). */
  private batch: Pending[] = [];
  /** Batches handed to it and not yet back, and Cpu.icount when the last was handed over. */
  private compiling = 0;
  private submittedAt = 0;
  /** The instruction count at the current entry (Cpu.icount lags inside a page). */
  private now = 0;

  constructor(private readonly cpu: Cpu) {}

  /** Drops every compiled region (code cache flush, reset, RAM layout change). */
  flush(): void {
    this.batch = [];
    for (const page of this.pages) page.jit = null;
    this.pages.clear();
    this.stats.cacheBytes = 0;
    // Slots are handed out again: let the dropped functions go.
    for (let slot = 1; slot < this.nextSlot; slot++) this.table!.set(slot, null);
    this.nextSlot = 1;
    this.clearChain();
  }

  /** Forgets every jump cache entry (they may name dropped code): -1 matches no VA, being misaligned. */
  private clearChain(): void {
    for (let e = 0; this.chain !== null && e < CHAIN_ENTRIES; e++) this.chain[e * 4] = -1;
  }

  private bind(): boolean {
    this.stale = false;
    let best: RamRegion | null = null;
    for (const region of this.cpu.space.ramRegions) {
      if (!region.readOnly && (best === null || region.size > best.size)) best = region;
    }
    if (best === this.region) return best !== null;
    this.flush();
    this.region = best;
    if (best === null) return false;
    const memory = best.wasmMemory;
    this.cpu.dtlb.moveInto(best, best.jitAreaOffset + TLB_OFFSET);
    this.state = new Int32Array(memory.buffer, best.jitAreaOffset + STATE_OFFSET, STATE_WORDS);
    // The area may hold another engine's entries, or zeros (VA 0).
    this.chain = new Int32Array(memory.buffer, best.jitAreaOffset + CHAIN_OFFSET, CHAIN_ENTRIES * 4);
    this.clearChain();
    this.cpu.itlb.moveInto(memory.buffer, best.jitAreaOffset + ITLB_OFFSET);
    const cpu = this.cpu;
    // The register file lives in the state area from now on (compiled code reads and writes it
    // there, the interpreter through this view): entries copy no registers.
    const x = this.state.subarray(ST_X, ST_X + cpu.x.length);
    x.set(cpu.x);
    cpu.x = x;
    // So do the system registers (compiled MRS reads them: emit-sys.ts).
    const sys = new Int32Array(memory.buffer, best.jitAreaOffset + SYS_OFFSET, cpu.sys.length);
    sys.set(cpu.sys);
    cpu.sys = sys;
    // The MTE helpers (emit-mte.ts HELPERS): the interpreter's own functions, on state outside wasm.
    this.imports = {
      m: { mem: memory },
      h: {
        addg: (start: number, offset: number) => addgTag(cpu, start, offset),
        stg: (e: number, lo: number, shape: number, tag: number) => {
          storeTagEntry(cpu, e, lo, shape & 0xff, tag, shape > 0xff);
          return 0;
        },
      },
    };
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
    const dispatcher = new WebAssembly.Instance(new WebAssembly.Module(buildDispatcher(best.jitAreaOffset, this.shared)), { m: { mem: memory }, t: { tab: this.table } });
    this.dispatch = dispatcher.exports.d as DispatchFn;
    return true;
  }

  /**
   * Called by the run loop at a block entry (instruction `idx` of `page`, mapped at VA
   * (pageLo, pageHi)). Runs compiled code there if there is some, compiling it once the entry is
   * hot. Returns the instructions executed (0: none, the interpreter goes on at the same PC);
   * the PC and registers are then as the interpreter would have left them.
   */
  enter(page: CodePage, idx: number, pageLo: number, pageHi: number, budget: number): number {
    this.now = this.cpu.runEnd - budget;
    if (this.compiling !== 0 && this.now - this.submittedAt > DELIVERY_INSTRUCTIONS && !this.cpu.stopRequested) {
      this.submittedAt = this.now; // asked once per period while the compiler is busy
      this.cpu.requestStop();
    }
    let jp = page.jit;
    if (jp === null) jp = page.jit = new JitPage();
    let fn = jp.fn[idx];
    if (fn === undefined) {
      if (jp.heat[idx]! < this.hotThreshold) {
        jp.heat[idx]!++;
        return 0;
      }
      fn = this.compile(page, jp, idx);
    }
    if (fn === null || fn === PENDING) return 0;
    const cpu = this.cpu;
    const st = this.state!;
    if (cpu.codeGeneration !== this.codeGen) {
      this.codeGen = cpu.codeGeneration;
      this.clearChain();
    }
    // Chaining crosses pages without the run loop's interrupt and stop checks: off while an
    // interrupt is takeable or a stop requested (compiled code changes neither the lines, DAIF
    // nor the request, so otherwise none becomes due). Compiled ISB reads the same key.
    const irq = cpu.irqLines;
    const key = cpu.stopRequested || (irq !== 0 && ((irq & FIQ_LINE && !(cpu.daif & 0x40)) || (irq & IRQ_LINE && !(cpu.daif & 0x80)))) ? 0 : 2 | cpu.el;
    st[ST_CHAIN_KEY] = key;
    const slot = jp.slot[idx]!;
    const block = jp.block[idx]!;
    const va = (pageLo + idx * 4) | 0;
    const e = chainIndex(va) * 4;
    const chain = this.chain!;
    chain[e] = va;
    chain[e + 1] = pageHi;
    chain[e + 2] = (page.region.base + page.offset) / 4096;
    chain[e + 3] = (slot << SLOT_SHIFT) | block;
    if (jp.chainOnly[idx] !== 0) return 0;
    st[ST_CHAINED] = 0;
    st[ST_EL1H] = cpu.el === 1 && cpu.spsel === 1 ? 1 : 0;
    st[ST_NF] = cpu.nf;
    st[ST_ZF] = cpu.zf;
    st[ST_CF] = cpu.cf;
    st[ST_VF] = cpu.vf;
    st[ST_TBI_AND0] = cpu.tbiAnd0;
    st[ST_TBI_OR1] = cpu.tbiOr1;
    st[ST_RD_BASE] = cpu.rdBase;
    st[ST_WR_BASE] = cpu.wrBase;
    st[ST_MTE_ACTIVE] = cpu.mteActive;
    st[ST_SP_ALIGN] = cpu.spAlignCheck ? 1 : 0;
    const region = this.region!;
    st[ST_TAG_BASE] = region.tags !== null ? region.size : 0;
    st[ST_TAG_PLAIN] = region.tagEpochs === null && !region.dirtyLogging ? 1 : 0;
    st[ST_TAG_WRITES] = 0;
    st[ST_DATA_WRITES] = 0;
    st[ST_TAG_ACCESS] = cpu.tagAccessEnabled(cpu.el) ? 1 : 0;
    st[ST_GCR] = cpu.sysLo(Sys.GCR_EL1);
    const rgsr = (st[ST_RGSR] = cpu.sysLo(Sys.RGSR_EL1));
    st[ST_DAIF] = cpu.daif;
    st[ST_IRQ_PENDING] = (irq & IRQ_LINE ? 0x80 : 0) | (irq & FIQ_LINE ? 0x40 : 0);
    const excl = (st[ST_EXCL] = exclusiveWord(cpu.exclusivePa, region));
    const exclSize = (st[ST_EXCL_SIZE] = cpu.exclusiveSize);
    const ran = this.dispatch!(slot, pageLo, pageHi, block, budget > 0x7fffffff ? 0x7fffffff : budget);
    this.stats.entries++;
    this.stats.chained += st[ST_CHAINED]!;
    // Tag stores compiled inline count here what RamRegion.noteTagWrite counts (one page each).
    if (st[ST_TAG_WRITES] !== 0) region.activity.tagPages[ACTIVITY_GUEST]! += st[ST_TAG_WRITES]!;
    if (st[ST_DATA_WRITES] !== 0) region.activity.dataPages[ACTIVITY_GUEST]! += st[ST_DATA_WRITES]!; // DC ZVA's noteDataWrite
    if (st[ST_RGSR] !== rgsr) cpu.setSys(Sys.RGSR_EL1, st[ST_RGSR]!, 0); // IRG stepped the generator
    cpu.nf = st[ST_NF]!;
    cpu.zf = st[ST_ZF]!;
    cpu.cf = st[ST_CF]!;
    cpu.vf = st[ST_VF]!;
    cpu.pcLo = st[ST_PC_LO]!;
    cpu.pcHi = st[ST_PC_HI]!;
    cpu.daif = st[ST_DAIF]!;
    if (st[ST_EXCL] !== excl || st[ST_EXCL_SIZE] !== exclSize) {
      const word = st[ST_EXCL]!;
      cpu.exclusivePa = word === -1 ? -1 : region.base + word;
      cpu.exclusiveSize = st[ST_EXCL_SIZE]!;
    }
    this.stats.jitInstructions += ran;
    return ran;
  }

  private compile(page: CodePage, jp: JitPage, idx: number): RegionFn | null {
    if ((this.stale || this.region === null) && !this.bind()) {
      jp.fn[idx] = null;
      return null;
    }
    if (page.jit !== jp) return null; // a flush in bind() dropped it
    const region = this.region!;
    const insnAt = (i: number) => page.insns[i] ?? this.cpu.decodeSlot(page, i);
    const compiled = compileRegion(idx, insnAt, region.jitAreaOffset);
    if (compiled === null) {
      jp.fn[idx] = null;
      return null;
    }
    if (this.cpu.backgroundCompile) {
      // Interpreted until its batch is compiled off this thread and installed (submit); its other
      // entries wait for it too rather than compile regions of their own.
      for (const start of compiled.entries.keys()) if (start === idx || jp.fn[start] === undefined) jp.fn[start] = PENDING;
      this.pages.add(page);
      // Straight away when the compiler is idle; otherwise in one module with those that follow.
      if (this.batch.push({ page, jp, idx, compiled }) >= BATCH_REGIONS || this.compiling === 0) this.submit();
      return PENDING;
    }
    const bytes = buildModule([compiled.func], PARAMS, this.shared, HELPERS);
    if (this.stats.cacheBytes + bytes.length > CACHE_LIMIT_BYTES) {
      this.flush();
      this.stats.flushes++; // only these count: reset and binding flush an empty cache
      page.jit = jp; // keep this page's heat: the region is installed below
      this.pages.add(page);
      jp.fn.fill(undefined); // the page's other regions were dropped with their slots
    }
    let fn: RegionFn;
    try {
      fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), this.imports).exports.f0 as RegionFn;
    } catch {
      // A host that refuses to compile (a browser's policy, resource limits): interpret instead.
      this.stats.compileFailures++;
      jp.fn[idx] = null;
      return null;
    }
    this.install(page, jp, idx, compiled, fn, bytes.length);
    return fn;
  }

  /** Hands the waiting hot regions to the host's background compiler, one module for all. */
  submit(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const bytes = buildModule(batch.map((p) => p.compiled.func), PARAMS, this.shared, HELPERS);
    this.compiling++;
    this.submittedAt = Math.max(this.now, this.cpu.icount); // icount lags inside a page, `now` after it
    WebAssembly.compile(bytes).then(
      (module) => {
        this.compiling--;
        this.installBatch(module, batch, bytes.length);
      },
      () => {
        this.compiling--;
        this.refuse(batch);
      },
    );
  }

  /** Regions still waiting for the background compiler (submitted or not). */
  get pendingRegions(): number {
    return this.batch.length;
  }

  private installBatch(module: WebAssembly.Module, batch: Pending[], size: number): void {
    if (this.stats.cacheBytes + size > CACHE_LIMIT_BYTES) {
      this.flush();
      this.stats.flushes++;
      return; // the batch's pages went with the flush; hot code compiles again
    }
    let exports: WebAssembly.Exports;
    try {
      exports = new WebAssembly.Instance(module, this.imports).exports;
    } catch {
      this.refuse(batch);
      return;
    }
    batch.forEach((p, i) => {
      // A page dropped since (a flush, a write to it: page.jit is then another JitPage, or none) keeps its new state.
      if (p.page.jit === p.jp && p.jp.fn[p.idx] === PENDING) this.install(p.page, p.jp, p.idx, p.compiled, exports[`f${i}`] as RegionFn, size / batch.length);
    });
  }

  /** The host would not compile a batch (a browser's policy, resource limits): interpret its regions. */
  private refuse(batch: Pending[]): void {
    for (const p of batch) {
      if (p.jp.fn[p.idx] !== PENDING) continue;
      for (const start of p.compiled.entries.keys()) if (p.jp.fn[start] === PENDING) p.jp.fn[start] = null;
      this.stats.compileFailures++;
    }
  }

  /** Makes `fn`, the region compiled at entry `idx` of `page`, the code of its entries. */
  private install(page: CodePage, jp: JitPage, idx: number, compiled: CompiledRegion, fn: RegionFn, bytes: number): void {
    // A few instructions without a loop cost less interpreted than an entry from JS, but not
    // than a call from another region: such regions are compiled for chaining only.
    const chainOnly = this.hotThreshold > 0 && !compiled.loops && compiled.instructions < MIN_REGION_INSTRUCTIONS ? 1 : 0;
    const slot = this.nextSlot++;
    const table = this.table!;
    if (slot >= table.length) table.grow(table.length);
    table.set(slot, fn);
    for (const [start, block] of compiled.entries) {
      if (start !== idx && jp.fn[start] !== undefined && jp.fn[start] !== PENDING) continue;
      jp.fn[start] = fn;
      jp.slot[start] = slot;
      jp.chainOnly[start] = chainOnly;
      jp.block[start] = block;
    }
    jp.bytes += bytes;
    this.pages.add(page);
    this.stats.compiledRegions++;
    this.stats.compiledInstructions += compiled.instructions;
    this.stats.cacheBytes += bytes;
  }
}

/** The exclusive monitor as compiled code sees it (layout.ts ST_EXCL). */
function exclusiveWord(pa: number, region: RamRegion): number {
  if (pa === -1) return -1;
  return pa >= region.base && pa < region.base + region.size ? pa - region.base : -2;
}
