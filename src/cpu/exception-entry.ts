import type { Cpu } from './cpu.js';
import { FAULT_DEBUG } from './debug-hooks.js';
import { EC, PSR, VECTOR } from './exceptions.js';
import { JUMP } from './insn.js';
import { Sys } from './sysreg-state.js';

/** PSTATE as an SPSR_EL1 value (low word; the high word of SPSR is RES0 for these fields). */
export function pstateToSpsr(cpu: Cpu): number {
  return (
    (cpu.nf << PSR.N) |
    (cpu.zf << PSR.Z) |
    (cpu.cf << PSR.C) |
    (cpu.vf << PSR.V) |
    (cpu.tco << PSR.TCO) |
    (cpu.dit << PSR.DIT) |
    (cpu.uao << PSR.UAO) |
    (cpu.pan << PSR.PAN) |
    (cpu.il << PSR.IL) |
    (cpu.ssbs << PSR.SSBS) |
    cpu.daif |
    (cpu.el << 2) |
    cpu.spsel
  );
}

/**
 * Takes an exception to EL1 (there is no EL2/EL3): saves PSTATE and the return address, writes
 * the syndrome, masks interrupts, sets TCO (FEAT_MTE), sets PAN unless SCTLR_EL1.SPAN, and
 * branches to the vector. FAR is the caller's job (only some exceptions define it).
 */
export function takeException(cpu: Cpu, vectorType: number, esrLo: number, returnLo: number, returnHi: number): void {
  const fromLower = cpu.el === 0;
  cpu.setSys(Sys.SPSR_EL1, pstateToSpsr(cpu), 0);
  cpu.setSys(Sys.ELR_EL1, returnLo, returnHi);
  if (vectorType === VECTOR.SYNC) cpu.setSys(Sys.ESR_EL1, esrLo, 0);
  const base = fromLower ? VECTOR.LOWER_A64 : cpu.spsel ? VECTOR.CURRENT_SPX : VECTOR.CURRENT_SP0;
  const sctlrLo = cpu.sysLo(Sys.SCTLR_EL1);
  cpu.daif = 0x3c0;
  cpu.il = 0;
  if (cpu.mte) cpu.tco = 1;
  if ((sctlrLo & (1 << 23)) === 0) cpu.setPan(1); // SPAN == 0
  cpu.ssbs = (cpu.sysHi(Sys.SCTLR_EL1) >>> 12) & 1; // SCTLR_EL1.DSSBS (bit 44)
  cpu.uao = 0;
  cpu.exclusivePa = -1;
  cpu.setElSp(1, 1);
  const vbarLo = cpu.sysLo(Sys.VBAR_EL1);
  cpu.pcLo = (vbarLo & ~0x7ff) + base + vectorType;
  cpu.pcHi = cpu.sysHi(Sys.VBAR_EL1);
  cpu.refetch = true;
}

/** A synchronous exception for the current instruction: ESR = EC:IL=1:ISS, return to this PC. */
export function takeSyncException(cpu: Cpu, ec: number, iss: number): number {
  takeException(cpu, VECTOR.SYNC, (ec << 26) | (1 << 25) | (iss & 0x1ffffff), cpu.pcLo, cpu.pcHi);
  return JUMP;
}

/** The UNDEFINED instruction exception. */
export function undefinedInstruction(cpu: Cpu): number {
  return takeSyncException(cpu, EC.UNKNOWN, 0);
}

/**
 * Data abort for the fault the last access recorded in cpu.fault. ISV is 0: QEMU (and the
 * architecture for stage-1 aborts taken to EL1) provides no instruction syndrome.
 */
export function dataAbort(cpu: Cpu): number {
  if (cpu.fault === FAULT_DEBUG) {
    // A debugger watchpoint, not an abort: the run loop exits with Exit.DEBUG (debug-hooks.ts).
    cpu.fault = 0;
    return JUMP;
  }
  const fsc = cpu.fault & 0x3f;
  cpu.fault = 0;
  cpu.setSys(Sys.FAR_EL1, cpu.faultLo, cpu.faultHi);
  const iss = (cpu.faultCm << 8) | (cpu.faultWrite << 6) | fsc;
  cpu.faultCm = 0;
  return takeSyncException(cpu, cpu.el === 0 ? EC.DABT_LOWER : EC.DABT_SAME, iss);
}

/** ERET: restore PSTATE from SPSR_EL1 and branch to ELR_EL1. */
export function exceptionReturn(cpu: Cpu): number {
  const spsr = cpu.sysLo(Sys.SPSR_EL1);
  const elrLo = cpu.sysLo(Sys.ELR_EL1);
  const elrHi = cpu.sysHi(Sys.ELR_EL1);
  const mode = spsr & 0x1f;
  // Legal targets from EL1: EL0t (0b00000), EL1t (0b00100), EL1h (0b00101).
  const legal = mode === 0 || mode === 4 || mode === 5;
  cpu.nf = (spsr >>> PSR.N) & 1;
  cpu.zf = (spsr >>> PSR.Z) & 1;
  cpu.cf = (spsr >>> PSR.C) & 1;
  cpu.vf = (spsr >>> PSR.V) & 1;
  cpu.daif = spsr & 0x3c0;
  cpu.dit = (spsr >>> PSR.DIT) & 1;
  cpu.ssbs = (spsr >>> PSR.SSBS) & 1;
  cpu.uao = (spsr >>> PSR.UAO) & 1;
  cpu.setPan((spsr >>> PSR.PAN) & 1);
  if (cpu.mte) cpu.tco = (spsr >>> PSR.TCO) & 1;
  cpu.exclusivePa = -1;
  if (legal) {
    cpu.il = (spsr >>> PSR.IL) & 1;
    cpu.setElSp(mode >>> 2, mode & 1);
  } else {
    // An illegal return keeps the EL and sets PSTATE.IL: the next instruction takes an
    // Illegal Execution State exception.
    cpu.il = 1;
    cpu.updateControl();
  }
  branchTo(cpu, elrLo, elrHi);
  cpu.refetch = true;
  return JUMP;
}

/**
 * Writes the PC for a branch to a register value: with TBI for the target's half, the top byte
 * is replaced by copies of bit 55 (AArch64.BranchAddr), so the PC never carries a tag.
 */
export function branchTo(cpu: Cpu, lo: number, hi: number): void {
  const upper = (hi & 0x00800000) !== 0;
  if (upper ? cpu.tbi1 : cpu.tbi0) hi = upper ? hi | (0xff000000 | 0) : hi & 0x00ffffff;
  cpu.pcLo = lo;
  cpu.pcHi = hi;
}
