/** Exception classes (ESR_ELx.EC) this CPU raises. */
export const EC = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  /** SIMD&FP access trapped by CPACR_EL1.FPEN. */
  FP_ACCESS: 0x07,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  IABT_LOWER: 0x20,
  IABT_SAME: 0x21,
  PC_ALIGN: 0x22,
  DABT_LOWER: 0x24,
  DABT_SAME: 0x25,
  SP_ALIGN: 0x26,
  SERROR: 0x2f,
  BRK64: 0x3c,
} as const;

/** Fault status codes (DFSC/IFSC). Level-dependent ones take `| level`. */
export const FSC = {
  ADDRESS_SIZE: 0x00,
  TRANSLATION: 0x04,
  ACCESS_FLAG: 0x08,
  PERMISSION: 0x0c,
  EXTERNAL: 0x10,
  TAG_CHECK: 0x11,
  EXTERNAL_WALK: 0x14,
  ALIGNMENT: 0x21,
} as const;

/** Vector table offsets (added to VBAR_EL1). */
export const VECTOR = {
  CURRENT_SP0: 0x000,
  CURRENT_SPX: 0x200,
  LOWER_A64: 0x400,
  SYNC: 0x000,
  IRQ: 0x080,
  FIQ: 0x100,
  SERROR: 0x180,
} as const;

/** SPSR / PSTATE bit positions (AArch64 view). */
export const PSR = {
  N: 31,
  Z: 30,
  C: 29,
  V: 28,
  TCO: 25,
  DIT: 24,
  UAO: 23,
  PAN: 22,
  SS: 21,
  IL: 20,
  SSBS: 12,
  D: 9,
  A: 8,
  I: 7,
  F: 6,
} as const;
