import { debugTranslate } from '../../cpu/index.js';
import { GuestMemoryError } from '../../memory/index.js';
import { ElfError, RAM_BASE, VirtMachine, type Shutdown } from '../../vmm/index.js';
import type { HostCommand, HostMessage, LoadCommand, MachineStatus, StopReasonName } from '../protocol.js';
import { CpuSnapshotter } from './cpu-snapshot.js';
import { FaultFeed } from './fault-feed.js';
import { TagTracker } from './tag-tracker.js';

/** Largest ELF file the playground accepts (the guests are 16-40 KiB). */
export const MAX_ELF_BYTES = 64 * 1024 * 1024;
export const MIN_RAM_BYTES = 16 * 1024 * 1024;
export const MAX_RAM_BYTES = 2 * 1024 * 1024 * 1024;
/** Output kept between two flushes; a guest printing faster loses the middle (and is told so). */
const MAX_PENDING_OUTPUT = 1 << 20;

export interface HostDriver {
  /** Sends a message to the UI; `transfer` lists buffers the message may take over. */
  post(message: HostMessage, transfer: ArrayBuffer[]): void;
  /** The machine became runnable: call `tick` soon (and again while it returns true). */
  wake(): void;
  now?(): number;
}

/** A problem with what the user asked for: shown as is, nothing changes. */
class UserError extends Error {}

/**
 * Runs one VirtMachine for a viewer, independently of the transport: the playground's Web
 * Worker drives it (worker.ts), a test drives it directly. Commands come in through `handle`;
 * `tick` executes guest code for a time slice; `flush` posts what changed (output, faults, tag
 * map updates, status, registers when stopped).
 */
export class MachineHost {
  private machine: VirtMachine | null = null;
  private tracker: TagTracker | null = null;
  private snapshotter: CpuSnapshotter | null = null;
  private readonly faults: FaultFeed;
  private detach: (() => void)[] = [];
  private readonly output = { uart: '', console: '' };
  private readonly decoders = { uart: new TextDecoder(), console: new TextDecoder() };
  private dropped = 0;
  private stopReason: StopReasonName | null = null;
  private runMs = 0;
  private lastStatus = '';
  private cpuWanted = false;
  private broken = false;
  /** Instructions per runSlice call, adapted so one call takes a few milliseconds. */
  private budget = 100_000;
  private readonly now: () => number;

  constructor(private readonly driver: HostDriver) {
    this.now = driver.now ?? (() => performance.now());
    this.faults = new FaultFeed(
      (va) => (this.machine ? (debugTranslate(this.machine.vcpu.cpu, va)?.pa ?? null) : null),
      () => this.machine?.vcpu.cpu.icount ?? 0,
      this.now,
    );
  }

  get state(): MachineStatus['state'] | 'empty' {
    return this.machine ? this.machine.state : 'empty';
  }

  /** The machine, for tests and benchmarks that look behind the protocol. */
  get current(): VirtMachine | null {
    return this.machine;
  }

  /** Serves one command from the UI. Never throws: problems become 'error' messages. */
  handle(command: HostCommand): void {
    try {
      this.dispatch(command);
    } catch (error) {
      this.post({ type: 'error', message: describe(error) });
    }
    this.flush();
  }

  /**
   * Executes guest code for about `ms` milliseconds if the machine is running. Returns true when
   * it still is (call again).
   */
  tick(ms: number): boolean {
    const machine = this.machine;
    if (!machine || this.broken || machine.state !== 'running') return false;
    const end = this.now() + ms;
    try {
      do {
        const start = this.now();
        machine.runSlice(Math.min(this.budget, machine.sliceLimit));
        const took = this.now() - start;
        this.runMs += took;
        if (took < 2 && this.budget < 50_000_000) this.budget *= 2;
        else if (took > 8 && this.budget > 10_000) this.budget = Math.floor(this.budget / 2);
      } while (machine.state === 'running' && this.now() < end);
    } catch (error) {
      // A bug in the emulator, not the guest's doing: stop here and say so.
      this.broken = true;
      this.post({ type: 'error', message: `internal error, the machine stopped: ${describe(error)}` });
    }
    return machine.state === 'running' && !this.broken;
  }

  /** Posts everything that changed since the last flush. */
  flush(): void {
    this.flushOutput();
    if (this.dropped > 0) {
      this.post({ type: 'warning', message: `the guest printed faster than the page can show: ${this.dropped} characters were dropped` });
      this.dropped = 0;
    }
    const faults = this.faults.take();
    if (faults) this.post({ type: 'faults', ...faults });
    this.postTags();
    const status = this.status();
    const key = JSON.stringify(status);
    if (key !== this.lastStatus) {
      this.lastStatus = key;
      this.post({ type: 'status', ...status });
    }
    if (this.cpuWanted && this.snapshotter && this.machine?.state !== 'running') {
      this.cpuWanted = false;
      this.post({ type: 'cpu', cpu: this.snapshotter.take() });
    }
  }

  private flushOutput(): void {
    for (const stream of ['uart', 'console'] as const) {
      if (this.output[stream] === '') continue;
      this.post({ type: 'output', stream, text: this.output[stream] });
      this.output[stream] = '';
    }
  }

  private postTags(): void {
    if (!this.tracker) return;
    let messages;
    try {
      messages = this.tracker.poll();
    } catch (error) {
      // A refused read (a protected VM's debug policy) or a bug: the machine runs on without a map.
      this.tracker = null;
      this.post({ type: 'error', message: `the tag map stopped: ${describe(error)}` });
      return;
    }
    for (const message of messages) {
      const buffers = message.type === 'page-tags' ? [message.pages.buffer, message.values.buffer] : [message.pages.buffer, message.tags.buffer];
      this.driver.post(message, buffers as ArrayBuffer[]);
    }
  }

  status(): MachineStatus {
    const machine = this.machine;
    return {
      state: machine ? machine.state : 'created',
      stopReason: machine?.state === 'paused' ? this.stopReason : null,
      shutdown: machine?.shutdown ? shutdownText(machine.shutdown) : null,
      instructions: machine?.instructions ?? 0,
      runMs: Math.round(this.runMs * 1000) / 1000,
    };
  }

  private dispatch(command: HostCommand): void {
    if (command === null || typeof command !== 'object') throw new UserError('malformed command');
    if (command.type === 'load') return this.load(command);
    if (command.type === 'granule-window') {
      this.tracker?.setGranuleWindow(command.firstPage, command.pageCount);
      return;
    }
    const machine = this.machine;
    if (!machine) throw new UserError('no guest loaded yet');
    switch (command.type) {
      case 'pause':
        machine.pause();
        return;
      case 'resume':
        machine.resume();
        break;
      case 'step':
        if (machine.state !== 'paused') throw new UserError('step needs a paused machine');
        machine.step();
        return;
      case 'reset':
        this.broken = false;
        machine.reset();
        this.cpuWanted = true;
        break;
      default:
        throw new UserError(`unknown command ${JSON.stringify((command as { type?: unknown }).type)}`);
    }
    if (machine.state === 'running') this.driver.wake();
  }

  private load(command: LoadCommand): void {
    const { name, bytes, memoryBytes, mte } = command;
    if (!(bytes instanceof ArrayBuffer)) throw new UserError('no file data');
    const label = typeof name === 'string' && name !== '' ? name : 'the file';
    if (bytes.byteLength > MAX_ELF_BYTES) throw new UserError(`${label} is ${mib(bytes.byteLength)}: guest images larger than ${mib(MAX_ELF_BYTES)} are not accepted`);
    if (!Number.isInteger(memoryBytes) || memoryBytes % (1024 * 1024) !== 0 || memoryBytes < MIN_RAM_BYTES || memoryBytes > MAX_RAM_BYTES) {
      throw new UserError(`guest RAM must be a whole number of MiB between ${mib(MIN_RAM_BYTES)} and ${mib(MAX_RAM_BYTES)}`);
    }
    let machine: VirtMachine;
    try {
      // The playground runs guests on the JIT (docs/jit.md): compiled in this worker.
      machine = new VirtMachine({ memoryBytes, mte: mte !== false, cpuEngine: 'jit' });
      machine.vcpu.cpu.backgroundCompile = true; // tick() returns to the worker's event loop between runs
    } catch (error) {
      if (error instanceof RangeError) throw new UserError(`could not allocate ${mib(memoryBytes)} of guest RAM in this browser (${error.message}); choose less memory`);
      throw error;
    }
    try {
      machine.loadElf(new Uint8Array(bytes));
    } catch (error) {
      if (error instanceof ElfError) throw new UserError(`${label} cannot run: ${error.message}`);
      throw error;
    }
    for (const poke of command.pokes ?? []) {
      const value = new Uint8Array(8);
      new DataView(value.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(poke.value)), true);
      try {
        machine.vm.memory.dma.write(poke.gpa, value);
      } catch (error) {
        if (error instanceof GuestMemoryError) throw new UserError(`cannot preset guest memory: ${error.message}`);
        throw error;
      }
    }
    this.install(machine);
    this.post({ type: 'loaded', name: label, entry: `0x${machine.image!.entry.toString(16)}`, ramBase: RAM_BASE, pages: memoryBytes / 4096, mte: machine.mte });
    if (command.paused) machine.pause();
    else this.driver.wake();
  }

  private install(machine: VirtMachine): void {
    for (const off of this.detach) off();
    this.machine = machine;
    this.broken = false;
    this.runMs = 0;
    this.budget = 100_000;
    this.stopReason = null;
    this.lastStatus = '';
    this.output.uart = this.output.console = '';
    this.decoders.uart = new TextDecoder();
    this.decoders.console = new TextDecoder();
    this.faults.reset();
    this.tracker = new TagTracker(machine);
    this.snapshotter = new CpuSnapshotter(machine);
    const events = machine.events;
    this.detach = [
      events.on('tag-check-fault', (info) => this.faults.record(info)),
      events.on('output', (bytes) => this.append('uart', bytes)),
      events.on('console', (bytes) => this.append('console', bytes)),
      events.on('warning', (message) => this.post({ type: 'warning', message })),
      events.on('stop', ({ reason }) => {
        this.stopReason = reason;
        this.cpuWanted = true;
      }),
      events.on('reset', () => {
        this.flushOutput();
        this.post({ type: 'reset' });
      }),
      events.on('shutdown', () => {
        this.cpuWanted = true;
      }),
    ];
  }

  private append(stream: 'uart' | 'console', bytes: Uint8Array): void {
    const text = this.output[stream] + this.decoders[stream].decode(bytes, { stream: true });
    if (text.length > MAX_PENDING_OUTPUT) {
      this.dropped += text.length - MAX_PENDING_OUTPUT / 2;
      this.output[stream] = text.slice(text.length - MAX_PENDING_OUTPUT / 2);
    } else {
      this.output[stream] = text;
    }
  }

  private post(message: HostMessage): void {
    this.driver.post(message, []);
  }
}

/** How the guest ended, in the monitor's words (also the live viewer's, live-host.ts). */
export function shutdownText(shutdown: Shutdown): string {
  switch (shutdown.kind) {
    case 'semihosting-exit':
      return `guest-exit ${shutdown.code}`;
    case 'system-off':
      return 'guest-shutdown';
    case 'cpu-off':
      return 'guest-cpu-off';
    case 'terminated':
      return `terminated by ${shutdown.by}`;
    default:
      return (shutdown as { kind: string }).kind;
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

function describe(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
