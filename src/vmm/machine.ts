import { KVM_CAP_ARM_MTE, Vm, type Vcpu } from '../hv/index.js';
import { GuestMemoryError, hex } from '../memory/index.js';
import { Pl011, PL011_BASE, PL011_SIZE } from './devices/pl011.js';
import { ElfError, parseElf, type ElfImage } from './elf.js';
import { handlePsci } from './psci.js';
import { handleSemihosting, SemihostingError } from './semihosting.js';

/** QEMU virt: RAM starts at 1 GiB. */
export const RAM_BASE = 0x4000_0000;
export const DEFAULT_RAM_BYTES = 256 * 1024 * 1024;

export interface MachineOptions {
  readonly memoryBytes?: number;
  readonly mte?: boolean;
}

/** How a machine stopped for good. */
export type Shutdown =
  | { readonly kind: 'semihosting-exit'; readonly code: number }
  | { readonly kind: 'system-off' }
  | { readonly kind: 'cpu-off' };

export type MachineState = 'created' | 'running' | 'shutdown';

/**
 * The QEMU `virt`-compatible board (DESIGN.md §3): RAM at 0x4000_0000, PL011 UART0, PSCI over
 * HVC, semihosting, one vCPU. It runs in slices so a front end can interleave I/O; all guest
 * output goes through `onOutput` in program order.
 */
export class VirtMachine {
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  readonly memoryBytes: number;
  readonly uart: Pl011;
  state: MachineState = 'created';
  shutdown: Shutdown | null = null;
  /** Guest instructions executed since the machine was created. */
  instructions = 0;
  /** UART output (the guest's stdout). */
  onOutput: (bytes: Uint8Array) => void = () => {};
  /** Semihosting console output (SYS_WRITEC/WRITE0/WRITE): QEMU sends it to stderr. */
  onConsole: (bytes: Uint8Array) => void = () => {};
  /** Problems the guest caused that do not stop it (bad semihosting pointers...). */
  onWarning: (message: string) => void = () => {};
  private image: ElfImage | null = null;
  private pending: number[] = [];

  constructor(options: MachineOptions = {}) {
    this.memoryBytes = options.memoryBytes ?? DEFAULT_RAM_BYTES;
    this.vm = new Vm();
    if (options.mte ?? true) this.vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    this.vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: this.memoryBytes });
    this.uart = new Pl011((byte) => this.pending.push(byte));
    this.vm.memory.space.addMmio(PL011_BASE, PL011_SIZE, 'pl011', this.uart);
    this.vcpu = this.vm.createVcpu(0);
  }

  get mte(): boolean {
    return this.vm.mteEnabled;
  }

  /** Parses and loads an ELF image and points the vCPU at its entry. Throws ElfError for bad files. */
  loadElf(bytes: Uint8Array): void {
    const image = parseElf(bytes);
    for (const segment of image.segments) {
      const end = segment.paddr + segment.memSize;
      if (segment.paddr < RAM_BASE || end > RAM_BASE + this.memoryBytes) {
        throw new ElfError(`segment at ${hex(segment.paddr)}-${hex(end)} lies outside guest RAM (${hex(RAM_BASE)}-${hex(RAM_BASE + this.memoryBytes)})`);
      }
    }
    this.image = image;
    this.reset();
  }

  /** System reset: the vCPU restarts at the image entry with memory reloaded and tags forgotten. */
  reset(): void {
    if (!this.image) throw new Error('no image loaded');
    this.vm.memory.resetTags();
    for (const segment of this.image.segments) {
      this.vm.memory.dma.write(segment.paddr, segment.data);
      this.vm.memory.dma.write(segment.paddr + segment.data.length, new Uint8Array(segment.memSize - segment.data.length));
    }
    this.uart.reset();
    this.vcpu.reset(this.image.entry);
    this.state = 'running';
  }

  /**
   * Runs up to `budget` guest instructions, serving the vCPU's exits. Returns the number executed.
   * Stops early when the machine shuts down or `interrupt()` is called.
   */
  runSlice(budget: number): number {
    if (this.state !== 'running') return 0;
    let left = budget;
    try {
      while (left > 0 && this.state === 'running') {
        const exit = this.vcpu.run(left);
        left -= this.vcpu.lastRunInstructions;
        if (exit.reason === 'budget' || exit.reason === 'intr') break;
        this.serve(exit.reason);
      }
    } finally {
      this.instructions += budget - left;
      this.flushOutput();
    }
    return budget - left;
  }

  /** Asks a running slice to return at the next instruction boundary. */
  interrupt(): void {
    this.vcpu.requestExit();
  }

  private serve(reason: 'hypercall' | 'semihosting' | 'wfi' | 'debug'): void {
    switch (reason) {
      case 'hypercall': {
        const outcome = handlePsci(this.vcpu);
        if (outcome === 'system-off') this.stop({ kind: 'system-off' });
        else if (outcome === 'cpu-off') this.stop({ kind: 'cpu-off' });
        else if (outcome === 'system-reset') {
          this.flushOutput();
          this.reset();
        }
        return;
      }
      case 'semihosting': {
        try {
          const outcome = handleSemihosting(this.vcpu, this.vm.memory.debug, (bytes) => this.emit(bytes));
          if (outcome.kind === 'exit') this.stop({ kind: 'semihosting-exit', code: outcome.code });
        } catch (error) {
          if (!(error instanceof SemihostingError || error instanceof GuestMemoryError)) throw error;
          this.onWarning(`semihosting call failed: ${error.message}`);
          this.vcpu.setX(0, BigInt.asUintN(64, -1n));
        }
        return;
      }
      case 'wfi':
      case 'debug':
        // No interrupt sources yet: WFI completes at once (the architecture allows it).
        return;
    }
  }

  private stop(shutdown: Shutdown): void {
    this.shutdown = shutdown;
    this.state = 'shutdown';
  }

  /** Semihosting console output, after any UART bytes written before it. */
  private emit(bytes: Uint8Array): void {
    this.flushOutput();
    if (bytes.length > 0) this.onConsole(bytes);
  }

  private flushOutput(): void {
    if (this.pending.length === 0) return;
    const bytes = Uint8Array.from(this.pending);
    this.pending = [];
    this.onOutput(bytes);
  }
}
