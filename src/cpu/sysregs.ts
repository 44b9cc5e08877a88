import type { Cpu } from './cpu.js';
import { Sys } from './sysreg-state.js';
import { defineDebugRegs } from './sysregs-debug.js';
import { defineIdRegs, inIdSpace, isReservedIdRegister } from './sysregs-id.js';
import { EL0_OK, EL0_TRAP, EL0_UNDEF, el0Always, el0IdTrap, el0ReadOnly, plain, set, sysKey, sysKeyName, type SysRegDef } from './sysregs-common.js';

export { EL0_OK, EL0_TRAP, EL0_UNDEF, sysKey, sysKeyName, type SysRegDef } from './sysregs-common.js';

/**
 * The system registers the core implements, by encoding. The identification registers are in
 * sysregs-id.ts and the debug registers in sysregs-debug.ts; which registers exist, and why the
 * rest are UNDEFINED, is in docs/cpu.md.
 */
const table = new Map<number, SysRegDef>();

function def(op0: number, op1: number, crn: number, crm: number, op2: number, reg: SysRegDef): void {
  const key = sysKey(op0, op1, crn, crm, op2);
  if (table.has(key)) throw new Error(`system register ${reg.name} defined twice`);
  table.set(key, reg);
}

const translationChanged = (cpu: Cpu): void => {
  cpu.flushTlb();
  cpu.updateControl();
  cpu.refetch = true;
};

defineIdRegs(def);
defineDebugRegs(def);

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
// FEAT_CSV2_2 (ID_AA64PFR0_EL1.CSV2 >= 2): software context numbers. EL0 access traps while SCTLR_EL1.TSCXT is set.
def(3, 0, 13, 0, 7, plain(Sys.SCXTNUM_EL1, 'SCXTNUM_EL1'));
def(3, 3, 13, 0, 7, plain(Sys.SCXTNUM_EL0, 'SCXTNUM_EL0', { el0: (cpu) => ((cpu.sysLo(Sys.SCTLR_EL1) & (1 << 20)) !== 0 ? EL0_TRAP : EL0_OK) }));

// ---- stack pointers ----
def(3, 0, 4, 1, 0, {
  name: 'SP_EL0',
  storage: Sys.SP_EL0, // banked: the live SP is SP_EL1 at EL1 with SPSel = 1
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
// CNTFRQ_EL0 is writable at the highest implemented EL, EL1 here (bits 63:32 RES0); it only informs software.
def(3, 3, 14, 0, 0, plain(Sys.CNTFRQ_EL0, 'CNTFRQ_EL0', { maskHi: 0, el0: (cpu, isRead) => (isRead ? counterEl0(3)(cpu) : EL0_UNDEF) }));
def(3, 3, 14, 0, 1, { name: 'CNTPCT_EL0', read: readCounter, el0: counterEl0(1) });
def(3, 3, 14, 0, 2, { name: 'CNTVCT_EL0', read: readCounter, el0: counterEl0(2) });

/** An MRS of an unallocated ID-space encoding: EC 0x18 at EL0 and EL1 (FEAT_IDST). */
function unallocatedId(key: number): SysRegDef {
  return { name: sysKeyName(key), read: () => set(0), el0: el0IdTrap, el1: el0IdTrap };
}

/**
 * The definition for an MRS/MSR encoding, or undefined when the register does not exist here
 * (`mte`: the VM has MTE). Reserved ID registers (op0=3, op1=0, CRn=0, CRm=1..7) read as zero;
 * other unallocated ID-space encodings trap when read (FEAT_IDST).
 */
export function lookupSysReg(key: number, mte = true): SysRegDef | undefined {
  const found = table.get(key);
  if (found && (mte || !found.mte)) return found;
  if (!inIdSpace(key)) return undefined;
  let reserved = idFallback.get(key);
  if (!reserved) {
    reserved = isReservedIdRegister(key) ? { name: sysKeyName(key), read: () => set(0), el0: el0IdTrap } : unallocatedId(key);
    idFallback.set(key, reserved);
  }
  return reserved;
}

const idFallback = new Map<number, SysRegDef>();

/** Every defined register, for state save/restore and the debugger's register list. */
export function allSysRegs(): ReadonlyMap<number, SysRegDef> {
  return table;
}
