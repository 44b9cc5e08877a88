/**
 * Identification registers: what the CPU tells a kernel it implements. Every value and how it
 * differs from QEMU -cpu max is explained in docs/cpu.md; a field may only advertise a feature
 * whose instructions and registers exist here.
 */
import type { Cpu } from './cpu.js';
import { Sys } from './sysreg-state.js';
import { constant, el0Always, el0IdTrap, EL0_OK, EL0_TRAP, plain, set, type DefineSysReg, type SysRegDef } from './sysregs-common.js';
import { BREAKPOINTS, CONTEXT_BREAKPOINTS, WATCHPOINTS } from './sysregs-debug.js';

/** DCZID_EL0.BS: log2 of the DC ZVA block in words (64 bytes). */
const DCZID_BS = 4;

/** MIDR_EL1: implementer 0 (software use), architecture 0xf (ID registers), part 0, revision 0. */
export const MIDR = 0x000f0000;

/**
 * ID_AA64PFR0_EL1 FP and AdvSIMD (bits 23:16) = 0: implemented, without half-precision
 * arithmetic (FEAT_FP16 would be 1). A kernel lets EL0 use the registers only when these say so.
 */
const PFR0_FP_ADVSIMD = 0x00000000;
/** EL0 and EL1 AArch64 only (EL2, EL3 absent), DIT = 1, CSV2 = 3, CSV3 = 1. */
export const ID_AA64PFR0 = { lo: 0x00000011 | PFR0_FP_ADVSIMD, hi: 0x13010000 } as const;
/** GIC (bits 27:24) = 1 when the GICv3 CPU interface is reached through system registers. */
const PFR0_GIC = 1 << 24;

/** DebugVer = 6 (Armv8.0 debug), BRPs, WRPs and CTX_CMPs as counts minus one, PMUVer = 0 (no PMU). */
export const ID_AA64DFR0 = 0x6 | ((BREAKPOINTS - 1) << 12) | ((WATCHPOINTS - 1) << 20) | ((CONTEXT_BREAKPOINTS - 1) << 28);

/**
 * AES = 2 (AES and PMULL 64x64), SHA1 = 1, SHA2 = 1 (SHA-256 only), CRC32 = 1, Atomic = 2 (LSE),
 * RDM = 1; hi: DP = 1 (SDOT/UDOT), TS = 2 (FlagM2), TLB = 2 (TLBI outer shareable and range).
 * SHA3, SHA512, SM3, SM4, FHM and I8MM are not implemented: 0.
 */
export const ID_AA64ISAR0 = { lo: 0x10211120, hi: 0x02201000 } as const;
/** DPB = 2 (DC CVAP, DC CVADP), JSCVT = 1 (FJCVTZS), LRCPC = 2; hi: FRINTTS = 1 (FRINT32/64), SB = 1. */
export const ID_AA64ISAR1 = { lo: 0x00201002, hi: 0x00000011 } as const;
/** PARange = 48 bits, 16-bit ASIDs, 4 KiB granule only (TGran16 = 0, TGran64 = 0xf). */
export const ID_AA64MMFR0 = 0x0f000025;
/** HAFDBS = 1 (hardware access flag, no dirty state), PAN = 2 (AT S1E1RP/WP). */
export const ID_AA64MMFR1 = 0x00200001;
/** UAO = 1; hi: AT = 1 (LSE2 alignment), IDS = 1 (FEAT_IDST). */
export const ID_AA64MMFR2 = { lo: 0x00000010, hi: 0x00000011 } as const;
/** CTR_EL0: DIC = IDC = 1 (decoded code follows data writes), 64-byte lines, PIPT I-cache. */
export const CTR_EL0 = 0xb444c004 | 0;

/** CTR_EL0 at EL0: SCTLR_EL1.UCT, else trapped. */
const el0Uct = (cpu: Cpu): number => ((cpu.sysLo(Sys.SCTLR_EL1) & (1 << 15)) !== 0 ? EL0_OK : EL0_TRAP);

/** Adds the identification and cache-identification registers. */
export function defineIdRegs(def: DefineSysReg): void {
  const id = (crm: number, op2: number, reg: SysRegDef): void => def(3, 0, 0, crm, op2, reg);
  id(0, 0, constant('MIDR_EL1', MIDR, 0, el0IdTrap));
  id(0, 5, constant('MPIDR_EL1', 0x80000000 | 0, 0, el0IdTrap)); // Aff0 = 0, uniprocessor bit clear (as QEMU)
  id(0, 6, constant('REVIDR_EL1', 0, 0, el0IdTrap));
  id(4, 0, {
    name: 'ID_AA64PFR0_EL1',
    // As QEMU gic-version=3: the GIC field follows the attached interrupt controller (src/hv/vgic).
    read: (cpu) => set(ID_AA64PFR0.lo | (cpu.sysregHooks?.gicSystemRegisters ? PFR0_GIC : 0), ID_AA64PFR0.hi),
    el0: el0IdTrap,
  });
  id(4, 1, {
    name: 'ID_AA64PFR1_EL1',
    // SSBS = 2 (MSR/MRS SSBS); MTE = 3 (FEAT_MTE3, as QEMU -cpu max) only when the VM has MTE.
    read: (cpu) => set(cpu.mte ? 0x320 : 0x020),
    el0: el0IdTrap,
  });
  id(4, 4, constant('ID_AA64ZFR0_EL1', 0, 0, el0IdTrap));
  id(4, 5, constant('ID_AA64SMFR0_EL1', 0, 0, el0IdTrap));
  id(5, 0, constant('ID_AA64DFR0_EL1', ID_AA64DFR0, 0, el0IdTrap));
  id(5, 1, constant('ID_AA64DFR1_EL1', 0, 0, el0IdTrap));
  id(5, 4, constant('ID_AA64AFR0_EL1', 0, 0, el0IdTrap));
  id(5, 5, constant('ID_AA64AFR1_EL1', 0, 0, el0IdTrap));
  id(6, 0, constant('ID_AA64ISAR0_EL1', ID_AA64ISAR0.lo, ID_AA64ISAR0.hi, el0IdTrap));
  id(6, 1, constant('ID_AA64ISAR1_EL1', ID_AA64ISAR1.lo, ID_AA64ISAR1.hi, el0IdTrap));
  id(6, 2, constant('ID_AA64ISAR2_EL1', 0, 0, el0IdTrap));
  id(7, 0, constant('ID_AA64MMFR0_EL1', ID_AA64MMFR0, 0, el0IdTrap));
  id(7, 1, constant('ID_AA64MMFR1_EL1', ID_AA64MMFR1, 0, el0IdTrap));
  id(7, 2, constant('ID_AA64MMFR2_EL1', ID_AA64MMFR2.lo, ID_AA64MMFR2.hi, el0IdTrap));
  id(7, 3, constant('ID_AA64MMFR3_EL1', 0, 0, el0IdTrap));
  // The AArch32 ID registers (CRm 1..3) read as zero through the reserved-ID-space rule:
  // no AArch32 at any EL (lookupSysReg in sysregs.ts).

  def(3, 1, 0, 0, 4, { name: 'GMID_EL1', read: () => set(6), el0: el0IdTrap, mte: true }); // 256-byte LDGM/STGM blocks
  // No caches to describe: CLIDR_EL1 = 0 (LoC = LoUU = LoUIS = 0, no maintenance needed).
  def(3, 1, 0, 0, 0, constant('CCSIDR_EL1', 0, 0, el0IdTrap));
  def(3, 1, 0, 0, 1, constant('CLIDR_EL1', 0, 0, el0IdTrap));
  def(3, 1, 0, 0, 7, constant('AIDR_EL1', 0, 0, el0IdTrap));
  def(3, 2, 0, 0, 0, plain(Sys.CSSELR_EL1, 'CSSELR_EL1', { maskLo: 0xf, maskHi: 0 }));
  def(3, 3, 0, 0, 1, constant('CTR_EL0', CTR_EL0, 0, el0Uct));
  def(3, 3, 0, 0, 7, {
    name: 'DCZID_EL0',
    // BS = 4: DC ZVA zeroes 64 bytes. DZP is set while EL0 may not use DC ZVA.
    read: (cpu) => set(DCZID_BS | (cpu.el === 0 && (cpu.sysLo(Sys.SCTLR_EL1) & (1 << 14)) === 0 ? 16 : 0)),
    el1Value: [DCZID_BS, 0],
    el0: el0Always,
  });
}

/**
 * FEAT_IDST's feature ID space (op0 = 3, op1 = 0, 1 or 3, CRn = 0, CRm = 0..7): an MRS of an
 * unallocated encoding there is reported with EC 0x18 rather than as UNDEFINED, at EL0 and EL1.
 */
export function inIdSpace(key: number): boolean {
  const op1 = (key >>> 11) & 7;
  return key >>> 14 === 3 && (op1 === 0 || op1 === 1 || op1 === 3) && ((key >>> 7) & 15) === 0 && ((key >>> 3) & 15) <= 7;
}

/**
 * op0 = 3, op1 = 0, CRn = 0, CRm = 1..7 without a register are reserved ID registers: RAZ at EL1
 * (the AArch32 ID registers among them, since AArch32 is not implemented).
 */
export function isReservedIdRegister(key: number): boolean {
  const crm = (key >>> 3) & 15;
  return key >>> 14 === 3 && ((key >>> 11) & 7) === 0 && ((key >>> 7) & 15) === 0 && crm >= 1 && crm <= 7;
}
