import type { VirtMachine } from '../machine.js';
import { DebugError } from './errors.js';

/**
 * How much of a vCPU the VMM's front ends (gdb stub, monitor, live viewer) may see and control
 * (docs/protected-vm.md):
 *
 * - `open`: a normal VM, everything;
 * - `audited`: a protected VM started with `--protected=debug`, everything, each access audited;
 * - `closed`: a protected VM without the debug permission: no register, no page-table walk (so no
 *   virtual address), no single step, no breakpoint or watchpoint, no register write - as pKVM and
 *   CCA hide a protected vCPU's state from the host. Memory the guest shared stays readable by
 *   physical address (the host sees it anyway); private memory is the access policy's to refuse.
 */
export type InspectionMode = 'open' | 'audited' | 'closed';

export class InspectionGate {
  readonly mode: InspectionMode;

  constructor(private readonly machine: VirtMachine) {
    const protection = machine.protection;
    this.mode = protection === null ? 'open' : protection.options.debug ? 'audited' : 'closed';
  }

  /**
   * Allows `what` ("read of the registers", ...) or throws DebugError 'denied'; in audited mode
   * the access is audited first (the machine's 'audit' event, as for private memory).
   */
  check(what: string): void {
    if (this.mode === 'open') return;
    if (this.mode === 'closed') {
      throw new DebugError('denied', `${what} refused: a protected VM exposes no vCPU state, page tables or execution control (start it with --protected=debug for audited debugging)`);
    }
    this.machine.events.emit('audit', `debug ${what}`);
  }

  /** Like `check`, as a boolean: false instead of throwing (audits when it returns true). */
  permits(what: string): boolean {
    if (this.mode === 'closed') return false;
    this.check(what);
    return true;
  }
}
