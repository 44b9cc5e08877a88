import { Cpu, Exit } from '../../src/cpu/cpu.js';
import { PhysicalAddressSpace } from '../../src/memory/index.js';
import { toBig } from '../../src/cpu/int64.js';
import { assemble } from './asm.js';

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 16 * 1024 * 1024;

/**
 * A bare CPU over 16 MiB of RAM at 0x4000_0000 (MTE on), for instruction-level tests. Code is
 * placed at RAM_BASE and runs at EL1 with the MMU off; `run` stops at the first HVC or after
 * `budget` instructions.
 */
export class TestMachine {
  readonly space = new PhysicalAddressSpace();
  readonly cpu: Cpu;

  constructor(options: { mte?: boolean } = {}) {
    const region = this.space.addRam(RAM_BASE, RAM_SIZE);
    if (options.mte ?? true) region.enableTags();
    this.cpu = new Cpu(this.space, { mte: options.mte ?? true });
  }

  get ram() {
    return this.space.ramRegions[0]!;
  }

  /** Loads code (assembly source or bytes) at `addr` and points the PC at it. */
  load(code: string | Uint8Array, addr = RAM_BASE): this {
    const bytes = typeof code === 'string' ? assemble(code) : code;
    this.ram.bytes.set(bytes, addr - RAM_BASE);
    this.ram.noteDataWrite(addr - RAM_BASE, bytes.length);
    this.cpu.pcLo = addr | 0;
    this.cpu.pcHi = 0;
    return this;
  }

  /** Runs until an exit (HVC, semihosting, WFI) or the budget runs out; returns the exit reason. */
  run(budget = 100_000): number {
    this.cpu.run(budget);
    return this.cpu.exitReason;
  }

  /** Runs to the first `hvc #0`, failing if it is not reached. */
  runToHvc(budget = 100_000): void {
    const reason = this.run(budget);
    if (reason !== Exit.HVC) throw new Error(`expected HVC exit, got ${reason} at pc=${this.pc().toString(16)}`);
  }

  x(n: number): bigint {
    return toBig(this.cpu.x[n * 2]!, this.cpu.x[n * 2 + 1]!);
  }

  setX(n: number, value: bigint): void {
    this.cpu.x[n * 2] = Number(BigInt.asIntN(32, value));
    this.cpu.x[n * 2 + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  pc(): bigint {
    return toBig(this.cpu.pcLo, this.cpu.pcHi);
  }

  nzcv(): number {
    const c = this.cpu;
    return (c.nf << 3) | (c.zf << 2) | (c.cf << 1) | c.vf;
  }
}
