import { CpuDebug, type DebugHit, type WatchKind } from '../../cpu/index.js';
import type { MachineState, StopReason, VirtMachine } from '../machine.js';
import { DebugError, hex64 } from './errors.js';
import { InspectionGate } from './inspection.js';
import { guestMappings, mapsText, smapsText, type GuestMapping } from './mappings.js';
import { DebugMemoryView } from './memory-view.js';
import { RegisterFile } from './registers.js';

/** Why the machine last stopped, with the breakpoint or watchpoint that did it. */
export interface DebugStop {
  readonly reason: StopReason;
  readonly hit: DebugHit | null;
}

const debuggers = new WeakMap<VirtMachine, Debugger>();

/**
 * The debugger model of one machine, shared by every front end (gdb stub, monitor, a future web
 * viewer): run control, registers, memory and tags through the debug access class, breakpoints
 * and watchpoints (src/cpu/debug-hooks.ts), and the guest's mappings. Browser-safe.
 *
 * Run control maps onto the machine: pause/resume/step are VirtMachine's, and a breakpoint or
 * watchpoint hit pauses it with reason 'breakpoint' / 'watchpoint' (event 'stop').
 *
 * Every front end goes through here, so this is where a protected VM's vCPU is hidden
 * (inspection.ts): registers, page-table walks, steps, breakpoints and watchpoints are refused
 * (DebugError 'denied') without the debug permission, and audited with it.
 */
export class Debugger {
  readonly memory: DebugMemoryView;
  readonly registers: RegisterFile;
  readonly inspection: InspectionGate;
  private readonly hooks: CpuDebug;
  private last: DebugStop | null = null;
  /** Bumped by every debugger write and reset: the mapping cache is keyed on it. */
  private generation = 0;
  private mappingCache: { key: string; value: { mappings: GuestMapping[]; truncated: boolean } } | null = null;

  /** The machine's debugger, created (and attached to its vCPU) on first use. */
  static of(machine: VirtMachine): Debugger {
    let debug = debuggers.get(machine);
    if (!debug) {
      debug = new Debugger(machine);
      debuggers.set(machine, debug);
    }
    return debug;
  }

  private constructor(readonly machine: VirtMachine) {
    const cpu = machine.vcpu.cpu;
    this.hooks = cpu.debug ?? new CpuDebug(cpu);
    cpu.debug = this.hooks;
    const changed = (): void => void this.generation++;
    this.inspection = new InspectionGate(machine);
    const gate = (what: string): void => this.inspection.check(what);
    this.memory = new DebugMemoryView(cpu, machine.vm.memory, changed, gate);
    this.registers = new RegisterFile(cpu, changed, gate);
    machine.events.on('stop', ({ reason }) => {
      this.last = { reason, hit: reason === 'breakpoint' || reason === 'watchpoint' ? this.hooks.lastHit : null };
    });
    machine.events.on('resume', () => {
      this.last = null;
    });
    machine.events.on('reset', () => {
      this.hooks.clearPending();
      changed();
    });
  }

  get state(): MachineState {
    return this.machine.state;
  }

  /** The last stop while the machine is paused, else null. */
  get lastStop(): DebugStop | null {
    return this.machine.state === 'paused' ? this.last : null;
  }

  /** Pauses a running machine; false when it was not running. */
  pause(): boolean {
    if (this.machine.state !== 'running') return false;
    this.machine.pause('pause');
    return true;
  }

  resume(): void {
    if (this.lastStop?.hit) this.inspection.check(`continue from a ${this.lastStop.reason}`);
    this.machine.resume();
  }

  /** Executes one instruction of a paused machine (event 'stop' with reason 'step', or whatever stopped it). */
  step(): void {
    this.inspection.check('single step');
    this.machine.step();
  }

  get pc(): bigint {
    this.inspection.check('read of the pc');
    return this.machine.vcpu.pc;
  }

  // ---- breakpoints and watchpoints (virtual addresses) ----

  addBreakpoint(va: bigint, hardware: boolean): void {
    this.inspection.check(`${hardware ? 'hardware ' : ''}breakpoint at ${hex64(va)}`);
    try {
      this.hooks.addBreakpoint(va, hardware);
    } catch (error) {
      if (error instanceof RangeError) throw new DebugError('limit', error.message);
      throw error;
    }
  }

  removeBreakpoint(va: bigint, hardware: boolean): void {
    if (!this.hooks.removeBreakpoint(va, hardware)) throw new DebugError('not-found', `no ${hardware ? 'hardware ' : ''}breakpoint at ${hex64(va)}`);
  }

  addWatchpoint(va: bigint, length: number, kind: WatchKind): void {
    this.inspection.check(`${kind} watchpoint at ${hex64(va)}+${length}`);
    try {
      this.hooks.addWatchpoint(va, length, kind);
    } catch (error) {
      if (error instanceof RangeError) throw new DebugError('limit', error.message);
      throw error;
    }
  }

  removeWatchpoint(va: bigint, length: number, kind: WatchKind): void {
    if (!this.hooks.removeWatchpoint(va, length, kind)) throw new DebugError('not-found', `no ${kind} watchpoint at ${hex64(va)}+${length}`);
  }

  // ---- the guest's address space ----

  /**
   * The current stage-1 mappings. Cached while nothing can have changed them: no guest
   * instruction ran and the debugger wrote nothing (gdb reads smaps for every memory-tag command).
   */
  mappings(): { mappings: GuestMapping[]; truncated: boolean } {
    this.inspection.check("walk of the guest's page tables (its mappings)");
    const key = `${this.machine.vcpu.cpu.icount}:${this.machine.instructions}:${this.generation}`;
    if (this.mappingCache?.key !== key) this.mappingCache = { key, value: guestMappings(this.machine.vcpu.cpu) };
    return this.mappingCache.value;
  }

  /** /proc/<pid>/smaps of the guest's current mappings (tagged ones carry the `mt` VmFlag). */
  smaps(): string {
    return smapsText(this.mappings().mappings);
  }

  maps(): string {
    return mapsText(this.mappings().mappings);
  }
}
