/**
 * The GICv3 CPU interface as ICC_*_EL1 system registers (GICv3 architecture, "System register
 * interface"), for a PE without EL2/EL3 in the single Security state. Every ICC register is
 * EL1-only: UNDEFINED at EL0. Writes to read-only and reads of write-only registers are UNDEFINED.
 * Values the architecture leaves open are QEMU's: ICC_CTLR_EL1 = 0x8C00 + CBPR/EOImode (A3V,
 * IDbits = 24-bit, PRIbits = 5 bits), ICC_SRE_EL1 = 7 (RAO/WI), PMR keeps its 5 top bits.
 */
import { type Cpu, R, EL0_OK, EL0_UNDEF, sysKey } from '../../cpu/index.js';
import { GIC_NR_IRQS, INTID_SPURIOUS, MIN_BPR0, MIN_BPR1, PRI_MASK, type GicState } from './gic-state.js';

/** One external system register: read and/or write, EL1 only. */
export interface ExternalReg {
  read?(cpu: Cpu): number | bigint;
  write?(cpu: Cpu, lo: number, hi: number): void;
  /** Access rule at EL0 (default UNDEFINED). */
  el0?(cpu: Cpu, isRead: boolean): number;
}

const CTLR_FIXED = 0x8c00;

/** The ICC registers over a GicState, keyed like MRS/MSR encodings (sysKey). */
export function iccRegisters(s: GicState): Map<number, ExternalReg> {
  const regs = new Map<number, ExternalReg>();
  const def = (crn: number, crm: number, op2: number, reg: ExternalReg): void => void regs.set(sysKey(3, 0, crn, crm, op2), reg);

  def(4, 6, 0, {
    read: () => s.pmr,
    write: (_cpu, lo) => {
      s.pmr = lo & PRI_MASK;
      s.update();
    },
  });
  // Group 0 (FIQ) and Group 1 (IRQ) acknowledge / end-of-interrupt / highest pending.
  def(12, 8, 0, { read: () => acknowledge(s, 0) });
  def(12, 12, 0, { read: () => acknowledge(s, 1) });
  def(12, 8, 1, { write: (_cpu, lo) => endOfInterrupt(s, 0, lo & 0xff_ffff) });
  def(12, 12, 1, { write: (_cpu, lo) => endOfInterrupt(s, 1, lo & 0xff_ffff) });
  def(12, 8, 2, { read: () => highestPending(s, 0) });
  def(12, 12, 2, { read: () => highestPending(s, 1) });
  def(12, 8, 3, {
    read: () => s.bpr0,
    write: (_cpu, lo) => {
      s.bpr0 = Math.max(lo & 7, MIN_BPR0);
      s.update();
    },
  });
  def(12, 12, 3, {
    // With CBPR, Group 1 uses BPR0: BPR1 reads as BPR0 + 1 (saturated) and ignores writes.
    read: () => ((s.iccCtlr & 1) !== 0 ? Math.min(s.bpr0 + 1, 7) : s.bpr1),
    write: (_cpu, lo) => {
      if ((s.iccCtlr & 1) !== 0) return;
      s.bpr1 = Math.max(lo & 7, MIN_BPR1);
      s.update();
    },
  });
  def(12, 8, 4, {
    read: () => s.apr0,
    write: (_cpu, lo) => {
      s.apr0 = lo >>> 0;
      s.update();
    },
  });
  def(12, 9, 0, {
    read: () => s.apr1,
    write: (_cpu, lo) => {
      s.apr1 = lo >>> 0;
      s.update();
    },
  });
  def(12, 11, 1, { write: (_cpu, lo) => deactivateDir(s, lo & 0xff_ffff) });
  def(12, 11, 3, { read: () => s.runningPriority() });
  def(12, 11, 5, { write: (_cpu, lo, hi) => generateSgi(s, 1, lo, hi) });
  def(12, 11, 6, { write: () => undefined }); // ICC_ASGI1R_EL1: the other Security state; none here
  def(12, 11, 7, { write: (_cpu, lo, hi) => generateSgi(s, 0, lo, hi) });
  def(12, 12, 4, {
    read: () => CTLR_FIXED | s.iccCtlr,
    write: (_cpu, lo) => {
      s.iccCtlr = lo & 3;
      s.update();
    },
  });
  def(12, 12, 5, { read: () => 7, write: () => undefined });
  def(12, 12, 6, {
    read: () => s.igrpen0,
    write: (_cpu, lo) => {
      s.igrpen0 = lo & 1;
      s.update();
    },
  });
  def(12, 12, 7, {
    read: () => s.igrpen1,
    write: (_cpu, lo) => {
      s.igrpen1 = lo & 1;
      s.update();
    },
  });
  return regs;
}

/** ICC_HPPIR<g>_EL1: the highest pending interrupt if it is of group g (and enabled), else 1023. */
function highestPending(s: GicState, group: 0 | 1): number {
  if (s.noEnabledHppi() || s.hppiGroup !== group) return INTID_SPURIOUS;
  return s.hppiIrq;
}

/** ICC_IAR<g>_EL1: acknowledges the highest pending interrupt when it may preempt. */
function acknowledge(s: GicState, group: 0 | 1): number {
  const intid = s.hppiCanPreempt() ? highestPending(s, group) : INTID_SPURIOUS;
  if (intid !== INTID_SPURIOUS) s.activate(intid);
  return intid;
}

/**
 * ICC_EOIR<g>_EL1: drops the highest active priority when it belongs to group g, then (EOImode 0)
 * deactivates the INTID written. Writes of special or out-of-range INTIDs are ignored.
 */
function endOfInterrupt(s: GicState, group: 0 | 1, intid: number): void {
  if (intid >= GIC_NR_IRQS) return;
  if (s.highestActiveGroup() !== group) return;
  const deactivate = (s.iccCtlr & 2) === 0;
  s.dropPriority(group, !deactivate);
  if (deactivate) s.deactivate(intid);
}

/** ICC_DIR_EL1: deactivation, effective only with EOImode = 1. */
function deactivateDir(s: GicState, intid: number): void {
  if ((s.iccCtlr & 2) === 0 || intid >= GIC_NR_IRQS) return;
  s.deactivate(intid);
}

/**
 * ICC_SGI1R_EL1 / ICC_SGI0R_EL1: INTID in bits 27:24, TargetList 15:0 with Aff1 23:16, Aff2 39:32,
 * Aff3 55:48, IRM bit 40 (every PE but this one: none). The SGI becomes pending only when it is
 * configured in the register's group (QEMU gicv3_redist_send_sgi).
 */
function generateSgi(s: GicState, group: 0 | 1, lo: number, hi: number): void {
  const irm = (hi >>> 8) & 1;
  if (irm) return;
  const aff1 = (lo >>> 16) & 0xff;
  const aff2 = hi & 0xff;
  const aff3 = (hi >>> 16) & 0xff;
  if (aff1 !== 0 || aff2 !== 0 || aff3 !== 0 || (lo & 1) === 0) return;
  const intid = (lo >>> 24) & 0xf;
  if (s.group[intid] !== group) return;
  s.pending[intid] = 1;
  s.update();
}

/** Helper for the router: access rule of an ICC register (EL1 only, direction checked). */
export function externalAccess(reg: ExternalReg | undefined, cpu: Cpu, isRead: boolean): number {
  if (!reg) return EL0_UNDEF;
  if (isRead ? !reg.read : !reg.write) return EL0_UNDEF;
  if (cpu.el === 0) return reg.el0 ? reg.el0(cpu, isRead) : EL0_UNDEF;
  return EL0_OK;
}

/** Leaves a register value in int64.R (the ExternalSysRegs read convention). */
export function setResult(value: number | bigint): void {
  if (typeof value === 'bigint') {
    R.lo = Number(BigInt.asIntN(32, value));
    R.hi = Number(BigInt.asIntN(32, value >> 32n));
  } else {
    R.lo = value | 0;
    R.hi = Math.floor(value / 2 ** 32) | 0;
  }
}
