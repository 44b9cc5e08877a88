import type { CpuEngine, TagFaultInfo } from '../cpu/index.js';
import { KVM_CAP_ARM_MTE, Vm, type Vcpu } from '../hv/index.js';
import { GuestMemoryError, type RegionDirtyLog } from '../memory/index.js';
import { Pl011, PL011_BASE, PL011_SIZE } from './devices/pl011.js';
import { ElfError, parseElf, writeZeros, type ElfImage } from './elf.js';
import { Emitter } from './events.js';
import { handlePsci } from './psci.js';
import { handleSemihosting, SemihostingError } from './semihosting.js';
import { MachinePersistence, type MachineStateHost } from './machine-state.js';
import { ProtectedMode, type ProtectedOptions } from './protected.js';
import type { Stateful } from '../common/persist.js';
import { VirtDevices, type VirtDeviceOptions } from './virt-devices.js';
import { handleMemoryHypercall } from './hyp-mem.js';
import { checkSegmentsFit, pl011Node, type BoardDevice, type MachineModel } from './boot/index.js';

/** QEMU virt: RAM starts at 1 GiB. */
export const RAM_BASE = 0x4000_0000;
export const DEFAULT_RAM_BYTES = 256 * 1024 * 1024;
/** UART0's interrupt: SPI 1. */
const PL011_INTID = 32 + 1;

export interface MachineOptions extends VirtDeviceOptions {
  /** Guest RAM in bytes, at RAM_BASE (default DEFAULT_RAM_BYTES, 256 MiB). */
  readonly memoryBytes?: number;
  /** Expose MTE to the guest (default true). */
  readonly mte?: boolean;
  /** A protected VM (protected.ts): memory private to the guest; DMA through the bounce pool. */
  readonly protected?: ProtectedOptions;
  /** PSCI SYSTEM_RESET ends the run instead of rebooting (QEMU's -no-reboot). */
  readonly noReboot?: boolean;
  /** The vCPU's execution engine (docs/jit.md); default `jit` (`interp` is the reference). */
  readonly cpuEngine?: CpuEngine;
}

/**
 * Boot images up to this size travel in the machine's snapshot/migration section (its payload
 * limit is 16 MiB); a bigger kernel + initrd stays only in guest RAM, and a reboot after a
 * restore ends the run instead (docs/linux.md).
 */
const CARRIED_IMAGE_BYTES = 12 * 1024 * 1024;

/** How a machine stopped for good. */
export type Shutdown =
  | { readonly kind: 'semihosting-exit'; readonly code: number }
  /** The guest now runs on a migration target; this machine stopped for good. */
  | { readonly kind: 'migrated' }
  | { readonly kind: 'system-off' }
  /** PSCI SYSTEM_RESET with --no-reboot, or with no boot image to reload. */
  | { readonly kind: 'system-reset' }
  | { readonly kind: 'cpu-off' }
  /** Ended by a front end: the monitor's `quit` or gdb's `kill` (docs/monitor-api.md, docs/gdb.md). */
  | { readonly kind: 'terminated'; readonly by: 'monitor' | 'gdb' };

/**
 * created: no image yet; running: runSlice executes guest code; paused: stopped by a front end
 * (monitor, debugger) and resumable; shutdown: the guest powered off or exited.
 */
export type MachineState = 'created' | 'running' | 'paused' | 'shutdown';

/** Why a machine paused. */
/** 'postmigrate': a migration asked the destination to commit and never heard back (docs/migration-protocol.md §6). */
export type StopReason = 'pause' | 'step' | 'breakpoint' | 'watchpoint' | 'postmigrate';

/** What a machine reports to front ends (CLI, monitor, gdb stub, web viewer). */
export interface MachineEvents {
  [name: string]: unknown;
  /** UART output (the guest's stdout), in program order. */
  output: Uint8Array;
  /** Semihosting console output (QEMU sends it to stderr). */
  console: Uint8Array;
  /** A problem the guest caused that does not stop it (a bad semihosting pointer...). */
  warning: string;
  stop: { readonly reason: StopReason };
  resume: Record<string, never>;
  reset: Record<string, never>;
  shutdown: Shutdown;
  'tag-check-fault': TagFaultInfo;
  /** A debug access to a protected VM's private memory (allowed by `--protected=debug`). */
  audit: string;
  /** Bytes the guest sent on its virtio-console (docs/devices.md). */
  'virtio-console': Uint8Array;
  /** Host input arrived for a device (virtio-console): a guest idle in WFI should run again. */
  wake: Record<string, never>;
}

/**
 * The QEMU `virt`-compatible board (docs/design.md, "The machine the guest sees"): RAM at 0x4000_0000, PL011 UART0, PSCI over
 * HVC, semihosting, one vCPU. It runs in slices so a front end can interleave I/O, and it can be
 * paused, stepped and resumed between slices.
 */
export class VirtMachine {
  /** The KVM-shaped VM: guest memory (`vm.memory`, with the access classes), memslots, the vGIC. */
  readonly vm: Vm;
  /** The one vCPU. */
  readonly vcpu: Vcpu;
  /** Guest RAM in bytes, at RAM_BASE. */
  readonly memoryBytes: number;
  /** PL011 UART0: its output arrives as 'output' events. */
  readonly uart: Pl011;
  /** GICv3, arch timer PPIs, virtio-mmio transports and the DMA path (virt-devices.ts). */
  readonly devices: VirtDevices;
  /**
   * The device registry: every board device with its MMIO ranges, interrupts, device-tree node
   * and saved state. The device tree, snapshots and migration iterate it (boot/board.ts).
   */
  readonly board: readonly BoardDevice[];
  /** What the machine reports: output, stops, resets, shutdown, tag-check faults... (MachineEvents). */
  readonly events = new Emitter<MachineEvents>();
  /** 'created' until an image is loaded; runSlice runs only while 'running'. */
  state: MachineState = 'created';
  /** How the machine stopped for good, once state is 'shutdown'. */
  shutdown: Shutdown | null = null;
  /** The last slice ended in WFI with nothing but host input to wake the guest. */
  waitingForHost = false;
  /** Guest instructions executed since the machine was created (a snapshot or migration carries it). */
  instructions = 0;
  /**
   * Guest instructions this machine object executed: by its run loop and by a debugger's steps;
   * never restored, so a process can count its own (`--stats`).
   */
  instructionsHere = 0;
  private readonly holds = new Set<{ readonly why: string }>();
  /**
   * Largest slice a driver should run before giving the event loop a turn. Lowered while a
   * migration streams, so the socket is serviced often (the guest and the stream share a thread).
   */
  sliceLimit = Infinity;
  /**
   * Auto-converge (docs/migration-protocol.md §6): the share of wall time the vCPU is held back,
   * 0 to 0.99. After a slice that took t ms, runSlice runs nothing for t * throttle / (1 - throttle) ms.
   */
  throttle = 0;
  private throttledUntil = 0;
  /** The boot image, reloaded on every reset (and carried by snapshots and migration). */
  image: ElfImage | null = null;
  private pending: number[] = [];
  /** The vCPU is executing guest code (pause and terminate called from inside must interrupt it). */
  private inRun = false;
  private readonly persistence = new MachinePersistence(this.stateHost());
  /** Components added beyond the board's devices (addComponent). */
  private readonly extraComponents: Stateful<unknown>[] = [];
  /** Set for a protected VM (protected.ts). */
  readonly protection: ProtectedMode | null;
  private readonly noReboot: boolean;
  /** A board device takes host input: WFI may be waiting for the host (serve, 'wfi'). */
  private readonly hostInput: boolean;

  constructor(options: MachineOptions = {}) {
    this.memoryBytes = options.memoryBytes ?? DEFAULT_RAM_BYTES;
    this.noReboot = options.noReboot ?? false;
    this.vm = new Vm();
    if (options.mte ?? true) this.vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    this.vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: this.memoryBytes });
    this.uart = new Pl011((byte) => this.pending.push(byte));
    this.vm.memory.space.addMmio(PL011_BASE, PL011_SIZE, 'pl011', this.uart);
    this.vcpu = this.vm.createVcpu(0);
    this.vcpu.cpu.setEngine(options.cpuEngine ?? 'jit');
    this.vcpu.cpu.onTagFault = (info) => this.events.emit('tag-check-fault', info);
    const consoleOut = options.console ? (bytes: Uint8Array) => this.emitVirtioConsole(bytes, options.console!) : undefined;
    // A protected VM's devices can only use what the guest shares: the bounce path.
    const dma = options.protected ? 'bounce' : options.dma;
    this.devices = new VirtDevices(this.vm, this.vcpu, { ...options, ...(dma ? { dma } : {}), ...(consoleOut ? { console: consoleOut } : {}) }, (message) => this.events.emit('warning', message));
    const uart: BoardDevice = {
      name: 'pl011',
      kind: 'pl011',
      mmio: [{ base: PL011_BASE, size: PL011_SIZE }],
      interrupts: [PL011_INTID],
      deviceTree: () => [pl011Node({ base: PL011_BASE, size: PL011_SIZE }, PL011_INTID)],
      persist: this.uart as Stateful<unknown>,
    };
    this.board = [uart, ...this.devices.registry()];
    this.hostInput = this.board.some((d) => d.hostInput === true);
    const names = this.board.map((d) => d.name);
    if (new Set(names).size !== names.length) throw new Error(`duplicate board device names: ${names.join(', ')}`);
    this.protection = options.protected ? new ProtectedMode(this.vm.memory, this.devices.pool, options.protected, (line) => this.events.emit('audit', line)) : null;
  }

  /** True when the guest has MTE. */
  get mte(): boolean {
    return this.vm.mteEnabled;
  }

  /** Everything with state, in restore order: the machine, the vCPU, then the board's devices in registry order. */
  components(): Stateful<unknown>[] {
    const devices = this.board.flatMap((d) => (d.persist ? [d.persist] : []));
    return [this.persistence, this.vcpu.persistence, ...devices, ...this.extraComponents] as Stateful<unknown>[];
  }

  /** What the device tree describes: RAM and the registry (boot/virt-tree.ts). */
  model(): MachineModel {
    return { ramBase: RAM_BASE, ramBytes: this.memoryBytes, devices: this.board };
  }

  /** Registers a device's state with snapshots and migration. */
  addComponent(component: Stateful<unknown>): void {
    if (this.components().some((c) => c.stateName === component.stateName)) throw new Error(`duplicate component ${component.stateName}`);
    this.extraComponents.push(component);
  }

  /** Dirty logging of data and tags on all RAM (migration). */
  setDirtyLogging(on: boolean): void {
    this.vm.setDirtyLoggingAll(on);
  }

  /** This round's dirty pages of every region, data and tags, cleared (migration). */
  takeDirtyLogs(): RegionDirtyLog[] {
    return this.vm.takeDirtyLogs();
  }

  /** The migration target committed: this machine's guest lives on there. */
  migrated(): void {
    this.stop({ kind: 'migrated' });
  }

  /** Puts a machine restored from a snapshot or a migration into a runnable state. */
  restored(state: 'running' | 'paused'): void {
    this.shutdown = null;
    this.state = state;
  }

  private stateHost(): MachineStateHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const machine = this;
    return {
      get image() {
        const image = machine.image;
        return image && image.segments.reduce((n, s) => n + s.data.length, 0) <= CARRIED_IMAGE_BYTES ? image : null;
      },
      set image(value) {
        machine.image = value;
      },
      get instructions() {
        return machine.instructions;
      },
      set instructions(value) {
        machine.instructions = value;
      },
      get ramBase() {
        return RAM_BASE;
      },
      get ramBytes() {
        return machine.memoryBytes;
      },
    };
  }

  /**
   * Parses and loads a bare-metal ELF image and points the vCPU at its entry (x0 = 0, no device
   * tree: QEMU's -kernel for an ELF). Throws ElfError for bad files, BootError when RAM is too small.
   */
  loadElf(bytes: Uint8Array): void {
    const image = parseElf(bytes);
    checkSegmentsFit(image.segments, RAM_BASE, this.memoryBytes, (message) => new ElfError(message));
    this.loadBootImage(image);
  }

  /** Loads prepared segments (an ELF's, or a kernel boot's from boot/kernel-boot.ts) and resets. */
  loadBootImage(image: ElfImage): void {
    checkSegmentsFit(image.segments, RAM_BASE, this.memoryBytes);
    this.image = image;
    this.reset();
  }

  /** System reset: the vCPU restarts at the image entry with memory reloaded and tags forgotten. */
  reset(): void {
    const image = this.image;
    if (!image) throw new Error('no image loaded');
    this.vm.memory.resetTags();
    const load = (): void => {
      for (const segment of image.segments) {
        this.vm.memory.dma.write(segment.paddr, segment.data);
        writeZeros((gpa, bytes) => this.vm.memory.dma.write(gpa, bytes), segment.paddr + segment.data.length, segment.memSize - segment.data.length);
      }
    };
    if (this.protection) this.protection.boot(load);
    else load();
    this.uart.reset();
    this.devices.reset();
    this.vcpu.reset(image.entry);
    this.shutdown = null;
    if (this.state !== 'paused') this.state = 'running';
    this.events.emit('reset', {});
  }

  /** Stops a running machine between slices (and interrupts a slice in progress). */
  pause(reason: StopReason = 'pause'): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
    // Only a vCPU run in progress needs interrupting: a request left pending would make the
    // next step() execute nothing.
    if (this.inRun) this.vcpu.requestExit();
    this.events.emit('stop', { reason });
  }

  /**
   * Ends the machine on a front end's request (monitor `quit`, gdb `kill`); also one whose guest
   * already ended, which a front end kept up to inspect (`tagvisor run --no-shutdown`).
   */
  terminate(by: 'monitor' | 'gdb'): void {
    if (this.shutdown?.kind === 'terminated' || this.shutdown?.kind === 'migrated') return;
    if (this.inRun) this.vcpu.requestExit();
    this.stop({ kind: 'terminated', by });
  }

  /**
   * Keeps a paused machine paused until the returned release is called: `resume` and `step`
   * then only warn with `why` (a migration copying the paused guest: running on would make two).
   */
  holdPaused(why: string): () => void {
    const hold = { why };
    this.holds.add(hold);
    return () => void this.holds.delete(hold);
  }

  /** True (after warning) when a hold keeps the machine paused. */
  private held(): boolean {
    for (const hold of this.holds) {
      this.events.emit('warning', hold.why);
      return true;
    }
    return false;
  }

  /** Lets a paused machine run again (runSlice executes guest code once more). */
  resume(): void {
    if (this.state !== 'paused' || this.held()) return;
    this.state = 'running';
    this.events.emit('resume', {});
  }

  /** Executes one instruction of a paused machine; it stays paused. */
  step(): void {
    if (this.state !== 'paused') return;
    if (this.held()) {
      this.events.emit('stop', { reason: 'step' }); // a debugger waits for the step's stop: nothing ran
      return;
    }
    this.state = 'running';
    this.throttledUntil = 0; // a debugger's step is not held back by auto-converge
    this.runSlice(1);
    if (this.state === 'running') {
      this.state = 'paused';
      this.events.emit('stop', { reason: 'step' });
    }
  }

  /**
   * Runs up to `budget` guest instructions while the machine is running, serving the vCPU's
   * exits. Returns the number executed.
   */
  runSlice(budget: number): number {
    if (this.state !== 'running' || this.throttleDelayMs() > 0) return 0;
    this.waitingForHost = false;
    const sliceStart = this.throttle > 0 ? performance.now() : 0;
    let left = budget;
    try {
      while (left > 0 && this.state === 'running') {
        this.inRun = true;
        const exit = this.vcpu.run(left);
        this.inRun = false;
        left -= this.vcpu.lastRunInstructions;
        if (exit.reason === 'budget' || exit.reason === 'intr') break;
        this.serve(exit.reason);
        // Idle in WFI with only host input to wake it: end the slice so the front end can wait.
        if (this.waitingForHost) break;
      }
    } finally {
      this.inRun = false;
      this.instructions += budget - left;
      this.instructionsHere += budget - left;
      this.flushOutput();
      if (this.throttle > 0) {
        const end = performance.now();
        this.throttledUntil = end + ((end - sliceStart) * this.throttle) / (1 - this.throttle);
      }
    }
    return budget - left;
  }

  /** How long a driver should wait before the next slice runs anything (auto-converge; 0 when not throttled). */
  throttleDelayMs(): number {
    return this.throttle > 0 ? Math.max(0, this.throttledUntil - performance.now()) : 0;
  }

  private serve(reason: 'hypercall' | 'semihosting' | 'wfi' | 'debug'): void {
    switch (reason) {
      case 'hypercall': {
        // Vendor-hypervisor memory sharing (the bounce pool, hyp-mem.ts) before PSCI.
        if (handleMemoryHypercall(this.vcpu, this.devices.pool)) return;
        const outcome = handlePsci(this.vcpu);
        if (outcome === 'system-off') this.stop({ kind: 'system-off' });
        else if (outcome === 'cpu-off') this.stop({ kind: 'cpu-off' });
        else if (outcome === 'system-reset' && (this.noReboot || !this.image)) {
          if (!this.image) this.events.emit('warning', 'the guest asked for a reboot, but its boot image was not carried by the snapshot or migration: stopping');
          this.stop({ kind: 'system-reset' });
        } else if (outcome === 'system-reset') {
          this.flushOutput();
          this.reset();
        }
        return;
      }
      case 'semihosting': {
        try {
          const outcome = handleSemihosting(this.vcpu, this.vm.memory.guestRequest, (bytes) => this.emitConsole(bytes));
          if (outcome.kind === 'exit') this.stop({ kind: 'semihosting-exit', code: outcome.code });
        } catch (error) {
          if (!(error instanceof SemihostingError || error instanceof GuestMemoryError)) throw error;
          this.events.emit('warning', `semihosting call failed: ${error.message}`);
          this.vcpu.setX(0, BigInt.asUintN(64, -1n));
        }
        return;
      }
      case 'debug':
        // A debugger's breakpoint or watchpoint (src/cpu/debug-hooks.ts says which).
        this.pause(this.vcpu.cpu.debug?.lastHit?.kind === 'watchpoint' ? 'watchpoint' : 'breakpoint');
        return;
      case 'wfi':
        // The vCPU exits on WFI only when no interrupt is pending and no timer will end it
        // (src/hv/vcpu.ts). WFI completes at once (the architecture allows spurious wake-ups);
        // with a virtio-console, host input may be what the guest waits for: the slice ends and
        // the front end may wait for a 'wake' (or a short while) before the next one.
        if (this.hostInput) this.waitingForHost = true;
        return;
    }
  }

  private stop(shutdown: Shutdown): void {
    this.shutdown = shutdown;
    this.state = 'shutdown';
    this.flushOutput();
    this.events.emit('shutdown', shutdown);
  }

  /** virtio-console output, after any UART bytes written before it. */
  private emitVirtioConsole(bytes: Uint8Array, sink: (bytes: Uint8Array) => void): void {
    this.flushOutput();
    sink(bytes);
    this.events.emit('virtio-console', bytes);
  }

  /** Semihosting console output, after any UART bytes written before it. */
  private emitConsole(bytes: Uint8Array): void {
    this.flushOutput();
    if (bytes.length > 0) this.events.emit('console', bytes);
  }

  private flushOutput(): void {
    if (this.pending.length === 0) return;
    const bytes = Uint8Array.from(this.pending);
    this.pending = [];
    this.events.emit('output', bytes);
  }
}
