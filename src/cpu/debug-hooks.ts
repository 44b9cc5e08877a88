import type { Cpu } from './cpu.js';
import { Exit } from './cpu.js';
import { debugTranslate } from './debug-translate.js';
import { decode } from './decoder.js';
import type { CodePage } from './fetch.js';
import { toBig } from './int64.js';
import { Insn, JUMP } from './insn.js';

/**
 * Debugger support inside the CPU: breakpoints, watchpoints and stepping past a debug stop.
 * Nothing here runs on the interpreter's hot path, and nothing at all runs while `cpu.debug` is
 * null (no debugger attached):
 *
 * - Breakpoints never modify guest memory. A breakpoint's virtual address is resolved to the
 *   physical address of its instruction slot; when the interpreter decodes that slot (decoded code
 *   is cached per physical page, fetch.ts), `decoded` hands back a trapping executor instead of
 *   the instruction. The trap checks that the PC really is a breakpoint address (another virtual
 *   alias of the same page runs the instruction), then exits with Exit.DEBUG *before* the
 *   instruction executes. Translation changes (every TLB flush) mark the resolution stale; it is
 *   redone before the next instruction fetch that misses the instruction TLB.
 * - Watchpoints: watched pages never get data-TLB entries, so every access to them takes the slow
 *   path, whose probe (slow-access.ts) asks `watchHit` before performing anything. A hit records
 *   the stop and leaves FAULT_DEBUG in cpu.fault; `dataAbort` turns that into Exit.DEBUG instead
 *   of an exception, so the instruction has no effect and the PC stays on it.
 * - A stop leaves `skipPending`: the next `run` executes the stopped instruction once with traps
 *   suppressed (unless the debugger moved the PC), so resuming never re-reports the same stop.
 *
 * Debug stops happen before their instruction executes and are not counted as executed.
 */

/** Marker left in cpu.fault by a watchpoint hit: not an architectural fault (see dataAbort). */
export const FAULT_DEBUG = 0x200;

/** Most breakpoints and watchpoints one CPU holds (each is checked on a slow path). */
export const MAX_BREAKPOINTS = 4096;
export const MAX_WATCHPOINTS = 32;

export type WatchKind = 'write' | 'read' | 'access';

/** Why the last Exit.DEBUG happened. */
export type DebugHit =
  | { readonly kind: 'breakpoint'; readonly pc: bigint; readonly hardware: boolean }
  | { readonly kind: 'watchpoint'; readonly pc: bigint; readonly watch: WatchKind; readonly dataAddress: bigint };

interface Breakpoint {
  software: number;
  hardware: number;
  /** Physical address of the instruction slot in the current regime, null while unmapped. */
  pa: number | null;
}

interface Watchpoint {
  readonly start: bigint;
  readonly end: bigint;
  readonly kind: WatchKind;
}

const U64 = (1n << 64n) - 1n;

export class CpuDebug {
  private readonly breakpoints = new Map<bigint, Breakpoint>();
  /** Physical slot address -> number of breakpoints resolved to it. */
  private readonly trapSlots = new Map<number, number>();
  private readonly originals = new WeakMap<Insn, Insn>();
  private readonly watches: Watchpoint[] = [];
  /** Number of watchpoints: the slow path tests this before anything else. */
  watchCount = 0;
  /** A TLB flush happened: breakpoint addresses must be translated again before more code runs. */
  translationStale = false;
  /** Set while the instruction of the last stop runs once without traps. */
  suppress = false;
  skipPending = false;
  private skipLo = 0;
  private skipHi = 0;
  lastHit: DebugHit | null = null;

  constructor(private readonly cpu: Cpu) {}

  get breakpointCount(): number {
    return this.breakpoints.size;
  }

  // ---- breakpoints ----

  /** Inserts a breakpoint at virtual address `va` (gdb's Z0 when `hardware` is false, Z1 when true). */
  addBreakpoint(va: bigint, hardware: boolean): void {
    const key = va & U64;
    let bp = this.breakpoints.get(key);
    if (!bp) {
      if (this.breakpoints.size >= MAX_BREAKPOINTS) throw new RangeError(`at most ${MAX_BREAKPOINTS} breakpoints`);
      bp = { software: 0, hardware: 0, pa: null };
      this.breakpoints.set(key, bp);
      this.setSlot(bp, this.resolve(key));
    }
    if (hardware) bp.hardware++;
    else bp.software++;
  }

  /** Removes one breakpoint of that kind at `va`; false when there was none. */
  removeBreakpoint(va: bigint, hardware: boolean): boolean {
    const key = va & U64;
    const bp = this.breakpoints.get(key);
    if (!bp || (hardware ? bp.hardware : bp.software) === 0) return false;
    if (hardware) bp.hardware--;
    else bp.software--;
    if (bp.software + bp.hardware === 0) {
      this.setSlot(bp, null);
      this.breakpoints.delete(key);
    }
    return true;
  }

  /** Called by the interpreter for every newly decoded slot: a breakpointed slot gets the trap. */
  decoded(page: CodePage, idx: number, insn: Insn): Insn {
    if (this.trapSlots.size === 0) return insn;
    if (!this.trapSlots.has(page.region.base + page.offset + idx * 4)) return insn;
    const trap = new Insn(breakpointTrap, insn.word);
    this.originals.set(trap, insn);
    return trap;
  }

  /** Re-translates every breakpoint address (after a TLB flush), moving traps whose slot moved. */
  resolveAll(): void {
    this.translationStale = false;
    for (const [va, bp] of this.breakpoints) {
      const pa = this.resolve(va);
      if (pa !== bp.pa) this.setSlot(bp, pa);
    }
  }

  private resolve(va: bigint): number | null {
    return debugTranslate(this.cpu, va)?.pa ?? null;
  }

  private setSlot(bp: Breakpoint, pa: number | null): void {
    if (bp.pa !== null) {
      const left = (this.trapSlots.get(bp.pa) ?? 1) - 1;
      if (left === 0) this.trapSlots.delete(bp.pa);
      else this.trapSlots.set(bp.pa, left);
      this.invalidateSlot(bp.pa);
    }
    bp.pa = pa;
    if (pa !== null) {
      this.trapSlots.set(pa, (this.trapSlots.get(pa) ?? 0) + 1);
      this.invalidateSlot(pa);
    }
  }

  /** Drops the decoded instruction at `pa` so the next execution decodes it again. */
  private invalidateSlot(pa: number): void {
    const offset = pa % 4096;
    const page = this.cpu.codePages.get(pa - offset);
    if (page) page.insns[offset >>> 2] = undefined;
  }

  /** The breakpoint at the current PC, or undefined. */
  breakpointAtPc(): Breakpoint | undefined {
    return this.breakpoints.get(toBig(this.cpu.pcLo, this.cpu.pcHi));
  }

  originalOf(trap: Insn): Insn {
    let original = this.originals.get(trap);
    if (!original) {
      original = decode(trap.word, this.cpu.mte);
      this.originals.set(trap, original);
    }
    return original;
  }

  // ---- watchpoints ----

  /** Watches [va, va + length) for writes, reads or both (gdb's Z2, Z3, Z4). */
  addWatchpoint(va: bigint, length: number, kind: WatchKind): void {
    if (!Number.isInteger(length) || length <= 0 || length > 1 << 20) throw new RangeError(`bad watchpoint length ${length}`);
    if (this.watches.length >= MAX_WATCHPOINTS) throw new RangeError(`at most ${MAX_WATCHPOINTS} watchpoints`);
    const start = this.canonical(va);
    this.watches.push({ start, end: start + BigInt(length), kind });
    this.watchCount = this.watches.length;
    // Watched pages must lose their fast-path entries.
    this.cpu.dtlb.flush();
  }

  removeWatchpoint(va: bigint, length: number, kind: WatchKind): boolean {
    const start = this.canonical(va);
    const index = this.watches.findIndex((w) => w.start === start && w.end === start + BigInt(length) && w.kind === kind);
    if (index < 0) return false;
    this.watches.splice(index, 1);
    this.watchCount = this.watches.length;
    return true;
  }

  /** True when the 4 KiB page holding canonical VA (lo, canonHi) holds a watched byte (fillTlb). */
  watchesPage(lo: number, canonHi: number): boolean {
    const page = toBig(lo & ~0xfff, canonHi);
    return this.watches.some((w) => w.start < page + 4096n && page < w.end);
  }

  /**
   * Checks an access about to be performed (slow-access.ts probe). On a hit it records the stop
   * and sets cpu.fault = FAULT_DEBUG so the executor abandons the instruction.
   */
  watchHit(lo: number, hi: number, size: number, isWrite: boolean, isRead: boolean): boolean {
    if (this.suppress) return false;
    const start = toBig(lo, this.cpu.canonHi(hi));
    const end = start + BigInt(size);
    for (const w of this.watches) {
      if (w.start >= end || start >= w.end) continue;
      if (w.kind === 'write' ? !isWrite : w.kind === 'read' ? !isRead : false) continue;
      const cpu = this.cpu;
      this.stop({ kind: 'watchpoint', pc: toBig(cpu.pcLo, cpu.pcHi), watch: w.kind, dataAddress: start > w.start ? start : w.start });
      cpu.fault = FAULT_DEBUG;
      return true;
    }
    return false;
  }

  private canonical(va: bigint): bigint {
    const lo = Number(BigInt.asIntN(32, va));
    const hi = this.cpu.canonHi(Number(BigInt.asIntN(32, va >> 32n)));
    return toBig(lo, hi);
  }

  // ---- stopping and resuming ----

  /** Records a stop before the current instruction and makes the run loop exit. */
  stop(hit: DebugHit): void {
    const cpu = this.cpu;
    this.lastHit = hit;
    this.skipPending = true;
    this.skipLo = cpu.pcLo;
    this.skipHi = cpu.pcHi;
    cpu.exitReason = Exit.DEBUG;
  }

  /** Forgets the pending step-past (reset, or the debugger wants the next hit reported anyway). */
  clearPending(): void {
    this.skipPending = false;
    this.lastHit = null;
  }

  /**
   * `Cpu.run` while a stop is pending: executes the stopped instruction once with traps
   * suppressed, then carries on normally. If the PC moved since the stop, nothing is skipped.
   */
  runPastStop(budget: number): number {
    const cpu = this.cpu;
    this.skipPending = false;
    if (budget <= 0 || cpu.pcLo !== this.skipLo || cpu.pcHi !== this.skipHi) return cpu.run(budget);
    this.suppress = true;
    let done: number;
    try {
      done = cpu.run(1);
    } finally {
      this.suppress = false;
    }
    if (done === 0) {
      // Nothing ran (a stop request came first): keep the step-past for the next run.
      this.skipPending = true;
      return 0;
    }
    if (cpu.exitReason !== Exit.NONE || budget === 1) return done;
    return done + cpu.run(budget - 1);
  }
}

/** The executor of a breakpointed slot (see CpuDebug.decoded). */
function breakpointTrap(cpu: Cpu, insn: Insn): number {
  const debug = cpu.debug!;
  if (!debug.suppress) {
    const bp = debug.breakpointAtPc();
    if (bp) {
      debug.stop({ kind: 'breakpoint', pc: toBig(cpu.pcLo, cpu.pcHi), hardware: bp.software === 0 });
      return JUMP;
    }
  }
  const original = debug.originalOf(insn);
  return original.exec(cpu, original);
}
