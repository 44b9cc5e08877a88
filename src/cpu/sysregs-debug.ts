/**
 * Self-hosted debug system registers (Armv8.0 debug, ID_AA64DFR0_EL1.DebugVer = 6): breakpoint
 * and watchpoint registers, the OS lock, claim tags, MDSCR_EL1 and the debug communications
 * channel. They hold state for a kernel (hw_breakpoint, ptrace, cpu suspend); breakpoints,
 * watchpoints and software step do not fire yet (docs/cpu.md).
 */
import type { Cpu } from './cpu.js';
import { Sys } from './sysreg-state.js';
import { constant, EL0_OK, EL0_TRAP, plain, razWi, set, type DefineSysReg, type SysRegDef } from './sysregs-common.js';

/** As QEMU -cpu max: 6 breakpoints (the last 2 context-aware) and 4 watchpoints. */
export const BREAKPOINTS = 6;
export const CONTEXT_BREAKPOINTS = 2;
export const WATCHPOINTS = 4;

const BVR = [Sys.DBGBVR0_EL1, Sys.DBGBVR1_EL1, Sys.DBGBVR2_EL1, Sys.DBGBVR3_EL1, Sys.DBGBVR4_EL1, Sys.DBGBVR5_EL1];
const BCR = [Sys.DBGBCR0_EL1, Sys.DBGBCR1_EL1, Sys.DBGBCR2_EL1, Sys.DBGBCR3_EL1, Sys.DBGBCR4_EL1, Sys.DBGBCR5_EL1];
const WVR = [Sys.DBGWVR0_EL1, Sys.DBGWVR1_EL1, Sys.DBGWVR2_EL1, Sys.DBGWVR3_EL1];
const WCR = [Sys.DBGWCR0_EL1, Sys.DBGWCR1_EL1, Sys.DBGWCR2_EL1, Sys.DBGWCR3_EL1];

/** OSLSR_EL1: OSLM = 0b10 (OS lock implemented, bits 3 and 0), OSLK = bit 1. */
export const OSLSR_OSLM = 0x8;
export const OSLSR_OSLK = 0x2;

/**
 * MDSCR_EL1 fields of Armv8.0 debug: SS, ERR, TDCC, KDE, HDE, MDE, TDA, INTdis, TXU, RXO,
 * TXfull, RXfull. The rest is RES0 (QEMU stores every bit; the Arm ARM allows either).
 */
export const MDSCR_FIELDS = 0x6ce0f041;
/** MDSCR_EL1.TDCC: EL0 access to the debug communications channel traps to EL1. */
const MDSCR_TDCC = 1 << 12;

/** DBGAUTHSTATUS_EL1: Non-secure invasive and non-invasive debug implemented but disabled (no external debugger), no Secure state. */
const DBGAUTHSTATUS = 0xa;
/** Eight claim tag bits (DBGCLAIMSET_EL1 reads as the set of implemented bits). */
const CLAIM_BITS = 0xff;

const el0Dcc = (cpu: Cpu): number => ((cpu.sysLo(Sys.MDSCR_EL1) & MDSCR_TDCC) !== 0 ? EL0_TRAP : EL0_OK);

/**
 * DBGBCR<n>_EL1 stores what is written, with BAS[1] a copy of BAS[0] and BAS[3] of BAS[2] (the
 * only BAS values that mean anything for A64 instructions are 0b0000 and 0b1111), as on QEMU.
 */
function breakpointControl(index: number, name: string): SysRegDef {
  return {
    name,
    read: (cpu) => set(cpu.sysLo(index), cpu.sysHi(index)),
    write: (cpu, lo, hi) => {
      const bas0 = (lo >>> 5) & 1;
      const bas2 = (lo >>> 7) & 1;
      cpu.setSys(index, (lo & ~((1 << 6) | (1 << 8))) | (bas0 << 6) | (bas2 << 8), hi);
    },
  };
}

/** Adds the debug registers (op0 = 2). */
export function defineDebugRegs(def: DefineSysReg): void {
  for (let n = 0; n < BREAKPOINTS; n++) {
    def(2, 0, 0, n, 4, plain(BVR[n]!, `DBGBVR${n}_EL1`));
    def(2, 0, 0, n, 5, breakpointControl(BCR[n]!, `DBGBCR${n}_EL1`));
  }
  for (let n = 0; n < WATCHPOINTS; n++) {
    def(2, 0, 0, n, 6, plain(WVR[n]!, `DBGWVR${n}_EL1`, { maskLo: ~3 })); // bits 1:0 RES0 (word aligned)
    def(2, 0, 0, n, 7, plain(WCR[n]!, `DBGWCR${n}_EL1`));
  }
  def(2, 0, 0, 2, 2, plain(Sys.MDSCR_EL1, 'MDSCR_EL1', { maskLo: MDSCR_FIELDS, maskHi: 0 }));

  // OS lock: OSLAR_EL1 sets OSLSR_EL1.OSLK (locked out of reset); OSDLR_EL1.DLK is the double lock.
  def(2, 0, 1, 0, 4, { name: 'OSLAR_EL1', write: (cpu, lo) => cpu.setSys(Sys.OSLSR_EL1, OSLSR_OSLM | ((lo & 1) << 1), 0) });
  def(2, 0, 1, 1, 4, { name: 'OSLSR_EL1', read: (cpu) => set(cpu.sysLo(Sys.OSLSR_EL1)) });
  def(2, 0, 1, 3, 4, plain(Sys.OSDLR_EL1, 'OSDLR_EL1', { maskLo: 1, maskHi: 0 }));
  def(2, 0, 1, 4, 4, plain(Sys.DBGPRCR_EL1, 'DBGPRCR_EL1', { maskLo: 1, maskHi: 0 })); // CORENPDRQ
  def(2, 0, 1, 0, 0, constant('MDRAR_EL1', 0)); // no memory-mapped debug ROM table (Valid = 0)

  def(2, 0, 7, 8, 6, {
    name: 'DBGCLAIMSET_EL1',
    read: () => set(CLAIM_BITS),
    write: (cpu, lo) => cpu.setSys(Sys.DBGCLAIM_EL1, cpu.sysLo(Sys.DBGCLAIM_EL1) | (lo & CLAIM_BITS), 0),
  });
  def(2, 0, 7, 9, 6, {
    name: 'DBGCLAIMCLR_EL1',
    read: (cpu) => set(cpu.sysLo(Sys.DBGCLAIM_EL1)),
    write: (cpu, lo) => cpu.setSys(Sys.DBGCLAIM_EL1, cpu.sysLo(Sys.DBGCLAIM_EL1) & ~(lo & CLAIM_BITS), 0),
  });
  def(2, 0, 7, 14, 6, constant('DBGAUTHSTATUS_EL1', DBGAUTHSTATUS));

  // The debug communications channel talks to an external debugger; there is none, so the
  // channel is always empty (as on QEMU): RAZ/WI, and EL0 access obeys MDSCR_EL1.TDCC.
  def(2, 0, 0, 0, 2, razWi('OSDTRRX_EL1'));
  def(2, 0, 0, 2, 0, razWi('MDCCINT_EL1'));
  def(2, 0, 0, 3, 2, razWi('OSDTRTX_EL1'));
  def(2, 0, 0, 6, 2, razWi('OSECCR_EL1'));
  def(2, 3, 0, 1, 0, constant('MDCCSR_EL0', 0, 0, el0Dcc));
  def(2, 3, 0, 4, 0, razWi('DBGDTR_EL0', el0Dcc));
  def(2, 3, 0, 5, 0, razWi('DBGDTRRX_EL0', el0Dcc)); // MSR of this encoding is DBGDTRTX_EL0
}
