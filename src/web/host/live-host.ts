import { debugTranslate } from '../../cpu/index.js';
import { MemoryActivity } from '../../memory/index.js';
import { Debugger } from '../../vmm/debug/debugger.js';
import { RAM_BASE, type VirtMachine } from '../../vmm/index.js';
import { MonitorError, type Monitor } from '../../vmm/monitor/index.js';
import {
  type FaultRecord,
  type HostCommand,
  type HostMessage,
  type LiveSessionInfo,
  type MachineStatus,
  type MigrationProgressData,
} from '../protocol.js';
import { CpuSnapshotter } from './cpu-snapshot.js';
import { shutdownText } from './machine-host.js';
import { TagTracker } from './tag-tracker.js';

/** Monitor commands a live viewer may always run: they only look. */
export const READ_ONLY_COMMANDS: readonly string[] = ['query-status', 'query-mte', 'query-cpus', 'query-commands', 'query-migrate', 'read-memory', 'read-tags'];
/**
 * Monitor commands that change the VM, allowed only on a server started with --web-control.
 * Commands whose effects reach beyond the VM (quit, migrate, snapshot-save/-load: files, sockets,
 * the tagvisor process) are not offered to the viewer at all: they stay with the JSON monitor.
 */
export const CONTROL_COMMANDS: readonly string[] = ['stop', 'cont', 'step', 'system_reset', 'write-memory', 'write-tags'];
/** The viewer's buttons, as monitor commands. */
const BUTTONS = { pause: 'stop', resume: 'cont', step: 'step', reset: 'system_reset' } as const;

/** UART/console text kept for viewers that connect later, per stream. */
export const OUTPUT_HISTORY = 64 * 1024;
/** Fault records kept for viewers that connect later (the fault list shows at most 500). */
export const FAULT_HISTORY = 500;
/** Output kept for one slow viewer between flushes; beyond it the middle is dropped (and said). */
const MAX_PENDING_OUTPUT = 1 << 20;

export interface LiveHubOptions {
  /** The guest's name for the page (the ELF file's name). */
  readonly name: string;
  /** Allow commands that change the VM (--web-control). */
  readonly control: boolean;
  readonly version?: string;
  readonly now?: () => number;
}

/** How a session reaches its viewer (the WebSocket in src/node/web/web-server.ts; tests). */
export interface LiveSessionDriver {
  post(message: HostMessage): void;
  /** True while the viewer is behind: tag polls wait (the epochs keep the changes; nothing is lost). */
  congested(): boolean;
}

/**
 * The live viewer's host side for one VM that something else runs (the CLI's run loop): the
 * thin host docs/web.md asked for around TagTracker and CpuSnapshotter. It is fed by the JSON
 * monitor's event stream (STOP, RESUME, RESET, SHUTDOWN, TAG_CHECK_FAULT, MIGRATION) and the
 * machine's output, and runs commands through the monitor's CommandRegistry, so the monitor's
 * state and argument checks apply. One LiveSession per viewer connection; `flush` (called by the
 * transport a few times a second, and soon after `wake`) sends each what changed.
 */
export class LiveHub {
  readonly machine: VirtMachine;
  readonly sessions = new Set<LiveSession>();
  /** Called when something happened that viewers should see soon (a stop, a reply...). */
  wake: () => void = () => {};
  readonly startedAt: number;
  readonly now: () => number;
  private readonly detach: (() => void)[];
  private readonly history = { uart: '', console: '' };
  private readonly decoders = { uart: new TextDecoder(), console: new TextDecoder() };
  private readonly faultHistory: FaultRecord[] = [];
  private migration: MigrationProgressData | null = null;
  private runningSince: number | null = null;
  private runMsTotal = 0;
  readonly snapshotter: CpuSnapshotter;

  constructor(
    readonly monitor: Monitor,
    readonly options: LiveHubOptions,
  ) {
    this.machine = monitor.machine;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.snapshotter = new CpuSnapshotter(this.machine);
    if (this.machine.state === 'running') this.runningSince = this.now();
    const events = this.machine.events;
    this.detach = [
      monitor.events.subscribe((event, data) => this.event(event, data)),
      events.on('output', (bytes) => this.output('uart', bytes)),
      events.on('console', (bytes) => this.output('console', bytes)),
      events.on('warning', (message) => this.each((s) => s.post({ type: 'warning', message }))),
    ];
  }

  /** Total tag-check faults since the monitor started (exact; the records are rate-limited). */
  get faultCount(): number {
    return this.monitor.events.faults.sync + this.monitor.events.faults.async;
  }

  /** Wall milliseconds the VM spent running (paused time excluded) since the viewer started. */
  runMs(): number {
    return this.runMsTotal + (this.runningSince === null ? 0 : this.now() - this.runningSince);
  }

  /** A new viewer: it gets the whole picture on its first flush. */
  connect(driver: LiveSessionDriver): LiveSession {
    const session = new LiveSession(this, driver);
    this.sessions.add(session);
    session.start();
    return session;
  }

  disconnect(session: LiveSession): void {
    session.close();
    this.sessions.delete(session);
  }

  /** Sends every viewer what changed. */
  flush(): void {
    for (const session of this.sessions) session.flush();
  }

  dispose(): void {
    for (const off of this.detach) off();
    for (const session of this.sessions) session.close();
    this.sessions.clear();
  }

  outputHistory(): { readonly uart: string; readonly console: string } {
    return this.history;
  }

  faultsKept(): readonly FaultRecord[] {
    return this.faultHistory;
  }

  migrationProgress(): MigrationProgressData | null {
    return this.migration;
  }

  private each(action: (session: LiveSession) => void): void {
    for (const session of this.sessions) action(session);
  }

  private output(stream: 'uart' | 'console', bytes: Uint8Array): void {
    const text = this.decoders[stream].decode(bytes, { stream: true });
    if (text === '') return;
    const kept = this.history[stream] + text;
    this.history[stream] = kept.length > OUTPUT_HISTORY ? kept.slice(kept.length - OUTPUT_HISTORY) : kept;
    this.each((s) => s.append(stream, text));
  }

  private event(event: string, data: Record<string, unknown> | undefined): void {
    const now = this.now();
    switch (event) {
      case 'RESUME':
        this.runningSince ??= now;
        break;
      case 'STOP':
      case 'SHUTDOWN':
        if (this.runningSince !== null) this.runMsTotal += now - this.runningSince;
        this.runningSince = null;
        this.each((s) => (s.cpuWanted = true));
        break;
      case 'RESET':
        this.each((s) => s.reset());
        break;
      case 'TAG_CHECK_FAULT':
        this.fault(data ?? {});
        return; // faults go out with the next regular flush
      case 'MIGRATION':
        this.migration = data as unknown as MigrationProgressData;
        this.each((s) => (s.migrationPending = true));
        break;
      default:
        return;
    }
    this.wake();
  }

  /** A TAG_CHECK_FAULT event (already rate-limited by the monitor), with the PA translated now. */
  private fault(data: Record<string, unknown>): void {
    if (data.hidden === true) return; // a protected VM's fault: counted (as suppressed), no details
    const addr = typeof data.addr === 'bigint' ? data.addr : 0n;
    const pc = typeof data.pc === 'bigint' ? data.pc : 0n;
    const hex = (value: bigint) => `0x${value.toString(16).padStart(16, '0')}`;
    const record: FaultRecord = {
      seq: this.faultCount,
      instructions: this.machine.vcpu.cpu.icount, // as the playground's FaultFeed: exact within a slice
      pc: hex(pc),
      addr: hex(addr),
      // Translating walks the guest's page tables: only where the debugger may (inspection.ts).
      pa: Debugger.of(this.machine).inspection.mode === 'open' ? (debugTranslate(this.machine.vcpu.cpu, addr)?.pa ?? null) : null,
      logicalTag: Number(data['logical-tag'] ?? 0),
      allocationTag: Number(data['allocation-tag'] ?? 0),
      size: Number(data.size ?? 0),
      write: data.write === true,
      sync: data.sync === true,
      el: Number(data.el ?? 0),
    };
    this.faultHistory.push(record);
    if (this.faultHistory.length > FAULT_HISTORY) this.faultHistory.splice(0, this.faultHistory.length - FAULT_HISTORY);
    this.each((s) => s.pendingFaults.push(record));
  }
}

/** One viewer connection of a LiveHub. */
export class LiveSession {
  cpuWanted = false;
  migrationPending = false;
  readonly pendingFaults: FaultRecord[] = [];
  private tracker: TagTracker | null = null;
  private readonly output = { uart: '', console: '' };
  private dropped = 0;
  private reported = 0;
  private lastStatus = '';
  private lastTotals = new MemoryActivity();
  private lastSampleAt: number;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private waitingCommands = 0;
  private readonly allowed: ReadonlySet<string>;

  constructor(
    private readonly hub: LiveHub,
    private readonly driver: LiveSessionDriver,
  ) {
    this.allowed = new Set([...READ_ONLY_COMMANDS, ...(hub.options.control ? CONTROL_COMMANDS : [])].filter((name) => hub.monitor.registry.get(name)));
    this.lastSampleAt = hub.now();
  }

  get control(): boolean {
    return this.hub.options.control;
  }

  /** The opening messages: the machine, what this connection may do, output and faults so far. */
  start(): void {
    const { machine } = this.hub;
    this.post({ type: 'loaded', name: this.hub.options.name, entry: `0x${(machine.image?.entry ?? 0).toString(16)}`, ramBase: RAM_BASE, pages: machine.memoryBytes / 4096, mte: machine.mte });
    const info: LiveSessionInfo = { control: this.control, commands: [...this.allowed].sort(), version: this.hub.options.version ?? '' };
    this.post({ type: 'session', ...info });
    if (machine.protection) {
      this.post({ type: 'warning', message: `no tag map: this is a protected VM, whose memory is private to the guest (the viewer does not read it, not even with --protected=debug)${Debugger.of(machine).inspection.mode === 'closed' ? '; no registers and no fault details either (its vCPU is hidden)' : ''}` });
    } else {
      this.tracker = new TagTracker(machine);
    }
    const history = this.hub.outputHistory();
    for (const stream of ['uart', 'console'] as const) if (history[stream] !== '') this.post({ type: 'output', stream, text: history[stream] });
    this.pendingFaults.push(...this.hub.faultsKept());
    const migration = this.hub.migrationProgress();
    this.migrationPending = migration !== null;
    this.cpuWanted = machine.state !== 'running';
    this.lastTotals = machine.vm.memory.activityTotals();
  }

  append(stream: 'uart' | 'console', text: string): void {
    const all = this.output[stream] + text;
    if (all.length > MAX_PENDING_OUTPUT) {
      this.dropped += all.length - MAX_PENDING_OUTPUT / 2;
      this.output[stream] = all.slice(all.length - MAX_PENDING_OUTPUT / 2);
    } else {
      this.output[stream] = all;
    }
  }

  /** The guest was reset: the output before it goes first, then the marker. */
  reset(): void {
    this.flushOutput();
    this.post({ type: 'reset' });
    this.cpuWanted = true;
  }

  /**
   * Serves one command from the viewer (untrusted input: never throws). Replies are in order, and
   * a command waits while the viewer is behind (backpressure: its replies would only pile up).
   */
  handle(command: unknown): void {
    this.waitingCommands++;
    this.queue = this.queue
      .then(async () => {
        while (!this.closed && this.driver.congested()) await new Promise((resolve) => setTimeout(resolve, 20));
        await this.serve(command);
      })
      .catch(() => undefined)
      .finally(() => void this.waitingCommands--);
  }

  /** Commands received and not yet answered. */
  get pendingCommands(): number {
    return this.waitingCommands;
  }

  /** Settles once every command received so far has been answered (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.closed = true;
  }

  post(message: HostMessage): void {
    if (!this.closed) this.driver.post(message);
  }

  /** Sends what changed since the last flush. */
  flush(): void {
    if (this.closed) return;
    const { machine } = this.hub;
    this.flushOutput();
    if (this.dropped > 0) {
      this.post({ type: 'warning', message: `the guest printed faster than the page can show: ${this.dropped} characters were dropped` });
      this.dropped = 0;
    }
    const total = this.hub.faultCount;
    if (this.pendingFaults.length > 0 || total !== this.reported) {
      const faults = this.pendingFaults.splice(0);
      this.post({ type: 'faults', faults, suppressed: Math.max(0, total - this.reported - faults.length) });
      this.reported = total;
    }
    let tagChangedPages = 0;
    if (this.tracker && !this.driver.congested()) {
      try {
        for (const message of this.tracker.poll()) this.post(message);
        tagChangedPages = this.tracker.lastChanged;
      } catch (error) {
        this.tracker = null;
        this.post({ type: 'error', message: `the tag map stopped: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    const status = this.status();
    const key = JSON.stringify(status);
    if (key !== this.lastStatus) {
      this.lastStatus = key;
      this.post({ type: 'status', ...status });
    }
    if (this.cpuWanted && machine.state !== 'running') {
      this.cpuWanted = false;
      // The register view goes through the debugger's gate: a protected VM hides its vCPU.
      if (Debugger.of(machine).inspection.permits('read of the registers (live viewer)')) this.post({ type: 'cpu', cpu: this.hub.snapshotter.take() });
    }
    const migration = this.hub.migrationProgress();
    if (this.migrationPending && migration) {
      this.migrationPending = false;
      this.post({ type: 'migration', progress: migration });
    }
    this.sampleActivity(tagChangedPages);
  }

  private status(): MachineStatus {
    const { machine } = this.hub;
    return {
      state: machine.state,
      stopReason: machine.state === 'paused' ? (Debugger.of(machine).lastStop?.reason ?? null) : null,
      shutdown: machine.shutdown ? shutdownText(machine.shutdown) : null,
      instructions: machine.instructions,
      runMs: Math.round(this.hub.runMs() * 1000) / 1000,
    };
  }

  /** One activity sample: sent while the VM runs (the timeline moves), or when anything changed. */
  private sampleActivity(tagChangedPages: number): void {
    const { machine } = this.hub;
    const totals = machine.vm.memory.activityTotals();
    const delta = (now: Float64Array, before: Float64Array) => Array.from(now, (value, i) => value - before[i]!);
    const data = delta(totals.dataPages, this.lastTotals.dataPages);
    const tags = delta(totals.tagPages, this.lastTotals.tagPages);
    const reads = delta(totals.readPages, this.lastTotals.readPages);
    const busy = tagChangedPages > 0 || [...data, ...tags, ...reads].some((n) => n !== 0);
    if (!busy && machine.state !== 'running') return;
    const now = this.hub.now();
    this.post({
      type: 'activity',
      atMs: Math.round(now - this.hub.startedAt),
      intervalMs: Math.round(now - this.lastSampleAt),
      data,
      tags,
      reads,
      tagChangedPages,
      taggedPages: taggedPages(machine),
    });
    this.lastTotals = totals;
    this.lastSampleAt = now;
  }

  private flushOutput(): void {
    for (const stream of ['uart', 'console'] as const) {
      if (this.output[stream] === '') continue;
      this.post({ type: 'output', stream, text: this.output[stream] });
      this.output[stream] = '';
    }
  }

  private async serve(raw: unknown): Promise<void> {
    if (this.closed) return;
    if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
      this.post({ type: 'error', message: 'malformed command (expected a JSON object with a "type")' });
      return;
    }
    const command = raw as HostCommand;
    const id = 'id' in command && Number.isSafeInteger(command.id) ? command.id! : undefined;
    switch (command.type) {
      case 'granule-window':
        this.tracker?.setGranuleWindow(Number(command.firstPage) || 0, Number(command.pageCount) || 0);
        this.hub.wake();
        return;
      case 'pause':
      case 'resume':
      case 'step':
      case 'reset':
        return this.execute(BUTTONS[command.type], {}, id);
      case 'execute':
        if (typeof command.execute !== 'string') return this.refuse(id, 'execute', 'JSONParsing', "an 'execute' command needs an 'execute' string");
        return this.execute(command.execute, command.arguments, id);
      case 'load':
        return this.refuse(id, 'load', 'CommandNotFound', 'this viewer watches a VM running in tagvisor: it cannot load guests');
      default:
        return this.refuse(id, String((command as { type: string }).type), 'CommandNotFound', `unknown command ${JSON.stringify((command as { type: string }).type)}`);
    }
  }

  /** Runs a monitor command through the registry (state and argument checks included). */
  private async execute(name: string, args: unknown, id: number | undefined): Promise<void> {
    if (!this.allowed.has(name)) {
      if (CONTROL_COMMANDS.includes(name) && this.hub.monitor.registry.get(name)) {
        return this.refuse(id, name, 'AccessDenied', `the viewer is read-only: '${name}' changes the VM (start tagvisor with --web-control to allow it)`);
      }
      return this.refuse(id, name, 'CommandNotFound', `'${name}' is not available in the live viewer${this.hub.monitor.registry.get(name) ? ' (use the JSON monitor)' : ''}`);
    }
    const after: (() => void)[] = [];
    let value: unknown;
    try {
      value = await this.hub.monitor.registry.execute({ ...this.hub.monitor.context, afterReply: (action) => void after.push(action) }, name, args);
    } catch (error) {
      if (error instanceof MonitorError) return this.refuse(id, name, error.errorClass, error.message);
      return this.refuse(id, name, 'GenericError', error instanceof Error ? error.message : String(error));
    }
    if (id !== undefined) this.post({ type: 'reply', id, command: name, ok: true, value });
    for (const action of after) action();
    this.hub.wake();
  }

  private refuse(id: number | undefined, command: string, errorClass: string, desc: string): void {
    if (id !== undefined) this.post({ type: 'reply', id, command, ok: false, error: { class: errorClass, desc } });
    else this.post({ type: 'error', message: `${command}: ${desc}` });
  }
}

/** Pages used as tagged memory (query-mte's tagged-pages), four flags per compare. */
function taggedPages(machine: VirtMachine): number {
  let total = 0;
  for (const region of machine.vm.memory.space.ramRegions) {
    const flags = region.tags?.initialised;
    if (!flags) continue;
    const words = new Uint32Array(flags.buffer, flags.byteOffset, flags.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w !== 0) total += (w & 1) + ((w >>> 8) & 1) + ((w >>> 16) & 1) + ((w >>> 24) & 1);
    }
    for (let i = words.length * 4; i < flags.length; i++) total += flags[i]!;
  }
  return total;
}
