import type { VirtMachine } from '../../vmm/index.js';
import { RegisterFile } from '../../vmm/debug/index.js';
import { hex64, type CpuSnapshot, type TcfName } from '../protocol.js';

const TCF: readonly TcfName[] = ['none', 'sync', 'async', 'asymmetric'];
/** RegisterFile names of the MTE system registers used below. */
const GCR = 'gcr_el1';
const TFSR = 'tfsr_el1';
const TFSRE0 = 'tfsre0_el1';

/**
 * The vCPU state the register view shows: every register of the debugger model (the gdb stub's
 * and the monitor's query-cpus) plus the MTE controls of query-mte.
 */
export class CpuSnapshotter {
  private readonly registers: RegisterFile;

  constructor(private readonly machine: VirtMachine) {
    this.registers = new RegisterFile(machine.vcpu.cpu);
  }

  take(): CpuSnapshot {
    const cpu = this.machine.vcpu.cpu;
    const values = this.registers.snapshot();
    const registers: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) registers[name] = hex64(value);
    const low = (name: string): number => Number((values[name] ?? 0n) & 0xffffn);
    return {
      el: cpu.el,
      spsel: cpu.spsel,
      pc: registers.pc!,
      registers,
      mte: {
        enabled: cpu.mte,
        tco: cpu.tco === 1,
        el0: { tagAccess: cpu.tagAccessEnabled(0), tcf: TCF[cpu.tagCheckMode(0)]! },
        el1: { tagAccess: cpu.tagAccessEnabled(1), tcf: TCF[cpu.tagCheckMode(1)]! },
        gcrExclude: low(GCR),
        tfsrEl1: low(TFSR) & 3,
        tfsre0El1: low(TFSRE0) & 3,
      },
    };
  }
}
