/**
 * The Arm generic timer of one vCPU (Arm ARM D11, "The Generic Timer in AArch64 state"): the EL1
 * virtual timer (CNTV_CTL/CVAL/TVAL_EL0, PPI 27) and EL1 physical timer (CNTP_*, PPI 30), the
 * PPIs QEMU's virt board wires. Like KVM's, it lives in the hypervisor: the vCPU's run loop ends
 * its slices exactly at timer deadlines and idles WFI to the next one (vcpu.ts).
 *
 * Time is the deterministic counter `cpu.counter()` (instructions + idle ticks; CNTVOFF = 0, no
 * EL2), so a guest's timer interrupts land on the same instruction in every run. Inside a block
 * the counter reads as at the block's start (the interpreter counts instructions per block).
 * ISTATUS reads 0 while the timer is disabled, as QEMU does (the architecture says UNKNOWN).
 */
import { Exit, type Cpu, EL0_OK, EL0_TRAP, sysKey, Sys } from '../cpu/index.js';
import { expectState, type Shape, type Stateful } from '../common/persist.js';
import type { ExternalReg } from './vgic/cpu-interface.js';

export const PPI_VTIMER = 27;
export const PPI_PTIMER = 30;

const CTL_ENABLE = 1;
const CTL_IMASK = 2;
const CTL_ISTATUS = 4;
const U64 = (1n << 64n) - 1n;
const FAR_AWAY = 1n << 48n;
const TIMER_SHAPE: Shape = { fields: { ctl: 'integer', cvalLo: 'integer', cvalHi: 'integer' } };

class Timer {
  ctl = 0;
  cval = 0n;
  level = false;
}

export interface ArchTimerState {
  readonly virt: TimerState;
  readonly phys: TimerState;
}

export interface TimerState {
  readonly ctl: number;
  /** CVAL as two unsigned 32-bit halves. */
  readonly cvalLo: number;
  readonly cvalHi: number;
}

export class ArchTimer implements Stateful<ArchTimerState> {
  readonly stateName: string;
  readonly stateVersion = 1;
  private readonly virt = new Timer();
  private readonly phys = new Timer();

  constructor(
    private readonly cpu: Cpu,
    /** Drives the timer's PPI into the interrupt controller. */
    private readonly output: (intid: number, level: boolean) => void,
    id = 0,
  ) {
    this.stateName = `arch-timer${id}`;
  }

  reset(): void {
    for (const t of [this.virt, this.phys]) {
      t.ctl = 0;
      t.cval = 0n;
    }
    this.sync(true);
  }

  /**
   * Counter ticks until the next change of a timer output; Infinity when none is coming. A
   * deadline more than 2^48 ticks away (78 hours at 1 GHz) counts as none, so an idle guest never
   * pushes the counter beyond what a JS number holds exactly.
   */
  ticksUntilDeadline(): number {
    const now = BigInt(this.cpu.counter());
    let best = Infinity;
    for (const t of [this.virt, this.phys]) {
      if ((t.ctl & (CTL_ENABLE | CTL_IMASK)) !== CTL_ENABLE || t.cval <= now || t.cval - now > FAR_AWAY) continue;
      best = Math.min(best, Number(t.cval - now));
    }
    return best;
  }

  /** Re-evaluates both timers at the current counter and drives their PPIs. */
  sync(force = false): void {
    const now = BigInt(this.cpu.counter());
    this.syncOne(this.virt, PPI_VTIMER, now, force);
    this.syncOne(this.phys, PPI_PTIMER, now, force);
  }

  private syncOne(t: Timer, ppi: number, now: bigint, force: boolean): void {
    const level = (t.ctl & (CTL_ENABLE | CTL_IMASK)) === CTL_ENABLE && now >= t.cval;
    if (level === t.level && !force) return;
    t.level = level;
    this.output(ppi, level);
  }

  /** The CNTV_* and CNTP_* registers (keys as in MRS/MSR encodings). */
  registers(): Map<number, ExternalReg> {
    const regs = new Map<number, ExternalReg>();
    const el0 = (bit: number) => (cpu: Cpu): number => ((cpu.sysLo(Sys.CNTKCTL_EL1) & bit) !== 0 ? EL0_OK : EL0_TRAP);
    for (const [t, crm, el0Bit] of [[this.virt, 3, 1 << 8], [this.phys, 2, 1 << 9]] as const) {
      const rule = el0(el0Bit);
      regs.set(sysKey(3, 3, 14, crm, 0), {
        // TVAL: the low 32 bits of CVAL - counter; a write sets CVAL = counter + SignExtend(TVAL).
        read: () => Number((t.cval - BigInt(this.cpu.counter())) & 0xffff_ffffn),
        write: (_cpu, lo) => this.reprogram(t, () => void (t.cval = (BigInt(this.cpu.counter()) + BigInt(lo | 0)) & U64)),
        el0: rule,
      });
      regs.set(sysKey(3, 3, 14, crm, 1), {
        read: () => {
          const enabled = (t.ctl & CTL_ENABLE) !== 0;
          return t.ctl | (enabled && BigInt(this.cpu.counter()) >= t.cval ? CTL_ISTATUS : 0);
        },
        write: (_cpu, lo) => this.reprogram(t, () => void (t.ctl = lo & (CTL_ENABLE | CTL_IMASK))),
        el0: rule,
      });
      regs.set(sysKey(3, 3, 14, crm, 2), {
        read: () => t.cval,
        write: (_cpu, lo, hi) => this.reprogram(t, () => void (t.cval = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0))),
        el0: rule,
      });
    }
    return regs;
  }

  /** Applies a register write, updates the output, and makes the vCPU re-plan its slice. */
  private reprogram(_t: Timer, change: () => void): void {
    change();
    this.sync();
    this.cpu.exitReason = Exit.DEADLINE;
  }

  save(): ArchTimerState {
    const one = (t: Timer): TimerState => ({ ctl: t.ctl, cvalLo: Number(t.cval & 0xffff_ffffn), cvalHi: Number(t.cval >> 32n) });
    return { virt: one(this.virt), phys: one(this.phys) };
  }

  stateShape(): Shape {
    return { fields: { virt: TIMER_SHAPE, phys: TIMER_SHAPE } };
  }

  check(untrusted: unknown, version: number): ArchTimerState {
    const path = this.stateName;
    expectState.integer(version, `${path}.version`, this.stateVersion, this.stateVersion);
    const root = expectState.object(untrusted, path);
    const one = (value: unknown, where: string): TimerState => {
      const o = expectState.object(value, where);
      return {
        ctl: expectState.integer(o.ctl, `${where}.ctl`, 0, CTL_ENABLE | CTL_IMASK),
        cvalLo: expectState.integer(o.cvalLo, `${where}.cvalLo`, 0, 0xffff_ffff),
        cvalHi: expectState.integer(o.cvalHi, `${where}.cvalHi`, 0, 0xffff_ffff),
      };
    };
    return { virt: one(root.virt, `${path}.virt`), phys: one(root.phys, `${path}.phys`) };
  }

  load(state: ArchTimerState): void {
    for (const [t, s] of [[this.virt, state.virt], [this.phys, state.phys]] as const) {
      t.ctl = s.ctl;
      t.cval = (BigInt(s.cvalHi) << 32n) | BigInt(s.cvalLo);
    }
    this.sync(true);
  }
}
