import type { PhysicalAddressSpace, RamRegion } from '../memory/index.js';
import type { CpuDebug } from './debug-hooks.js';
import { decode } from './decoder.js';
import { takeException, takeSyncException } from './exception-entry.js';
import { EC, FSC, VECTOR } from './exceptions.js';
import { Insn, NEXT } from './insn.js';
import { entryOffset, tagCheckFails, tlbEntry } from './fast-access.js';
import { fetchCodePage, type CodePage } from './fetch.js';
import { Jit } from './jit/engine.js';
import { DataTlb, FetchTlb, SET_EL0_READ, SET_EL0_WRITE, SET_EL1_READ, SET_EL1_WRITE, TLB_SIZE } from './mmu/tlb.js';
import type { TranslationRegime } from './mmu/translate.js';
import { SLOT_COUNT, SP_SLOT } from './regs.js';
import { slowLoad, slowStore } from './slow-access.js';
import { Sys, SYS_COUNT, SYS_NAMES, SYS_RESET } from './sysreg-state.js';

/** Why `run` returned before its budget ran out. */
export const Exit = {
  NONE: 0,
  /** HVC #imm from EL1: a hypercall for the VMM (x0.. hold the arguments). */
  HVC: 1,
  /** HLT #0xF000 from EL1 with semihosting enabled. */
  SEMIHOSTING: 2,
  /** WFI/WFE with nothing to do: the VMM may idle until an event. */
  WFI: 3,
  /** A breakpoint or single step requested by the debugger. */
  DEBUG: 4,
  /** `requestStop` was called (another thread or a callback asked the vCPU to return). */
  STOP: 5,
  /**
   * A system register write moved a timer deadline (the arch timer lives in src/hv): the run
   * returns after that instruction so the hypervisor can re-plan the slice to end at the deadline.
   */
  DEADLINE: 6,
} as const;

/**
 * System registers implemented outside the core (the GIC CPU interface, the generic timer):
 * MRS/MSR of an encoding the core does not know are forwarded here. `access` returns EL0_OK,
 * EL0_TRAP or EL0_UNDEF (sysregs.ts) for the current EL; `read` leaves the value in int64.R.
 */
export interface ExternalSysRegs {
  /** The GIC CPU interface is reached through system registers (ID_AA64PFR0_EL1.GIC = 1). */
  readonly gicSystemRegisters?: boolean;
  access(cpu: Cpu, key: number, isRead: boolean): number;
  read(cpu: Cpu, key: number): void;
  write(cpu: Cpu, key: number, lo: number, hi: number): void;
}

/** Interrupt request lines into the core (driven by the interrupt controller). */
export const IRQ_LINE = 1;
export const FIQ_LINE = 2;

export interface CpuOptions {
  /** The VM exposes MTE (ID_AA64PFR1_EL1.MTE = 3); otherwise MTE instructions are UNDEFINED. */
  readonly mte: boolean;
  /** Semihosting via HLT #0xF000 exits to the VMM; otherwise HLT is UNDEFINED. */
  readonly semihosting?: boolean;
  /** `jit` compiles hot guest code to WebAssembly (docs/jit.md); `interp` (the default) only interprets. */
  readonly engine?: CpuEngine;
}

/** The execution engines: the interpreter (the reference) or the JIT over it. */
export type CpuEngine = 'interp' | 'jit';
export const CPU_ENGINES: readonly CpuEngine[] = ['interp', 'jit'];

/** Observer of tag-check failures (the monitor, the web viewer, --stats). */
export interface TagFaultInfo {
  readonly pcLo: number;
  readonly pcHi: number;
  readonly addrLo: number;
  readonly addrHi: number;
  readonly logicalTag: number;
  readonly allocationTag: number;
  readonly size: number;
  readonly write: boolean;
  readonly sync: boolean;
  readonly el: number;
}

/**
 * An AArch64 core (EL0 and EL1, A64 integer ISA, stage-1 MMU, FEAT_MTE2/MTE3) over a physical
 * address space. The interpreter decodes each instruction once into an Insn cached per physical
 * page; memory accesses go through a direct-mapped software TLB whose hit path is a key compare.
 * Faults are values (`fault` != 0), never thrown.
 */
export class Cpu {
  /**
   * General registers as (lo, hi) int32 pairs; see regs.ts for slot numbers. The JIT moves them
   * into its state area (Jit.bind: a view of guest RAM's wasm memory, which never grows), so
   * entering compiled code copies no registers; keep no reference to the array across a run.
   */
  x: Int32Array<ArrayBufferLike> = new Int32Array(SLOT_COUNT * 2);
  pcLo = 0;
  pcHi = 0;
  nf = 0;
  zf = 0;
  cf = 0;
  vf = 0;
  /** PSTATE fields. daif keeps the SPSR bit positions (D=9, A=8, I=7, F=6). */
  el = 1;
  spsel = 1;
  daif = 0x3c0;
  tco = 0;
  pan = 0;
  uao = 0;
  dit = 0;
  ssbs = 0;
  il = 0;
  /**
   * Plain-valued system registers as (lo, hi) pairs, indexed by Sys. With the JIT, a view of its
   * state area (jit/engine.ts bind), as `x` is: compiled MRS reads them there.
   */
  sys: Int32Array<ArrayBufferLike> = new Int32Array(SYS_COUNT * 2);
  /**
   * SIMD&FP registers V0..V31: 16 bytes each, little-endian, in one 512-byte buffer (Vn at byte
   * 16n) seen through typed views of every lane size (docs/fp-simd.md, "State layout").
   */
  readonly v = new Int32Array(128);
  readonly vb = new Uint8Array(this.v.buffer);
  readonly vh = new Uint16Array(this.v.buffer);
  readonly vw = new Uint32Array(this.v.buffer);
  readonly vview = new DataView(this.v.buffer);
  /** FPCR and FPSR (the bits QEMU implements; FPSR.QC is bit 27). */
  fpcr = 0;
  fpsr = 0;

  // Derived from system registers and PSTATE by updateControl().
  mmuOn = false;
  alignCheck = false;
  spAlignCheck = false;
  tbi0 = false;
  tbi1 = false;
  tcma0 = false;
  tcma1 = false;
  /** Top-byte canonicalisation: hi & tbiAnd0 for the lower half, hi | tbiOr1 for the upper. */
  tbiAnd0 = -1;
  tbiOr1 = 0;
  /** Tag checks may fail at the current EL: MTE on, ATA, TCF != 0, TCO clear. */
  mteActive = 0;
  /** Data TLB set bases for the current EL. */
  rdBase = SET_EL1_READ * TLB_SIZE;
  wrBase = SET_EL1_WRITE * TLB_SIZE;

  /** Fault of the last access: 0 or 0x100 | FSC, with the faulting VA and direction. */
  fault = 0;
  faultLo = 0;
  faultHi = 0;
  faultWrite = 0;
  /** Cache-maintenance instruction fault (ESR.CM). */
  faultCm = 0;
  /** High word of the last 64-bit load. */
  ldHi = 0;
  /** Exclusive monitor: physical address and size of the last load-exclusive, -1 when open. */
  exclusivePa = -1;
  exclusiveSize = 0;

  exitReason: number = Exit.NONE;
  /** The immediate of the instruction that exited (HVC #imm, HLT #imm). */
  exitImm = 0;
  /** The executor changed translation or EL: re-translate the PC before the next instruction. */
  refetch = false;
  /** Instructions executed since reset. */
  icount = 0;
  /** Tag-check failures since reset (synchronous + asynchronous). */
  tagFaultCount = 0;
  onTagFault: ((info: TagFaultInfo) => void) | null = null;
  /** Asserted interrupt lines (IRQ_LINE | FIQ_LINE); taken at instruction boundaries when unmasked. */
  irqLines = 0;
  /** Counter ticks that passed while the vCPU idled in WFI (the virtual counter is icount + idleTicks). */
  idleTicks = 0;
  sysregHooks: ExternalSysRegs | null = null;
  /** Breakpoints, watchpoints and step-past state of an attached debugger (debug-hooks.ts); null: none. */
  debug: CpuDebug | null = null;
  /** requestStop was called: the run loop returns at its next page change, refetch or (with the JIT) block entry; chaining and compiled ISB stop too. */
  stopRequested = false;

  readonly dtlb = new DataTlb();
  readonly itlb = new FetchTlb();
  readonly regime: TranslationRegime = {
    mmuOn: false, tcrLo: 0, tcrHi: 0, ttbr0Lo: 0, ttbr0Hi: 0, ttbr1Lo: 0, ttbr1Hi: 0, mairLo: 0, mairHi: 0, wxn: false,
  };
  /** Decoded code, per physical page address. */
  readonly codePages = new Map<number, CodePage>();
  /**
   * Bumped whenever decoded or compiled code is dropped (a write to a code page, a RAM change):
   * the JIT's jump cache (jit/chain.ts), which leads from VAs to compiled code, is then emptied.
   */
  codeGeneration = 0;
  readonly mte: boolean;
  readonly semihosting: boolean;
  /** The JIT, when the engine is `jit`. */
  jit: Jit | null = null;
  /**
   * The JIT compiles hot regions off this thread (WebAssembly.compile), in batches handed over at
   * the end of each run() and installed when the host's event loop delivers them; meanwhile they
   * are interpreted. Hosts whose run loop yields (the VMM) turn it on; off, compiling is synchronous.
   */
  backgroundCompile = false;
  /** icount + the budget at the start of run(): less the budget left, the count at any point of it (the JIT's). */
  runEnd = 0;

  constructor(
    readonly space: PhysicalAddressSpace,
    options: CpuOptions,
  ) {
    this.mte = options.mte;
    this.semihosting = options.semihosting ?? true;
    this.setEngine(options.engine ?? 'interp');
    for (const region of space.ramRegions) this.watchRegion(region);
    this.reset();
  }

  /** Architectural reset: EL1h, interrupts masked, MMU off, registers zero, PC = 0. */
  reset(): void {
    this.x.fill(0);
    this.sys.fill(0);
    this.v.fill(0);
    this.fpcr = this.fpsr = 0;
    for (const name of SYS_NAMES) {
      const value = SYS_RESET[name];
      if (value) this.setSys(Sys[name], value[0], value[1]);
    }
    this.pcLo = 0;
    this.pcHi = 0;
    this.nf = this.zf = this.cf = this.vf = 0;
    this.el = 1;
    this.spsel = 1;
    this.daif = 0x3c0;
    this.tco = this.pan = this.uao = this.dit = this.ssbs = this.il = 0;
    this.exclusivePa = -1;
    this.icount = 0;
    this.idleTicks = 0;
    this.irqLines = 0;
    this.tagFaultCount = 0;
    this.codePages.clear();
    this.codeGeneration++;
    this.jit?.flush();
    this.flushTlb();
    this.updateControl();
  }

  /** Chooses the execution engine; takes effect at the next `run`. */
  setEngine(engine: CpuEngine): void {
    if ((engine === 'jit') === (this.jit !== null)) return;
    this.jit?.flush();
    this.jit = engine === 'jit' ? new Jit(this) : null;
  }

  /** Makes decoded code of a region follow writes to it (DMA, debugger, migration). */
  watchRegion(region: RamRegion): void {
    region.onCodeWrite = (page) => {
      const code = this.codePages.get(region.base + page * 4096);
      // The run loop may still hold the page object: its compiled code must not run again.
      if (code) code.jit = null;
      this.codePages.delete(region.base + page * 4096);
      this.itlb.flush();
      this.codeGeneration++;
    };
    // Called again when RAM changed under the decoded pages (memoryChanged: restore, migration).
    this.codeGeneration++;
    if (this.jit !== null) this.jit.stale = true;
  }

  // ---- system register storage ----

  sysLo(index: number): number {
    return this.sys[index * 2]!;
  }

  sysHi(index: number): number {
    return this.sys[index * 2 + 1]!;
  }

  setSys(index: number, lo: number, hi: number): void {
    this.sys[index * 2] = lo;
    this.sys[index * 2 + 1] = hi;
  }

  // ---- PSTATE ----

  /** Moves to (el, spsel), banking the stack pointer, and recomputes derived state. */
  setElSp(el: number, spsel: number): void {
    const x = this.x;
    const oldBank = this.el === 0 || this.spsel === 0 ? Sys.SP_EL0 : Sys.SP_EL1;
    this.setSys(oldBank, x[SP_SLOT * 2]!, x[SP_SLOT * 2 + 1]!);
    this.el = el;
    this.spsel = spsel;
    const newBank = el === 0 || spsel === 0 ? Sys.SP_EL0 : Sys.SP_EL1;
    x[SP_SLOT * 2] = this.sysLo(newBank);
    x[SP_SLOT * 2 + 1] = this.sysHi(newBank);
    this.updateControl();
  }

  /** SP_EL0 / SP_EL1 as stored, reading the live SP slot for the selected one. */
  bankedSp(index: number): [number, number] {
    const live = this.el === 0 || this.spsel === 0 ? Sys.SP_EL0 : Sys.SP_EL1;
    if (index === live) return [this.x[SP_SLOT * 2]!, this.x[SP_SLOT * 2 + 1]!];
    return [this.sysLo(index), this.sysHi(index)];
  }

  setBankedSp(index: number, lo: number, hi: number): void {
    const live = this.el === 0 || this.spsel === 0 ? Sys.SP_EL0 : Sys.SP_EL1;
    if (index === live) {
      this.x[SP_SLOT * 2] = lo;
      this.x[SP_SLOT * 2 + 1] = hi;
    } else {
      this.setSys(index, lo, hi);
    }
  }

  setPan(pan: number): void {
    if (pan === this.pan) return;
    this.pan = pan;
    this.dtlb.flushSet(SET_EL1_READ);
    this.dtlb.flushSet(SET_EL1_WRITE);
  }

  setTco(tco: number): void {
    this.tco = tco;
    this.updateControl();
  }

  /**
   * Recomputes everything derived from SCTLR_EL1, TCR_EL1 and PSTATE. Called after any write that
   * may change them; TLB flushes are the caller's job (they are needed only for translation
   * changes, not for TCO or EL changes).
   */
  updateControl(): void {
    const sctlrLo = this.sysLo(Sys.SCTLR_EL1);
    const tcrLo = this.sysLo(Sys.TCR_EL1);
    const tcrHi = this.sysHi(Sys.TCR_EL1);
    this.mmuOn = (sctlrLo & 1) !== 0;
    this.alignCheck = (sctlrLo & 2) !== 0;
    this.spAlignCheck = this.el === 0 ? (sctlrLo & 0x10) !== 0 : (sctlrLo & 0x8) !== 0;
    this.tbi0 = (tcrHi & (1 << 5)) !== 0;
    this.tbi1 = (tcrHi & (1 << 6)) !== 0;
    this.tcma0 = (tcrHi & (1 << 25)) !== 0;
    this.tcma1 = (tcrHi & (1 << 26)) !== 0;
    this.tbiAnd0 = this.tbi0 ? 0x00ffffff : -1;
    this.tbiOr1 = this.tbi1 ? 0xff000000 | 0 : 0;
    const r = this.regime;
    r.mmuOn = this.mmuOn;
    r.tcrLo = tcrLo;
    r.tcrHi = tcrHi;
    r.ttbr0Lo = this.sysLo(Sys.TTBR0_EL1);
    r.ttbr0Hi = this.sysHi(Sys.TTBR0_EL1);
    r.ttbr1Lo = this.sysLo(Sys.TTBR1_EL1);
    r.ttbr1Hi = this.sysHi(Sys.TTBR1_EL1);
    r.mairLo = this.sysLo(Sys.MAIR_EL1);
    r.mairHi = this.sysHi(Sys.MAIR_EL1);
    r.wxn = (sctlrLo & (1 << 19)) !== 0;
    this.mteActive = this.tagCheckMode(this.el) !== 0 && this.tco === 0 ? 1 : 0;
    this.rdBase = (this.el === 0 ? SET_EL0_READ : SET_EL1_READ) * TLB_SIZE;
    this.wrBase = (this.el === 0 ? SET_EL0_WRITE : SET_EL1_WRITE) * TLB_SIZE;
  }

  /** Allocation tag access enabled for an EL (SCTLR_EL1.ATA / ATA0) on an MTE VM. */
  tagAccessEnabled(el: number): boolean {
    if (!this.mte) return false;
    return (this.sysHi(Sys.SCTLR_EL1) & (el === 0 ? 1 << 10 : 1 << 11)) !== 0;
  }

  /** The tag-check-fault mode for accesses made as `el` (TCF or TCF0), 0 when checks are off. */
  tagCheckMode(el: number): number {
    if (!this.tagAccessEnabled(el)) return 0;
    const sctlrHi = this.sysHi(Sys.SCTLR_EL1);
    return el === 0 ? (sctlrHi >>> 6) & 3 : (sctlrHi >>> 8) & 3;
  }

  flushTlb(): void {
    this.dtlb.flush();
    this.itlb.flush();
    // Debugger: breakpoint addresses are re-translated before the next fetch (debug-hooks.ts).
    if (this.debug !== null) this.debug.translationStale = true;
  }

  /**
   * TLBI by VA (Xt = lo, hi: VA[55:12] in bits 43:0): both TLBs drop only what may translate
   * that page (mmu/tlb.ts flushVaIn). Linux's boot issues ~49 K of these; flushing everything
   * each time sent compiled code back to the interpreter for every page it touched next.
   */
  flushTlbVa(lo: number, hi: number): void {
    this.dtlb.flushVa(lo, hi);
    this.itlb.flushVa(lo, hi);
    if (this.debug !== null) this.debug.translationStale = true;
  }

  /** Dirty logging started or was harvested: writes must be seen again. */
  writeProtectAll(): void {
    this.dtlb.flushSet(SET_EL0_WRITE);
    this.dtlb.flushSet(SET_EL1_WRITE);
  }

  requestStop(): void {
    this.stopRequested = true;
  }

  // ---- data access fast paths (slow paths in slow-access.ts) ----

  /** Canonical high word: top byte replaced per TBI so tagged pointers share TLB entries. */
  canonHi(hi: number): number {
    return (hi & 0x00800000) !== 0 ? hi | this.tbiOr1 : hi & this.tbiAnd0;
  }

  ld8(lo: number, hi: number): number {
    const e = tlbEntry(this, lo, hi, this.rdBase, 1);
    if (e < 0) return slowLoad(this, lo, hi, 1, 0);
    const off = entryOffset(this, e, lo);
    if (tagCheckFails(this, e, off, lo, hi, 1, false)) return 0;
    return this.dtlb.view[e]!.getUint8(off);
  }

  ld16(lo: number, hi: number): number {
    const e = tlbEntry(this, lo, hi, this.rdBase, 2);
    if (e < 0) return slowLoad(this, lo, hi, 2, 0);
    const off = entryOffset(this, e, lo);
    if (tagCheckFails(this, e, off, lo, hi, 2, false)) return 0;
    return this.dtlb.view[e]!.getUint16(off, true);
  }

  ld32(lo: number, hi: number): number {
    const e = tlbEntry(this, lo, hi, this.rdBase, 4);
    if (e < 0) return slowLoad(this, lo, hi, 4, 0);
    const off = entryOffset(this, e, lo);
    if (tagCheckFails(this, e, off, lo, hi, 4, false)) return 0;
    return this.dtlb.view[e]!.getInt32(off, true);
  }

  /** 64-bit load: returns the low word, the high word is in `ldHi`. */
  ld64(lo: number, hi: number): number {
    const e = tlbEntry(this, lo, hi, this.rdBase, 8);
    if (e < 0) return slowLoad(this, lo, hi, 8, 0);
    const off = entryOffset(this, e, lo);
    if (tagCheckFails(this, e, off, lo, hi, 8, false)) return 0;
    const view = this.dtlb.view[e]!;
    this.ldHi = view.getInt32(off + 4, true);
    return view.getInt32(off, true);
  }

  st8(lo: number, hi: number, value: number): void {
    const e = tlbEntry(this, lo, hi, this.wrBase, 1);
    if (e < 0) return slowStore(this, lo, hi, 1, value, 0, 0);
    const off = entryOffset(this, e, lo);
    if (!tagCheckFails(this, e, off, lo, hi, 1, true)) this.dtlb.view[e]!.setUint8(off, value);
  }

  st16(lo: number, hi: number, value: number): void {
    const e = tlbEntry(this, lo, hi, this.wrBase, 2);
    if (e < 0) return slowStore(this, lo, hi, 2, value, 0, 0);
    const off = entryOffset(this, e, lo);
    if (!tagCheckFails(this, e, off, lo, hi, 2, true)) this.dtlb.view[e]!.setUint16(off, value, true);
  }

  st32(lo: number, hi: number, value: number): void {
    const e = tlbEntry(this, lo, hi, this.wrBase, 4);
    if (e < 0) return slowStore(this, lo, hi, 4, value, 0, 0);
    const off = entryOffset(this, e, lo);
    if (!tagCheckFails(this, e, off, lo, hi, 4, true)) this.dtlb.view[e]!.setInt32(off, value, true);
  }

  st64(lo: number, hi: number, vlo: number, vhi: number): void {
    const e = tlbEntry(this, lo, hi, this.wrBase, 8);
    if (e < 0) return slowStore(this, lo, hi, 8, vlo, vhi, 0);
    const off = entryOffset(this, e, lo);
    if (tagCheckFails(this, e, off, lo, hi, 8, true)) return;
    const view = this.dtlb.view[e]!;
    view.setInt32(off, vlo, true);
    view.setInt32(off + 4, vhi, true);
  }

  /**
   * The fast paths call this only when the first granule's tag differs from the pointer's or the
   * access spans two granules, so a matching access costs one compare.
   * Checks the granules of an in-page access against the pointer's logical tag. Returns true when
   * a synchronous tag-check fault was raised (the access must not happen); an asynchronous
   * failure is recorded in TFSR and the access proceeds.
   */
  tagMismatch(tags: Uint8Array, off: number, lo: number, hi: number, size: number, write: boolean): boolean {
    const upper = (hi & 0x00800000) !== 0;
    if (upper ? !this.tbi1 : !this.tbi0) return false;
    const logical = (hi >>> 24) & 0xf;
    if (upper ? this.tcma1 && logical === 15 : this.tcma0 && logical === 0) return false;
    const first = off >>> 4;
    const last = (off + size - 1) >>> 4;
    for (let g = first; g <= last; g++) {
      const allocation = (tags[g >>> 1]! >>> ((g & 1) << 2)) & 0xf;
      if (allocation !== logical) {
        const faultLo = g === first ? lo : ((lo & ~0xf) + (g - first) * 16) | 0;
        return this.tagCheckFailed(faultLo, hi, logical, allocation, size, write, this.el);
      }
    }
    return false;
  }

  /** Applies the TCF mode of `el` to a failed check. Returns true if a sync fault was raised. */
  tagCheckFailed(lo: number, hi: number, logical: number, allocation: number, size: number, write: boolean, el: number): boolean {
    const mode = this.tagCheckMode(el);
    const sync = mode === 1 || (mode === 3 && !write);
    this.tagFaultCount++;
    this.onTagFault?.({ pcLo: this.pcLo, pcHi: this.pcHi, addrLo: lo, addrHi: hi, logicalTag: logical, allocationTag: allocation, size, write, sync, el });
    if (sync) {
      this.setFault(FSC.TAG_CHECK, lo, hi, write);
      return true;
    }
    const reg = el === 0 ? Sys.TFSRE0_EL1 : Sys.TFSR_EL1;
    this.setSys(reg, this.sysLo(reg) | ((hi & 0x00800000) !== 0 ? 2 : 1), this.sysHi(reg));
    return false;
  }

  setFault(fsc: number, lo: number, hi: number, write: boolean): void {
    this.fault = 0x100 | fsc;
    this.faultLo = lo;
    this.faultHi = hi;
    this.faultWrite = write ? 1 : 0;
  }

  // ---- the interpreter loop ----

  /**
   * Executes up to `budget` instructions. Returns the number executed; `exitReason` says why it
   * stopped early. Exceptions taken inside the guest do not stop it.
   */
  run(budget: number): number {
    // Debugger: resuming from a breakpoint/watchpoint stop first steps past it (debug-hooks.ts).
    if (this.debug !== null && this.debug.skipPending) return this.debug.runPastStop(budget);
    this.exitReason = Exit.NONE;
    this.runEnd = this.icount + budget;
    // Breakpoints, watchpoints and single-step run in the interpreter only.
    const jit = this.debug === null ? this.jit : null;
    let remaining = budget;
    while (remaining > 0) {
      if (this.stopRequested) {
        this.stopRequested = false;
        this.exitReason = Exit.STOP;
        break;
      }
      this.refetch = false;
      if (this.irqLines !== 0 && this.takeInterrupt()) continue;
      const page = this.pcLo & 3 || this.il ? null : fetchCodePage(this);
      if (page === null) {
        this.fetchFailed();
        remaining--;
        this.icount++;
        continue;
      }
      const insns = page.insns;
      const pageLo = this.pcLo & ~0xfff;
      const pageHi = this.pcHi;
      let idx = (this.pcLo & 0xfff) >>> 2;
      const before = remaining;
      // The JIT is tried at block entries: entering the page and after a branch within it.
      // After compiled code hands an instruction to the interpreter, the JIT is tried again
      // right after it (jitResume).
      let tryJit = jit !== null;
      let jitResume = false;
      for (;;) {
        if (tryJit) {
          tryJit = false;
          // Compiled code may leave to another region's entry in the page: enter it at once.
          let left = false;
          for (let ran = jit!.enter(page, idx, pageLo, pageHi, remaining); ran !== 0; ran = jit!.enter(page, idx, pageLo, pageHi, remaining)) {
            remaining -= ran;
            left = remaining <= 0 || this.pcHi !== pageHi || (this.pcLo & ~0xfff) !== pageLo || (this.pcLo & 3) !== 0;
            if (left) break;
            idx = (this.pcLo & 0xfff) >>> 2;
            jitResume = true;
          }
          if (left) break;
          if (this.stopRequested) {
            // Honoured at block entries too (the JIT asks so while its background compile is due: engine.ts).
            this.pcLo = pageLo + (idx << 2);
            break;
          }
        }
        let insn = insns[idx];
        if (insn === undefined) insn = this.decodeSlot(page, idx);
        this.pcLo = pageLo + (idx << 2);
        remaining--;
        if (insn.exec(this, insn) === NEXT) {
          idx++;
          if (jitResume) {
            jitResume = false;
            tryJit = true;
          }
          if (idx < 1024 && remaining > 0) continue;
          this.pcLo = pageLo + (idx << 2);
          if (idx === 1024) this.advancePastPage(pageLo);
          break;
        }
        if (remaining <= 0 || this.refetch || this.exitReason !== Exit.NONE) break;
        if (this.pcHi !== pageHi || (this.pcLo & ~0xfff) !== pageLo || (this.pcLo & 3) !== 0) break;
        idx = (this.pcLo & 0xfff) >>> 2;
        tryJit = jit !== null;
      }
      this.icount += before - remaining;
      if (this.exitReason !== Exit.NONE) {
        // Debug stops happen before their instruction executes (debug-hooks.ts): it did not run.
        if (this.exitReason === Exit.DEBUG) {
          remaining++;
          this.icount--;
        }
        break;
      }
    }
    if (this.jit !== null && this.jit.pendingRegions !== 0) this.jit.submit();
    return budget - remaining;
  }

  /** The virtual counter (CNTVCT/CNTPCT): one tick per instruction plus time spent idle. */
  counter(): number {
    return this.icount + this.idleTicks;
  }

  /** An unmasked interrupt line is asserted: take the IRQ/FIQ exception (FIQ first). */
  private takeInterrupt(): boolean {
    if ((this.irqLines & FIQ_LINE) !== 0 && (this.daif & 0x40) === 0) {
      takeException(this, VECTOR.FIQ, 0, this.pcLo, this.pcHi);
      return true;
    }
    if ((this.irqLines & IRQ_LINE) !== 0 && (this.daif & 0x80) === 0) {
      takeException(this, VECTOR.IRQ, 0, this.pcLo, this.pcHi);
      return true;
    }
    return false;
  }

  private advancePastPage(pageLo: number): void {
    // pcLo already holds pageLo + 4096 (wrapped to int32); carry into the high word at 2^32.
    this.pcLo |= 0;
    if (pageLo === (0xfffff000 | 0)) this.pcHi = (this.pcHi + 1) | 0;
  }

  /** The decoded instruction in slot `idx` of `page`, decoding it now if needed. */
  decodeSlot(page: CodePage, idx: number): Insn {
    let insn = decode(page.view.getInt32(page.offset + idx * 4, true), this.mte);
    // Debugger: a breakpointed slot decodes to a trapping executor (debug-hooks.ts).
    if (this.debug !== null) insn = this.debug.decoded(page, idx, insn);
    page.insns[idx] = insn;
    return insn;
  }

  /** The PC could not be fetched: misaligned, illegal state, or a fetch fault already recorded. */
  private fetchFailed(): void {
    if (this.il) {
      takeSyncException(this, 0x0e, 0);
    } else if (this.pcLo & 3) {
      this.setSys(Sys.FAR_EL1, this.pcLo, this.pcHi);
      takeSyncException(this, EC.PC_ALIGN, 0);
    } else {
      // fetchCodePage recorded the abort in fault/faultLo/faultHi.
      const fsc = this.fault & 0xff;
      this.fault = 0;
      this.setSys(Sys.FAR_EL1, this.faultLo, this.faultHi);
      takeSyncException(this, this.el === 0 ? EC.IABT_LOWER : EC.IABT_SAME, fsc);
    }
  }
}
