/**
 * Building blocks of the system register table (sysregs.ts and its families sysregs-id.ts,
 * sysregs-debug.ts): the access rules, the definition shape and value helpers.
 */
import type { Cpu } from './cpu.js';
import { R } from './int64.js';

/** What an access from EL0 does: proceed, trap to EL1 (EC 0x18), or UNDEFINED. */
export const EL0_OK = 0;
export const EL0_TRAP = 1;
export const EL0_UNDEF = 2;

/**
 * One system register as MRS/MSR see it. `read` leaves the value in R; a register without
 * `write` is read-only (MSR is UNDEFINED) and one without `read` write-only.
 */
export interface SysRegDef {
  readonly name: string;
  read?(cpu: Cpu): void;
  write?(cpu: Cpu, lo: number, hi: number): void;
  /** Access rule at EL0; absent means UNDEFINED at EL0. */
  el0?(cpu: Cpu, isRead: boolean): number;
  /** Access rule at EL1 (EL0_OK, EL0_TRAP: EC 0x18, EL0_UNDEF); absent means allowed. */
  el1?(cpu: Cpu, isRead: boolean): number;
  /** Exists only when the VM has MTE. */
  readonly mte?: boolean;
  /**
   * The Sys index whose (lo, hi) words hold the register, for registers read as stored (`plain`,
   * and SP_EL0 at EL1 with SPSel = 1): the JIT compiles MRS of them as a load (jit/emit-sys.ts).
   */
  readonly storage?: number;
  /** The (lo, hi) value of a register that always reads the same (`constant`): compiled MRS of it is a constant. */
  readonly value?: readonly [number, number];
  /** The (lo, hi) value `read` gives at EL1, where it is constant though not at EL0 (DCZID_EL0): compiled MRS at EL1h. */
  readonly el1Value?: readonly [number, number];
}

/** Adds one register at (op0, op1, CRn, CRm, op2). */
export type DefineSysReg = (op0: number, op1: number, crn: number, crm: number, op2: number, reg: SysRegDef) => void;

/** The 16-bit key of an (op0, op1, CRn, CRm, op2) encoding: instruction bits [20:5]. */
export function sysKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return ((op0 & 3) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export function sysKeyName(key: number): string {
  return `S${key >>> 14}_${(key >>> 11) & 7}_C${(key >>> 7) & 15}_C${(key >>> 3) & 15}_${key & 7}`;
}

/** Leaves a read's result in R. */
export function set(lo: number, hi = 0): void {
  R.lo = lo | 0;
  R.hi = hi | 0;
}

export interface PlainOptions {
  readonly maskLo?: number;
  readonly maskHi?: number;
  readonly after?: (cpu: Cpu) => void;
  readonly el0?: SysRegDef['el0'];
  readonly mte?: boolean;
}

/** A register that only stores what is written (under a mask), with an optional side effect. */
export function plain(index: number, name: string, options: PlainOptions = {}): SysRegDef {
  const maskLo = options.maskLo ?? -1;
  const maskHi = options.maskHi ?? -1;
  const after = options.after;
  return {
    name,
    storage: index,
    read: (cpu) => set(cpu.sysLo(index), cpu.sysHi(index)),
    write: (cpu, lo, hi) => {
      cpu.setSys(index, lo & maskLo, hi & maskHi);
      after?.(cpu);
    },
    ...(options.el0 ? { el0: options.el0 } : {}),
    ...(options.mte ? { mte: true } : {}),
  };
}

/** A read-only register with a fixed value. */
export function constant(name: string, lo: number, hi = 0, el0?: SysRegDef['el0']): SysRegDef {
  return { name, value: [lo, hi], read: () => set(lo, hi), ...(el0 ? { el0 } : {}) };
}

/** Reads as zero, writes are ignored. */
export function razWi(name: string, el0?: SysRegDef['el0']): SysRegDef {
  return { name, read: () => set(0), write: () => {}, ...(el0 ? { el0 } : {}) };
}

export const el0Always = (): number => EL0_OK;
export const el0ReadOnly = (_cpu: Cpu, isRead: boolean): number => (isRead ? EL0_OK : EL0_UNDEF);
/** FEAT_IDST: ID register reads at EL0 trap to EL1 instead of being UNDEFINED (as on QEMU -cpu max). */
export const el0IdTrap = (): number => EL0_TRAP;
