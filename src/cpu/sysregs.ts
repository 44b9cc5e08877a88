import type { Cpu } from './cpu.js';
import { R } from './int64.js';
import { Sys } from './sysreg-state.js';

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
  /** Exists only when the VM has MTE. */
  readonly mte?: boolean;
}

/** The 16-bit key of an (op0, op1, CRn, CRm, op2) encoding: instruction bits [20:5]. */
export function sysKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return ((op0 & 3) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export function sysKeyName(key: number): string {
  return `S${key >>> 14}_${(key >>> 11) & 7}_C${(key >>> 7) & 15}_C${(key >>> 3) & 15}_${key & 7}`;
}

const table = new Map<number, SysRegDef>();

function def(op0: number, op1: number, crn: number, crm: number, op2: number, reg: SysRegDef): void {
  table.set(sysKey(op0, op1, crn, crm, op2), reg);
}

function set(lo: number, hi = 0): void {
  R.lo = lo | 0;
  R.hi = hi | 0;
}

/** A register that only stores what is written (under a mask), with an optional side effect. */
function plain(index: number, name: string, options: { maskLo?: number; maskHi?: number; after?: (cpu: Cpu) => void; el0?: SysRegDef['el0']; mte?: boolean } = {}): SysRegDef {
  const maskLo = options.maskLo ?? -1;
  const maskHi = options.maskHi ?? -1;
  const after = options.after;
  return {
    name,
    read: (cpu) => set(cpu.sysLo(index), cpu.sysHi(index)),
    write: (cpu, lo, hi) => {
      cpu.setSys(index, lo & maskLo, hi & maskHi);
      after?.(cpu);
    },
    ...(options.el0 ? { el0: options.el0 } : {}),
    ...(options.mte ? { mte: true } : {}),
  };
}

function constant(name: string, lo: number, hi = 0, el0?: SysRegDef['el0']): SysRegDef {
  return { name, read: () => set(lo, hi), ...(el0 ? { el0 } : {}) };
}

const translationChanged = (cpu: Cpu): void => {
  cpu.flushTlb();
  cpu.updateControl();
  cpu.refetch = true;
};

const el0Always = (): number => EL0_OK;
const el0ReadOnly = (_cpu: Cpu, isRead: boolean): number => (isRead ? EL0_OK : EL0_UNDEF);
/** FEAT_IDST: ID register reads at EL0 trap to EL1 instead of being UNDEFINED (as on QEMU -cpu max). */
const el0IdTrap = (): number => EL0_TRAP;

// ---- identification (read-only) ----
const ID_AA64PFR0 = 0x00ff0011; // EL0 and EL1 AArch64 only; FP and AdvSIMD not implemented
def(3, 0, 0, 0, 0, constant('MIDR_EL1', 0x000f0000, 0, el0IdTrap));
def(3, 0, 0, 0, 5, constant('MPIDR_EL1', 0x80000000 | 0, 0, el0IdTrap));
def(3, 0, 0, 0, 6, constant('REVIDR_EL1', 0, 0, el0IdTrap));
def(3, 0, 0, 4, 0, {
  name: 'ID_AA64PFR0_EL1',
  // GIC (bits 27:24) = 1 when a GICv3 CPU interface is attached (src/hv/vgic), as QEMU gic-version=3.
  read: (cpu) => set(ID_AA64PFR0 | (cpu.sysregHooks?.gicSystemRegisters ? 1 << 24 : 0)),
  el0: el0IdTrap,
});
def(3, 0, 0, 4, 1, {
  name: 'ID_AA64PFR1_EL1',
  // SSBS = 2 (MSR/MRS SSBS); MTE = 3 (FEAT_MTE3, as QEMU -cpu max) only when the VM has MTE.
  read: (cpu) => set(cpu.mte ? 0x320 : 0x020),
  el0: el0IdTrap,
});
def(3, 0, 0, 5, 0, constant('ID_AA64DFR0_EL1', 0x6, 0, el0IdTrap));
def(3, 0, 0, 6, 0, constant('ID_AA64ISAR0_EL1', 0x00210000, 0x00200000, el0IdTrap)); // CRC32, LSE atomics, FlagM2 (TS = 2)
def(3, 0, 0, 6, 1, constant('ID_AA64ISAR1_EL1', 0x00200000, 0, el0IdTrap)); // LRCPC = 2: LDAPR, LDAPUR/STLUR
def(3, 0, 0, 7, 0, constant('ID_AA64MMFR0_EL1', 0x0f000025, 0, el0IdTrap)); // 48-bit PA, 16-bit ASID, 4K only
def(3, 0, 0, 7, 1, constant('ID_AA64MMFR1_EL1', 0x00100001, 0, el0IdTrap)); // PAN, HAFDBS (access flag)
def(3, 0, 0, 7, 2, constant('ID_AA64MMFR2_EL1', 0x10, 0x11, el0IdTrap)); // UAO, AT (LSE2 alignment), IDS
def(3, 1, 0, 0, 4, { name: 'GMID_EL1', read: () => set(6), mte: true }); // 256-byte LDGM/STGM blocks
def(3, 1, 0, 0, 0, constant('CCSIDR_EL1', 0));
def(3, 1, 0, 0, 1, constant('CLIDR_EL1', 0));
def(3, 1, 0, 0, 7, constant('AIDR_EL1', 0));
def(3, 2, 0, 0, 0, plain(Sys.CSSELR_EL1, 'CSSELR_EL1', { maskLo: 0xf, maskHi: 0 }));
def(3, 3, 0, 0, 1, constant('CTR_EL0', 0x8444c004 | 0, 0, (cpu) => ((cpu.sysLo(Sys.SCTLR_EL1) & (1 << 15)) !== 0 ? EL0_OK : EL0_TRAP)));
def(3, 3, 0, 0, 7, {
  name: 'DCZID_EL0',
  // BS = 4: DC ZVA zeroes 64 bytes. DZP is set while EL0 may not use DC ZVA.
  read: (cpu) => set(4 | (cpu.el === 0 && (cpu.sysLo(Sys.SCTLR_EL1) & (1 << 14)) === 0 ? 16 : 0)),
  el0: el0Always,
});

// ---- EL1 controls ----
def(3, 0, 1, 0, 0, plain(Sys.SCTLR_EL1, 'SCTLR_EL1', { after: translationChanged }));
def(3, 0, 1, 0, 1, plain(Sys.ACTLR_EL1, 'ACTLR_EL1', { maskLo: 0, maskHi: 0 }));
def(3, 0, 1, 0, 2, plain(Sys.CPACR_EL1, 'CPACR_EL1', { maskLo: 0x3 << 20, maskHi: 0 }));
def(3, 0, 1, 0, 5, plain(Sys.RGSR_EL1, 'RGSR_EL1', { maskLo: 0xffff0f, maskHi: 0, mte: true }));
def(3, 0, 1, 0, 6, plain(Sys.GCR_EL1, 'GCR_EL1', { maskLo: 0x1ffff, maskHi: 0, mte: true }));
def(3, 0, 2, 0, 0, plain(Sys.TTBR0_EL1, 'TTBR0_EL1', { after: translationChanged }));
def(3, 0, 2, 0, 1, plain(Sys.TTBR1_EL1, 'TTBR1_EL1', { after: translationChanged }));
def(3, 0, 2, 0, 2, plain(Sys.TCR_EL1, 'TCR_EL1', { after: translationChanged }));
def(3, 0, 4, 0, 0, plain(Sys.SPSR_EL1, 'SPSR_EL1', { maskHi: 0 }));
def(3, 0, 4, 0, 1, plain(Sys.ELR_EL1, 'ELR_EL1'));
def(3, 0, 5, 1, 0, plain(Sys.AFSR0_EL1, 'AFSR0_EL1', { maskLo: 0, maskHi: 0 }));
def(3, 0, 5, 1, 1, plain(Sys.AFSR1_EL1, 'AFSR1_EL1', { maskLo: 0, maskHi: 0 }));
def(3, 0, 5, 2, 0, plain(Sys.ESR_EL1, 'ESR_EL1', { maskHi: 0 }));
def(3, 0, 5, 6, 0, plain(Sys.TFSR_EL1, 'TFSR_EL1', { maskLo: 3, maskHi: 0, mte: true }));
def(3, 0, 5, 6, 1, plain(Sys.TFSRE0_EL1, 'TFSRE0_EL1', { maskLo: 3, maskHi: 0, mte: true }));
def(3, 0, 6, 0, 0, plain(Sys.FAR_EL1, 'FAR_EL1'));
def(3, 0, 7, 4, 0, plain(Sys.PAR_EL1, 'PAR_EL1'));
def(3, 0, 10, 2, 0, plain(Sys.MAIR_EL1, 'MAIR_EL1', { after: translationChanged }));
def(3, 0, 10, 3, 0, plain(Sys.AMAIR_EL1, 'AMAIR_EL1', { maskLo: 0, maskHi: 0 }));
def(3, 0, 12, 0, 0, plain(Sys.VBAR_EL1, 'VBAR_EL1', { maskLo: ~0x7ff }));
// ISR_EL1: I (bit 7) and F (bit 6) show the interrupt lines the GIC asserts.
def(3, 0, 12, 1, 0, { name: 'ISR_EL1', read: (cpu) => set(((cpu.irqLines & 1) << 7) | ((cpu.irqLines & 2) << 5)) });
def(3, 0, 13, 0, 1, plain(Sys.CONTEXTIDR_EL1, 'CONTEXTIDR_EL1', { maskHi: 0 }));
def(3, 0, 13, 0, 4, plain(Sys.TPIDR_EL1, 'TPIDR_EL1'));
def(3, 3, 13, 0, 2, plain(Sys.TPIDR_EL0, 'TPIDR_EL0', { el0: el0Always }));
def(3, 3, 13, 0, 3, plain(Sys.TPIDRRO_EL0, 'TPIDRRO_EL0', { el0: el0ReadOnly }));
def(3, 0, 14, 1, 0, plain(Sys.CNTKCTL_EL1, 'CNTKCTL_EL1', { maskLo: 0x3ff, maskHi: 0 }));
def(2, 0, 0, 2, 2, plain(Sys.MDSCR_EL1, 'MDSCR_EL1', { maskHi: 0 }));
def(2, 0, 1, 0, 4, { name: 'OSLAR_EL1', write: (cpu, lo) => cpu.setSys(Sys.OSLSR_EL1, (cpu.sysLo(Sys.OSLSR_EL1) & ~2) | ((lo & 1) << 1), 0) });
def(2, 0, 1, 1, 4, { name: 'OSLSR_EL1', read: (cpu) => set(cpu.sysLo(Sys.OSLSR_EL1)) });
def(2, 0, 1, 3, 4, plain(Sys.OSDLR_EL1, 'OSDLR_EL1', { maskLo: 1, maskHi: 0 }));

// ---- stack pointers ----
def(3, 0, 4, 1, 0, {
  name: 'SP_EL0',
  read: (cpu) => {
    const [lo, hi] = cpu.bankedSp(Sys.SP_EL0);
    set(lo, hi);
  },
  write: (cpu, lo, hi) => cpu.setBankedSp(Sys.SP_EL0, lo, hi),
});

// ---- PSTATE fields ----
def(3, 0, 4, 2, 0, { name: 'SPSel', read: (cpu) => set(cpu.spsel), write: (cpu, lo) => cpu.setElSp(cpu.el, lo & 1) });
def(3, 0, 4, 2, 2, { name: 'CurrentEL', read: (cpu) => set(cpu.el << 2) });
def(3, 0, 4, 2, 3, { name: 'PAN', read: (cpu) => set(cpu.pan << 22), write: (cpu, lo) => cpu.setPan((lo >>> 22) & 1) });
def(3, 0, 4, 2, 4, { name: 'UAO', read: (cpu) => set(cpu.uao << 23), write: (cpu, lo) => void (cpu.uao = (lo >>> 23) & 1) });
def(3, 3, 4, 2, 0, {
  name: 'NZCV',
  read: (cpu) => set((cpu.nf << 31) | (cpu.zf << 30) | (cpu.cf << 29) | (cpu.vf << 28)),
  write: (cpu, lo) => {
    cpu.nf = (lo >>> 31) & 1;
    cpu.zf = (lo >>> 30) & 1;
    cpu.cf = (lo >>> 29) & 1;
    cpu.vf = (lo >>> 28) & 1;
  },
  el0: el0Always,
});
def(3, 3, 4, 2, 1, {
  name: 'DAIF',
  read: (cpu) => set(cpu.daif),
  write: (cpu, lo) => void (cpu.daif = lo & 0x3c0),
  el0: (cpu) => ((cpu.sysLo(Sys.SCTLR_EL1) & (1 << 9)) !== 0 ? EL0_OK : EL0_TRAP), // SCTLR_EL1.UMA
});
def(3, 3, 4, 2, 5, { name: 'DIT', read: (cpu) => set(cpu.dit << 24), write: (cpu, lo) => void (cpu.dit = (lo >>> 24) & 1), el0: el0Always });
def(3, 3, 4, 2, 6, { name: 'SSBS', read: (cpu) => set(cpu.ssbs << 12), write: (cpu, lo) => void (cpu.ssbs = (lo >>> 12) & 1), el0: el0Always });
def(3, 3, 4, 2, 7, { name: 'TCO', read: (cpu) => set(cpu.tco << 25), write: (cpu, lo) => cpu.setTco((lo >>> 25) & 1), el0: el0Always, mte: true });

// ---- generic timer: the counter is the instruction count (1 GHz nominal, deterministic) ----
const counterEl0 = (bit: number) => (cpu: Cpu): number => ((cpu.sysLo(Sys.CNTKCTL_EL1) & bit) !== 0 ? EL0_OK : EL0_TRAP);
const readCounter = (cpu: Cpu): void => {
  const ticks = cpu.counter();
  set(ticks % 2 ** 32, Math.floor(ticks / 2 ** 32));
};
def(3, 3, 14, 0, 0, constant('CNTFRQ_EL0', 1_000_000_000, 0, counterEl0(3)));
def(3, 3, 14, 0, 1, { name: 'CNTPCT_EL0', read: readCounter, el0: counterEl0(1) });
def(3, 3, 14, 0, 2, { name: 'CNTVCT_EL0', read: readCounter, el0: counterEl0(2) });

/**
 * The definition for an MRS/MSR encoding, or undefined when the register does not exist here.
 * Unallocated registers in the ID space (op0=3, op1=0, CRn=0, CRm=1..7) read as zero.
 */
export function lookupSysReg(key: number): SysRegDef | undefined {
  const found = table.get(key);
  if (found) return found;
  const op0 = key >>> 14;
  const op1 = (key >>> 11) & 7;
  const crn = (key >>> 7) & 15;
  const crm = (key >>> 3) & 15;
  if (op0 === 3 && op1 === 0 && crn === 0 && crm >= 1 && crm <= 7) {
    const reserved: SysRegDef = { name: sysKeyName(key), read: () => set(0), el0: el0IdTrap };
    table.set(key, reserved);
    return reserved;
  }
  return undefined;
}

/** Every defined register, for state save/restore and the debugger's register list. */
export function allSysRegs(): ReadonlyMap<number, SysRegDef> {
  return table;
}
