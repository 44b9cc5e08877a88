import { Cpu, Exit, undefinedInstruction, toBig, SP_SLOT } from '../cpu/index.js';
import { VcpuPersistence } from './vcpu-state.js';
import type { Vm } from './vm.js';
import { ArchTimer } from './arch-timer.js';
import { SysRegRouter } from './sysreg-router.js';

/** Why KVM_RUN returned, in the shape of struct kvm_run's exit_reason. */
export type VcpuExit =
  /** HVC #imm at EL1: an SMCCC call for the VMM (KVM_EXIT_HYPERCALL). x0..x17 hold the call. */
  | { readonly reason: 'hypercall'; readonly imm: number }
  /** HLT #0xF000 at EL1: a semihosting request (x0 = operation, x1 = parameter). */
  | { readonly reason: 'semihosting' }
  /** WFI with nothing pending: the VMM may idle until an interrupt is due. */
  | { readonly reason: 'wfi' }
  /** A debugger breakpoint or completed single step (KVM_EXIT_DEBUG). */
  | { readonly reason: 'debug' }
  /** The instruction budget of this run ran out (the VMM's time slice). */
  | { readonly reason: 'budget' }
  /** `requestExit` was called (KVM's immediate_exit / a signal). */
  | { readonly reason: 'intr' };

/**
 * A virtual CPU (the shape of a KVM vCPU fd): `run` executes guest code until an exit the VMM must
 * handle. Guest tag-check faults never exit: they are the guest's business, as under KVM.
 */
export class Vcpu {
  readonly cpu: Cpu;
  /** Save/restore of the architectural state (section "vcpu<id>"). */
  readonly persistence: VcpuPersistence;
  /** Instructions executed by the last `run`. */
  lastRunInstructions = 0;
  /** System registers owned by in-kernel devices (timer, GIC CPU interface): cpu.sysregHooks. */
  readonly sysregs = new SysRegRouter();
  /** The in-kernel arch timer (CNTV/CNTP, PPIs 27/30), as every KVM arm64 vCPU has. */
  readonly timer: ArchTimer;

  constructor(
    readonly vm: Vm,
    readonly id: number,
  ) {
    this.cpu = new Cpu(vm.memory.space, { mte: vm.mteEnabled });
    // Issue 4: timer and GIC CPU interface registers reach the core through sysregHooks.
    this.cpu.sysregHooks = this.sysregs;
    this.timer = new ArchTimer(this.cpu, (intid, level) => vm.irqchip?.setLine(intid, level), id);
    this.sysregs.add(this.timer.registers());
    this.persistence = new VcpuPersistence(this.cpu, `vcpu${id}`);
    vm.registerVcpu(id, {
      writeProtectAll: () => this.cpu.writeProtectAll(),
      attachIrqchip: (gic) => {
        this.sysregs.add(gic.attachCpu(this.cpu));
        this.sysregs.gicSystemRegisters = true;
        this.timer.sync(true);
      },
      memoryChanged: () => {
        for (const region of vm.memory.space.ramRegions) this.cpu.watchRegion(region);
        this.cpu.flushTlb();
        this.cpu.codePages.clear();
      },
    });
  }

  /**
   * KVM_RUN with an instruction budget. Like KVM with an in-kernel irqchip, the arch timer is
   * served here: slices end exactly at timer deadlines, and WFI with nothing pending idles the
   * counter to the next deadline (deterministic time: the counter is instructions + idle ticks).
   * Only a WFI that no timer will end exits to the VMM.
   */
  run(budget: number): VcpuExit {
    let ran = 0;
    for (;;) {
      const slice = Math.min(budget - ran, this.timer.ticksUntilDeadline());
      ran += this.cpu.run(slice);
      this.timer.sync();
      const reason = this.cpu.exitReason;
      if (reason === Exit.DEADLINE || (reason === Exit.WFI && this.idleUntilInterrupt())) {
        if (ran < budget) continue;
        this.cpu.exitReason = Exit.NONE;
      }
      if (reason !== Exit.NONE || ran >= budget) break;
    }
    this.lastRunInstructions = ran;
    return this.exitFor(this.cpu.exitReason);
  }

  /**
   * WFI completes when an interrupt is pending (whatever PSTATE.I/F say) or, with none, after
   * idling to the next timer deadline. Returns false when nothing in the hypervisor will wake it.
   */
  private idleUntilInterrupt(): boolean {
    if (this.cpu.irqLines !== 0) return true;
    const ticks = this.timer.ticksUntilDeadline();
    if (ticks === Infinity) return false;
    this.cpu.idleTicks += ticks;
    this.timer.sync();
    return true;
  }

  private exitFor(reason: number): VcpuExit {
    switch (reason) {
      case Exit.HVC:
        return { reason: 'hypercall', imm: this.cpu.exitImm };
      case Exit.SEMIHOSTING:
        return { reason: 'semihosting' };
      case Exit.WFI:
        return { reason: 'wfi' };
      case Exit.DEBUG:
        return { reason: 'debug' };
      case Exit.STOP:
        return { reason: 'intr' };
      default:
        return { reason: 'budget' };
    }
  }

  /** Asks a running vCPU to return at the next instruction boundary. */
  requestExit(): void {
    this.cpu.requestStop();
  }

  /** Register n (0..30) as an unsigned 64-bit value. */
  getX(n: number): bigint {
    return toBig(this.cpu.x[n * 2]!, this.cpu.x[n * 2 + 1]!);
  }

  setX(n: number, value: bigint): void {
    this.cpu.x[n * 2] = Number(BigInt.asIntN(32, value));
    this.cpu.x[n * 2 + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  get pc(): bigint {
    return toBig(this.cpu.pcLo, this.cpu.pcHi);
  }

  set pc(value: bigint) {
    this.cpu.pcLo = Number(BigInt.asIntN(32, value));
    this.cpu.pcHi = Number(BigInt.asIntN(32, value >> 32n));
    this.cpu.refetch = true;
  }

  get sp(): bigint {
    return toBig(this.cpu.x[SP_SLOT * 2]!, this.cpu.x[SP_SLOT * 2 + 1]!);
  }

  /**
   * Rejects the hypercall that just exited as an UNDEFINED instruction, as a CPU without EL2
   * would (QEMU's virt board does this for HVC calls that are not PSCI).
   */
  undefineLastHypercall(): void {
    const back = (this.cpu.pcLo >>> 0) - 4;
    if (back < 0) this.cpu.pcHi = (this.cpu.pcHi - 1) | 0;
    this.cpu.pcLo = back | 0;
    undefinedInstruction(this.cpu);
  }

  /** Architectural reset of the vCPU, then PC = entry, EL1h, x0..x3 as given. */
  reset(entry: bigint, args: readonly bigint[] = []): void {
    this.cpu.reset();
    this.timer.reset();
    args.forEach((value, n) => this.setX(n, value));
    this.pc = entry;
  }
}
