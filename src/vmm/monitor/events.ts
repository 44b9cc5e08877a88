import { type TagFaultInfo, toBig } from '../../cpu/index.js';
import { Debugger } from '../debug/debugger.js';
import type { InspectionGate } from '../debug/inspection.js';
import type { Shutdown, VirtMachine } from '../machine.js';

/** A subscriber: a monitor session in command mode. */
export type EventListener = (event: string, data: Record<string, unknown> | undefined) => void;

/** TAG_CHECK_FAULT events per second, beyond which they are counted, not sent. */
export const TAG_FAULT_EVENTS_PER_SECOND = 100;

/**
 * Asynchronous monitor events. The machine's events are translated here (STOP, RESUME, RESET,
 * SHUTDOWN, TAG_CHECK_FAULT); any other module can publish its own through `emit` (e.g. MIGRATION
 * progress), so the set of events is open. Also keeps the tag-check fault counts query-mte
 * reports, from the moment the monitor was created.
 *
 * A guest can fault millions of times a second: TAG_CHECK_FAULT is rate-limited to
 * TAG_FAULT_EVENTS_PER_SECOND, and the next event sent carries "suppressed", the number dropped.
 */
export class MonitorEventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly detach: (() => void)[];
  readonly faults = { sync: 0, async: 0 };
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  private readonly inspection: InspectionGate;

  constructor(
    machine: VirtMachine,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.inspection = Debugger.of(machine).inspection;
    const events = machine.events;
    this.detach = [
      events.on('stop', ({ reason }) => this.emit('STOP', { reason })),
      events.on('resume', () => this.emit('RESUME')),
      events.on('reset', () => this.emit('RESET')),
      events.on('shutdown', (shutdown) => this.emit('SHUTDOWN', shutdownData(shutdown))),
      events.on('tag-check-fault', (info) => this.tagFault(info)),
    ];
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes an event to every session in command mode. */
  emit(event: string, data?: Record<string, unknown>): void {
    for (const listener of [...this.listeners]) listener(event, data);
  }

  dispose(): void {
    for (const off of this.detach) off();
    this.listeners.clear();
  }

  private tagFault(info: TagFaultInfo): void {
    if (info.sync) this.faults.sync++;
    else this.faults.async++;
    if (this.listeners.size === 0) return;
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= TAG_FAULT_EVENTS_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    // The pc, address and tags are vCPU state: a protected VM reports only that a fault happened.
    const data: Record<string, unknown> = !this.inspection.permits('report of a tag-check fault (pc, address, tags)') ? { sync: info.sync, hidden: true } : {
      pc: toBig(info.pcLo, info.pcHi),
      addr: toBig(info.addrLo, info.addrHi),
      'logical-tag': info.logicalTag,
      'allocation-tag': info.allocationTag,
      size: info.size,
      write: info.write,
      sync: info.sync,
      el: info.el,
    };
    if (this.suppressed > 0) {
      data.suppressed = this.suppressed;
      this.suppressed = 0;
    }
    this.emit('TAG_CHECK_FAULT', data);
  }
}

function shutdownData(shutdown: Shutdown): Record<string, unknown> {
  switch (shutdown.kind) {
    case 'semihosting-exit':
      return { guest: true, reason: 'guest-exit', 'exit-code': shutdown.code };
    case 'system-off':
      return { guest: true, reason: 'guest-shutdown' };
    case 'cpu-off':
      return { guest: true, reason: 'guest-cpu-off' };
    case 'terminated':
      return { guest: false, reason: shutdown.by === 'monitor' ? 'host-qmp-quit' : 'host-gdb-kill' };
    default:
      // A kind added later (e.g. by migration) is still reported, under its own name.
      return { guest: false, reason: (shutdown as { kind: string }).kind };
  }
}
