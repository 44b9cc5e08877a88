/**
 * Storage of the system registers that hold plain values, as (lo, hi) pairs in one Int32Array,
 * indexed by the constants below. Registers with behaviour (PSTATE fields, ID registers) are
 * computed in sysregs.ts. Named indices keep save/restore and migration explicit.
 */
export const Sys = {
  SCTLR_EL1: 0,
  ACTLR_EL1: 1,
  CPACR_EL1: 2,
  TTBR0_EL1: 3,
  TTBR1_EL1: 4,
  TCR_EL1: 5,
  SPSR_EL1: 6,
  ELR_EL1: 7,
  SP_EL0: 8,
  SP_EL1: 9,
  AFSR0_EL1: 10,
  AFSR1_EL1: 11,
  ESR_EL1: 12,
  FAR_EL1: 13,
  PAR_EL1: 14,
  MAIR_EL1: 15,
  AMAIR_EL1: 16,
  VBAR_EL1: 17,
  CONTEXTIDR_EL1: 18,
  TPIDR_EL1: 19,
  TPIDR_EL0: 20,
  TPIDRRO_EL0: 21,
  CNTKCTL_EL1: 22,
  GCR_EL1: 23,
  RGSR_EL1: 24,
  TFSR_EL1: 25,
  TFSRE0_EL1: 26,
  MDSCR_EL1: 27,
  CSSELR_EL1: 28,
  OSDLR_EL1: 29,
  OSLSR_EL1: 30,
  // Breakpoint and watchpoint registers (sysregs-debug.ts); DBGCLAIM_EL1 holds the claim tags.
  DBGBVR0_EL1: 31,
  DBGBVR1_EL1: 32,
  DBGBVR2_EL1: 33,
  DBGBVR3_EL1: 34,
  DBGBVR4_EL1: 35,
  DBGBVR5_EL1: 36,
  DBGBCR0_EL1: 37,
  DBGBCR1_EL1: 38,
  DBGBCR2_EL1: 39,
  DBGBCR3_EL1: 40,
  DBGBCR4_EL1: 41,
  DBGBCR5_EL1: 42,
  DBGWVR0_EL1: 43,
  DBGWVR1_EL1: 44,
  DBGWVR2_EL1: 45,
  DBGWVR3_EL1: 46,
  DBGWCR0_EL1: 47,
  DBGWCR1_EL1: 48,
  DBGWCR2_EL1: 49,
  DBGWCR3_EL1: 50,
  DBGCLAIM_EL1: 51,
  DBGPRCR_EL1: 52,
  SCXTNUM_EL0: 53,
  SCXTNUM_EL1: 54,
  CNTFRQ_EL0: 55,
} as const;

export type SysName = keyof typeof Sys;
export const SYS_NAMES = Object.keys(Sys) as SysName[];
export const SYS_COUNT = SYS_NAMES.length;

/**
 * Reset values (lo, hi). SCTLR_EL1 resets with its RES1 bits set and the MMU, caches and
 * alignment checks off, as QEMU's -cpu max does at EL1.
 */
export const SYS_RESET: Partial<Record<SysName, readonly [number, number]>> = {
  SCTLR_EL1: [0x30d00800 | 0, 0],
  OSLSR_EL1: [0x8 | 0x2, 0], // OSLM = 0b10 (OS lock implemented), OSLK = 1 out of reset
  CNTFRQ_EL0: [1_000_000_000, 0], // the counter ticks once per instruction, 1 GHz nominal
};
