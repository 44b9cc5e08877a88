/**
 * The vCPU's ExternalSysRegs hook (cpu.sysregHooks): routes MRS/MSR of registers the core does
 * not implement to the in-kernel devices that own them, the arch timer (CNTV_*, CNTP_*) and the
 * vGIC's CPU interface (ICC_*). An encoding nobody owns is UNDEFINED, as on a CPU without it.
 */
import type { Cpu, ExternalSysRegs } from '../cpu/index.js';
import { externalAccess, setResult, type ExternalReg } from './vgic/cpu-interface.js';

export class SysRegRouter implements ExternalSysRegs {
  private readonly regs = new Map<number, ExternalReg>();
  gicSystemRegisters = false;

  /** Adds registers (by sysKey); a device that owns an encoding already taken is a bug. */
  add(regs: ReadonlyMap<number, ExternalReg>): void {
    for (const [key, reg] of regs) {
      if (this.regs.has(key)) throw new Error(`system register ${key} registered twice`);
      this.regs.set(key, reg);
    }
  }

  access(cpu: Cpu, key: number, isRead: boolean): number {
    return externalAccess(this.regs.get(key), cpu, isRead);
  }

  read(cpu: Cpu, key: number): void {
    setResult(this.regs.get(key)!.read!(cpu));
  }

  write(cpu: Cpu, key: number, lo: number, hi: number): void {
    this.regs.get(key)!.write!(cpu, lo, hi);
  }
}
