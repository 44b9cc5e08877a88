/**
 * A64 instruction encoders for the random instruction tests: each returns one 32-bit word
 * (unsigned) from its fields, without checking them (the generator chooses valid fields).
 * Bit layouts follow the Arm ARM (DDI 0487), chapter C4 "A64 Instruction Set Encoding".
 * Register fields are 0..31 (31 is SP or ZR as the instruction defines).
 */

const u = (w: number): number => w >>> 0;
const r5 = (r: number): number => r & 31;

// ---- data processing, immediate ----

/** ADD/ADDS/SUB/SUBS (immediate): sf op S 100010 sh imm12 Rn Rd. */
export const addSubImm = (sf: number, op: number, s: number, sh: number, imm12: number, rn: number, rd: number): number =>
  u((sf << 31) | (op << 30) | (s << 29) | 0x11000000 | (sh << 22) | ((imm12 & 0xfff) << 10) | (r5(rn) << 5) | r5(rd));

/** ADDG/SUBG: 1 op 0 100011 0 uimm6 00 uimm4 Rn Rd. */
export const addSubTag = (op: number, uimm6: number, uimm4: number, rn: number, rd: number): number =>
  u(0x91800000 | (op << 30) | ((uimm6 & 0x3f) << 16) | ((uimm4 & 15) << 10) | (r5(rn) << 5) | r5(rd));

/** AND/ORR/EOR/ANDS (immediate): sf opc 100100 N immr imms Rn Rd. */
export const logicalImm = (sf: number, opc: number, n: number, immr: number, imms: number, rn: number, rd: number): number =>
  u((sf << 31) | (opc << 29) | 0x12000000 | (n << 22) | ((immr & 0x3f) << 16) | ((imms & 0x3f) << 10) | (r5(rn) << 5) | r5(rd));

/** MOVN (opc 0) / MOVZ (2) / MOVK (3): sf opc 100101 hw imm16 Rd. */
export const moveWide = (sf: number, opc: number, hw: number, imm16: number, rd: number): number =>
  u((sf << 31) | (opc << 29) | 0x12800000 | (hw << 21) | ((imm16 & 0xffff) << 5) | r5(rd));

/** SBFM (opc 0) / BFM (1) / UBFM (2): sf opc 100110 N immr imms Rn Rd. */
export const bitfield = (sf: number, opc: number, immr: number, imms: number, rn: number, rd: number): number =>
  u((sf << 31) | (opc << 29) | 0x13000000 | (sf << 22) | ((immr & 0x3f) << 16) | ((imms & 0x3f) << 10) | (r5(rn) << 5) | r5(rd));

/** EXTR: sf 00 100111 N 0 Rm imms Rn Rd. */
export const extr = (sf: number, rm: number, imms: number, rn: number, rd: number): number =>
  u((sf << 31) | 0x13800000 | (sf << 22) | (r5(rm) << 16) | ((imms & 0x3f) << 10) | (r5(rn) << 5) | r5(rd));

/** ADR (op 0, byte offset) / ADRP (op 1, page offset): op immlo 10000 immhi Rd; imm is 21 bits signed. */
export const adr = (op: number, imm21: number, rd: number): number =>
  u((op << 31) | ((imm21 & 3) << 29) | 0x10000000 | (((imm21 >> 2) & 0x7ffff) << 5) | r5(rd));

// ---- data processing, register ----

/** AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd. */
export const logicalReg = (sf: number, opc: number, shift: number, n: number, rm: number, imm6: number, rn: number, rd: number): number =>
  u((sf << 31) | (opc << 29) | 0x0a000000 | (shift << 22) | (n << 21) | (r5(rm) << 16) | ((imm6 & 0x3f) << 10) | (r5(rn) << 5) | r5(rd));

/** ADD/ADDS/SUB/SUBS (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd. */
export const addSubShifted = (sf: number, op: number, s: number, shift: number, rm: number, imm6: number, rn: number, rd: number): number =>
  u((sf << 31) | (op << 30) | (s << 29) | 0x0b000000 | (shift << 22) | (r5(rm) << 16) | ((imm6 & 0x3f) << 10) | (r5(rn) << 5) | r5(rd));

/** ADD/ADDS/SUB/SUBS (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd. */
export const addSubExtended = (sf: number, op: number, s: number, rm: number, option: number, imm3: number, rn: number, rd: number): number =>
  u((sf << 31) | (op << 30) | (s << 29) | 0x0b200000 | (r5(rm) << 16) | ((option & 7) << 13) | ((imm3 & 7) << 10) | (r5(rn) << 5) | r5(rd));

/** ADC/ADCS/SBC/SBCS: sf op S 11010000 Rm 000000 Rn Rd. */
export const addSubCarry = (sf: number, op: number, s: number, rm: number, rn: number, rd: number): number =>
  u((sf << 31) | (op << 30) | (s << 29) | 0x1a000000 | (r5(rm) << 16) | (r5(rn) << 5) | r5(rd));

/** RMIF Xn, #imm6, #mask (FEAT_FlagM). */
export const rmif = (imm6: number, rn: number, mask: number): number => u(0xba000400 | ((imm6 & 0x3f) << 15) | (r5(rn) << 5) | (mask & 15));

/** SETF8 (sz 0) / SETF16 (sz 1) Wn (FEAT_FlagM). */
export const setf = (sz: number, rn: number): number => u(0x3a00080d | (sz << 14) | (r5(rn) << 5));

/** CCMN (op 0) / CCMP (op 1), register (imm = 0) or immediate (imm = 1; rm is imm5). */
export const condCompare = (sf: number, op: number, imm: number, rmOrImm5: number, cond: number, rn: number, nzcv: number): number =>
  u((sf << 31) | (op << 30) | 0x3a400000 | (r5(rmOrImm5) << 16) | ((cond & 15) << 12) | (imm << 11) | (r5(rn) << 5) | (nzcv & 15));

/** CSEL (op 0, o2 0) / CSINC (0, 1) / CSINV (1, 0) / CSNEG (1, 1): sf op 0 11010100 Rm cond 0 o2 Rn Rd. */
export const condSelect = (sf: number, op: number, o2: number, rm: number, cond: number, rn: number, rd: number): number =>
  u((sf << 31) | (op << 30) | 0x1a800000 | (r5(rm) << 16) | ((cond & 15) << 12) | (o2 << 10) | (r5(rn) << 5) | r5(rd));

/** Data-processing (1 source): RBIT 0, REV16 1, REV32/REV(W) 2, REV(X) 3, CLZ 4, CLS 5. */
export const dp1 = (sf: number, opcode: number, rn: number, rd: number): number =>
  u((sf << 31) | 0x5ac00000 | (opcode << 10) | (r5(rn) << 5) | r5(rd));

/** Data-processing (2 source): UDIV 2, SDIV 3, LSLV 8, LSRV 9, ASRV 10, RORV 11, CRC32 16..19, CRC32C 20..23. */
export const dp2 = (sf: number, opcode: number, rm: number, rn: number, rd: number): number =>
  u((sf << 31) | 0x1ac00000 | (r5(rm) << 16) | (opcode << 10) | (r5(rn) << 5) | r5(rd));

/** Data-processing (3 source): sf 00 11011 op31 Rm o0 Ra Rn Rd. */
export const dp3 = (sf: number, op31: number, o0: number, rm: number, ra: number, rn: number, rd: number): number =>
  u((sf << 31) | 0x1b000000 | (op31 << 21) | (r5(rm) << 16) | (o0 << 15) | (r5(ra) << 10) | (r5(rn) << 5) | r5(rd));

/** IRG Xd|SP, Xn|SP, Xm. */
export const irg = (rd: number, rn: number, rm: number): number => u(0x9ac01000 | (r5(rm) << 16) | (r5(rn) << 5) | r5(rd));
/** GMI Xd, Xn|SP, Xm. */
export const gmi = (rd: number, rn: number, rm: number): number => u(0x9ac01400 | (r5(rm) << 16) | (r5(rn) << 5) | r5(rd));
/** SUBP (s 0) / SUBPS (s 1) Xd, Xn|SP, Xm|SP. */
export const subp = (s: number, rd: number, rn: number, rm: number): number => u(0x9ac00000 | (s << 29) | (r5(rm) << 16) | (r5(rn) << 5) | r5(rd));

// ---- system ----

export const NOP = 0xd503201f;
export const CFINV = 0xd500401f;
export const XAFLAG = 0xd500403f;
export const AXFLAG = 0xd500405f;
/** CLREX #crm. */
export const clrex = (crm = 15): number => u(0xd503305f | ((crm & 15) << 8));
/** DMB (opc 5) / DSB (4) / ISB (6) with CRm option. */
export const barrier = (opc: number, crm: number): number => u(0xd503301f | ((crm & 15) << 8) | (opc << 5));
/** MSR NZCV, Xt. */
export const msrNzcv = (rt: number): number => u(0xd51b4200 | r5(rt));
/** MRS Xt, NZCV. */
export const mrsNzcv = (rt: number): number => u(0xd53b4200 | r5(rt));
/** MSR TCO, #imm (PSTATE field, op1 = 3, op2 = 4). */
export const msrTcoImm = (imm: number): number => u(0xd503409f | ((imm & 15) << 8));
/** MRS Xt, TCO (S3_3_C4_C2_7). */
export const mrsTco = (rt: number): number => u(0xd53b42e0 | r5(rt));
/** MSR TCO, Xt. */
export const msrTco = (rt: number): number => u(0xd51b42e0 | r5(rt));
/** MSR <pstatefield>, #imm: UAO (op1 0, op2 3), SSBS (3, 1), DIT (3, 2), TCO (3, 4). */
export const msrPstate = (op1: number, op2: number, imm: number): number => u(0xd500401f | (op1 << 16) | ((imm & 15) << 8) | (op2 << 5));
/** MRS Xt / MSR Xt of a PSTATE register: UAO (S3_0_C4_C2_4), DIT (S3_3_C4_C2_5), SSBS (S3_3_C4_C2_6). */
export const mrsPstate = (op1: number, op2: number, rt: number): number => u(0xd5384200 | (op1 << 16) | (op2 << 5) | r5(rt));
export const msrPstateReg = (op1: number, op2: number, rt: number): number => u(0xd5184200 | (op1 << 16) | (op2 << 5) | r5(rt));
/** MRS Xt, SCTLR_EL1 / MSR SCTLR_EL1, Xt / MRS Xt, TCR_EL1 / MSR TCR_EL1, Xt. */
export const mrsSctlr = (rt: number): number => u(0xd5381000 | r5(rt));
export const msrSctlr = (rt: number): number => u(0xd5181000 | r5(rt));
export const mrsTcr = (rt: number): number => u(0xd5382040 | r5(rt));
export const msrTcr = (rt: number): number => u(0xd5182040 | r5(rt));
/** TLBI VMALLE1. */
export const TLBI_VMALLE1 = 0xd508871f;
/** DC ZVA (op2 1), DC GVA (op2 3), DC GZVA (op2 4), Xt. */
export const dcZero = (op2: number, rt: number): number => u(0xd50b7400 | (op2 << 5) | r5(rt));
export const brk = (imm16: number): number => u(0xd4200000 | ((imm16 & 0xffff) << 5));
export const svc = (imm16: number): number => u(0xd4000001 | ((imm16 & 0xffff) << 5));
export const hlt = (imm16: number): number => u(0xd4400000 | ((imm16 & 0xffff) << 5));
export const udf = (imm16: number): number => imm16 & 0xffff;

// ---- branches ----

/** B (link 0) / BL (link 1) with a word offset. */
export const b = (link: number, words: number): number => u((link << 31) | 0x14000000 | (words & 0x3ffffff));
/** B.cond with a word offset. */
export const bcond = (cond: number, words: number): number => u(0x54000000 | ((words & 0x7ffff) << 5) | (cond & 15));
/** CBZ (op 0) / CBNZ (op 1). */
export const cb = (sf: number, op: number, words: number, rt: number): number => u((sf << 31) | 0x34000000 | (op << 24) | ((words & 0x7ffff) << 5) | r5(rt));
/** TBZ (op 0) / TBNZ (op 1) on bit `bit` (0..63). */
export const tb = (op: number, bit: number, words: number, rt: number): number =>
  u(((bit >> 5) << 31) | 0x36000000 | (op << 24) | ((bit & 31) << 19) | ((words & 0x3fff) << 5) | r5(rt));
/** BR (kind 0) / BLR (1) / RET (2) Xn. */
export const branchReg = (kind: number, rn: number): number => u([0xd61f0000, 0xd63f0000, 0xd65f0000][kind]! | (r5(rn) << 5));

// ---- loads and stores ----

/** Load/store register (unsigned offset): size 111001 opc imm12 Rn Rt. */
export const ldstUoff = (size: number, opc: number, imm12: number, rn: number, rt: number): number =>
  u((size << 30) | 0x39000000 | (opc << 22) | ((imm12 & 0xfff) << 10) | (r5(rn) << 5) | r5(rt));

/** Load/store register, imm9 forms: mode 0 unscaled (LDUR), 1 post-index, 2 unprivileged (LDTR), 3 pre-index. */
export const ldstImm9 = (size: number, opc: number, imm9: number, mode: number, rn: number, rt: number): number =>
  u((size << 30) | 0x38000000 | (opc << 22) | ((imm9 & 0x1ff) << 12) | (mode << 10) | (r5(rn) << 5) | r5(rt));

/** Load/store register (register offset): option 2 UXTW, 3 LSL, 6 SXTW, 7 SXTX; s scales by the size. */
export const ldstReg = (size: number, opc: number, rm: number, option: number, s: number, rn: number, rt: number): number =>
  u((size << 30) | 0x38200800 | (opc << 22) | (r5(rm) << 16) | (option << 13) | (s << 12) | (r5(rn) << 5) | r5(rt));

/** Load register (literal): opc 0 LDR W, 1 LDR X, 2 LDRSW, 3 PRFM. */
export const ldrLiteral = (opc: number, words: number, rt: number): number => u((opc << 30) | 0x18000000 | ((words & 0x7ffff) << 5) | r5(rt));

/** Load/store pair: opc 0 W, 1 LDPSW (L 1) / STGP (L 0), 2 X; mode 0 no-allocate, 1 post, 2 offset, 3 pre. */
export const ldstPair = (opc: number, mode: number, load: number, imm7: number, rt2: number, rn: number, rt: number): number =>
  u((opc << 30) | 0x28000000 | (mode << 23) | (load << 22) | ((imm7 & 0x7f) << 15) | (r5(rt2) << 10) | (r5(rn) << 5) | r5(rt));

/** LSE atomic memory operation: op 0..7 = ADD CLR EOR SET SMAX SMIN UMAX UMIN (o3 0), 8 = SWP. */
export const atomic = (size: number, a: number, r: number, rs: number, op: number, rn: number, rt: number): number =>
  u((size << 30) | 0x38200000 | (a << 23) | (r << 22) | (r5(rs) << 16) | (op === 8 ? 0x8000 : op << 12) | (r5(rn) << 5) | r5(rt));

/** LDAPR (FEAT_LRCPC). */
export const ldapr = (size: number, rn: number, rt: number): number => u((size << 30) | 0x38bfc000 | (r5(rn) << 5) | r5(rt));
/** LDAR. */
export const ldar = (size: number, rn: number, rt: number): number => u((size << 30) | 0x08dffc00 | (r5(rn) << 5) | r5(rt));
/** STLR. */
export const stlr = (size: number, rn: number, rt: number): number => u((size << 30) | 0x089ffc00 | (r5(rn) << 5) | r5(rt));
/** LDXR (acq 0) / LDAXR (acq 1). */
export const ldxr = (size: number, acq: number, rn: number, rt: number): number => u((size << 30) | 0x085f7c00 | (acq << 15) | (r5(rn) << 5) | r5(rt));
/** STXR (rel 0) / STLXR (rel 1) Ws, Rt, [Xn]. */
export const stxr = (size: number, rel: number, rs: number, rn: number, rt: number): number =>
  u((size << 30) | 0x08007c00 | (r5(rs) << 16) | (rel << 15) | (r5(rn) << 5) | r5(rt));
/** LDXP / LDAXP (sz 0: W, 1: X). */
export const ldxp = (sz: number, acq: number, rt2: number, rn: number, rt: number): number =>
  u(0x887f0000 | (sz << 30) | (acq << 15) | (r5(rt2) << 10) | (r5(rn) << 5) | r5(rt));
/** STXP / STLXP (sz 0: W, 1: X). */
export const stxp = (sz: number, rel: number, rs: number, rt2: number, rn: number, rt: number): number =>
  u(0x88200000 | (sz << 30) | (r5(rs) << 16) | (rel << 15) | (r5(rt2) << 10) | (r5(rn) << 5) | r5(rt));
/** CAS / CASA (l) / CASL (o0) / CASAL. */
export const cas = (size: number, l: number, o0: number, rs: number, rn: number, rt: number): number =>
  u((size << 30) | 0x08a07c00 | (l << 22) | (r5(rs) << 16) | (o0 << 15) | (r5(rn) << 5) | r5(rt));
/** CASP family (sz 0: W pairs, 1: X pairs); rs and rt even. */
export const casp = (sz: number, l: number, o0: number, rs: number, rn: number, rt: number): number =>
  u((sz << 30) | 0x08207c00 | (l << 22) | (r5(rs) << 16) | (o0 << 15) | (r5(rn) << 5) | r5(rt));
/** STLUR (opc 0) / LDAPUR (1) / LDAPURS to X (2) / LDAPURS to W (3) (FEAT_LRCPC2). */
export const ldapur = (size: number, opc: number, imm9: number, rn: number, rt: number): number =>
  u((size << 30) | 0x19000000 | (opc << 22) | ((imm9 & 0x1ff) << 12) | (r5(rn) << 5) | r5(rt));

// ---- memory tagging ----

/** STG (opc 0) / STZG (1) / ST2G (2) / STZ2G (3); op2 1 post-index, 2 signed offset, 3 pre-index; imm9 in granules. */
export const storeTag = (opc: number, imm9: number, op2: number, rn: number, rt: number): number =>
  u(0xd9200000 | (opc << 22) | ((imm9 & 0x1ff) << 12) | (op2 << 10) | (r5(rn) << 5) | r5(rt));
/** LDG Xt, [Xn|SP, #imm9 * 16]. */
export const ldg = (imm9: number, rn: number, rt: number): number => u(0xd9600000 | ((imm9 & 0x1ff) << 12) | (r5(rn) << 5) | r5(rt));
/** STZGM (opc 0) / STGM (2) / LDGM (3) Xt, [Xn|SP]. */
export const tagMultiple = (opc: number, rn: number, rt: number): number => u(0xd9200000 | (opc << 22) | (r5(rn) << 5) | r5(rt));
/** STGP Xt, Xt2, [Xn|SP, #imm7 * 16]; mode 1 post, 2 offset, 3 pre. */
export const stgp = (mode: number, imm7: number, rt2: number, rn: number, rt: number): number =>
  u(0x68000000 | (mode << 23) | ((imm7 & 0x7f) << 15) | (r5(rt2) << 10) | (r5(rn) << 5) | r5(rt));
