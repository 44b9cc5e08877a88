import { ACTIVITY_GUEST, type RamRegion } from '../../memory/index.js';
import type { Cpu } from '../cpu.js';
import type { CodePage } from '../fetch.js';
import { storeTagEntry } from '../isa/mte-insns.js';
import { addgTag } from '../mte.js';
import { Sys } from '../sysreg-state.js';
import { compileRegion } from './compile.js';
import {
  ST_CF, ST_MTE_ACTIVE, ST_NF, ST_PC_HI, ST_PC_LO, ST_RD_BASE, ST_SP_ALIGN, ST_GCR, ST_RGSR, ST_TAG_ACCESS, ST_TAG_BASE, ST_TAG_PLAIN, ST_TAG_WRITES, ST_TBI_AND0, ST_TBI_OR1, ST_VF, ST_WR_BASE, ST_X, ST_ZF,
  STATE_OFFSET, STATE_WORDS, TLB_OFFSET,
} from './layout.js';
import { JitPage, type RegionFn } from './page.js';

/**
 * Block entries the interpreter sees before the region starting there is compiled. Linux's boot
 * (docs/jit.md) measured 64: 28 s, 200: 22 s, 300: 21 s, 500: 18-19 s, 1000: 23 s — compiling
 * (~1 ms a region) costs more than interpreting the short kernel regions seen a few hundred times.
 */
export const HOT_THRESHOLD = 500;
/** Regions shorter than this, with no loop, are left to the interpreter (docs/jit.md). */
export const MIN_REGION_INSTRUCTIONS = 16;
/** The code cache's bound: past it every compiled region is dropped (and recompiled when hot). */
export const CACHE_LIMIT_BYTES = 16 * 1024 * 1024;

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
}

/**
 * The JIT engine (docs/jit.md): counts block entries per code page, compiles hot regions to
 * WebAssembly (compile.ts) and runs them. Compiled code imports the WebAssembly.Memory of one RAM
 * region (the largest writable one), where the data TLB's keys and the register file it works on
 * live; accesses to other regions leave compiled code for the interpreter.
 */
export class Jit {
  readonly stats: JitStats = { compiledRegions: 0, compiledInstructions: 0, cacheBytes: 0, flushes: 0, jitInstructions: 0, compileFailures: 0 };
  private region: RamRegion | null = null;
  private state: Int32Array | null = null;
  private imports: WebAssembly.Imports = {};
  private shared = false;
  /** Block entries before compiling; tests set 0 so even code that runs once, and short regions, are compiled. */
  hotThreshold = HOT_THRESHOLD;
  /** The RAM layout changed (Cpu.watchRegion): choose the region again before compiling. */
  stale = true;
  private readonly pages = new Set<CodePage>();

  constructor(private readonly cpu: Cpu) {}

  /** Drops every compiled region (code cache flush, reset, RAM layout change). */
  flush(): void {
    for (const page of this.pages) page.jit = null;
    this.pages.clear();
    this.stats.cacheBytes = 0;
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
    const cpu = this.cpu;
    // The register file lives in the state area from now on (compiled code reads and writes it
    // there, the interpreter through this view): entries copy no registers.
    const x = this.state.subarray(ST_X, ST_X + cpu.x.length);
    x.set(cpu.x);
    cpu.x = x;
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
    return true;
  }

  /**
   * Called by the run loop at a block entry (instruction `idx` of `page`, mapped at VA
   * (pageLo, pageHi)). Runs compiled code there if there is some, compiling it once the entry is
   * hot. Returns the instructions executed (0: none, the interpreter goes on at the same PC);
   * the PC and registers are then as the interpreter would have left them.
   */
  enter(page: CodePage, idx: number, pageLo: number, pageHi: number, budget: number): number {
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
    if (fn === null) return 0;
    const cpu = this.cpu;
    const st = this.state!;
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
    st[ST_TAG_ACCESS] = cpu.tagAccessEnabled(cpu.el) ? 1 : 0;
    st[ST_GCR] = cpu.sysLo(Sys.GCR_EL1);
    const rgsr = (st[ST_RGSR] = cpu.sysLo(Sys.RGSR_EL1));
    const ran = fn(pageLo, pageHi, jp.block[idx]!, budget > 0x7fffffff ? 0x7fffffff : budget);
    // Tag stores compiled inline count here what RamRegion.noteTagWrite counts (one page each).
    if (st[ST_TAG_WRITES] !== 0) region.activity.tagPages[ACTIVITY_GUEST]! += st[ST_TAG_WRITES]!;
    if (st[ST_RGSR] !== rgsr) cpu.setSys(Sys.RGSR_EL1, st[ST_RGSR]!, 0); // IRG stepped the generator
    cpu.nf = st[ST_NF]!;
    cpu.zf = st[ST_ZF]!;
    cpu.cf = st[ST_CF]!;
    cpu.vf = st[ST_VF]!;
    cpu.pcLo = st[ST_PC_LO]!;
    cpu.pcHi = st[ST_PC_HI]!;
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
    const compiled = compileRegion(idx, insnAt, region.jitAreaOffset, this.shared);
    // A few instructions without a loop run faster interpreted than through an entry into wasm.
    if (compiled === null || (this.hotThreshold > 0 && !compiled.loops && compiled.instructions < MIN_REGION_INSTRUCTIONS)) {
      jp.fn[idx] = null;
      return null;
    }
    if (this.stats.cacheBytes + compiled.bytes.length > CACHE_LIMIT_BYTES) {
      this.flush();
      this.stats.flushes++; // only these count: reset and binding flush an empty cache
      page.jit = jp; // keep this page's bookkeeping: the region is installed below
    }
    let fn: RegionFn;
    try {
      fn = new WebAssembly.Instance(new WebAssembly.Module(compiled.bytes), this.imports).exports.f as RegionFn;
    } catch {
      // A host that refuses to compile (a browser's policy, resource limits): interpret instead.
      this.stats.compileFailures++;
      jp.fn[idx] = null;
      return null;
    }
    for (const [start, block] of compiled.entries) {
      if (start !== idx && jp.fn[start] !== undefined) continue;
      jp.fn[start] = fn;
      jp.block[start] = block;
    }
    jp.bytes += compiled.bytes.length;
    this.pages.add(page);
    this.stats.compiledRegions++;
    this.stats.compiledInstructions += compiled.instructions;
    this.stats.cacheBytes += compiled.bytes.length;
    return fn;
  }
}
