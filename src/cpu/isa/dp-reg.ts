import { Insn, type Exec } from '../insn.js';
import { rsp, rz, wz } from '../regs.js';
import * as A from './dp-reg-arith.js';
import * as O from './dp-reg-ops.js';
import { decodeFlagManipulation } from './flagm.js';
import { decodeMteDataProcessing } from './mte-insns.js';

/**
 * Data processing - register (DDI 0487, C4.1.89): logical and add/subtract (shifted and extended
 * register), add/subtract with carry, conditional compare and select, data processing with one,
 * two and three sources; FEAT_FlagM's RMIF and SETF8/16 live in flagm.ts. FEAT_CSSC (ABS, CNT, CTZ, SMAX...),
 * FEAT_PAuth (PACGA, PAC*, AUT*, XPAC*) and FEAT_CPA forms are UNDEFINED: the CPU does not report
 * them. IRG, GMI, SUBP and SUBPS are decoded by mte-insns.ts.
 */
export function decodeDpReg(word: number, mte: boolean): Insn | null {
  if (((word >>> 28) & 1) === 0) {
    if (((word >>> 24) & 1) === 0) return decodeLogical(word);
    return (word >>> 21) & 1 ? decodeAddSubExtended(word) : decodeAddSubShifted(word);
  }
  const op2 = (word >>> 21) & 15;
  if (op2 >= 8) return decodeDp3(word);
  switch (op2) {
    case 0:
      return decodeAddSubCarry(word);
    case 2:
      return decodeCondCompare(word);
    case 4:
      return decodeCondSelect(word);
    case 6:
      return (word >>> 30) & 1 ? decodeDp1(word) : decodeDp2(word, mte);
    default:
      return null;
  }
}

function make(exec: Exec, word: number, d: number, n: number, m: number): Insn {
  const insn = new Insn(exec, word);
  insn.d = d;
  insn.n = n;
  insn.m = m;
  return insn;
}

// Executors indexed by opc (AND, ORR, EOR, ANDS); N (invert) is a mask in insn.u.
const LOGICAL_64 = [A.andR64, A.orrR64, A.eorR64, A.andsR64];
const LOGICAL_SHIFTED_64 = [A.andRS64, A.orrRS64, A.eorRS64, A.andsRS64];
const LOGICAL_32 = [A.andR32, A.orrR32, A.eorR32, A.andsR32];
const LOGICAL_SHIFTED_32 = [A.andRS32, A.orrRS32, A.eorRS32, A.andsRS32];

/** Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd. */
function decodeLogical(word: number): Insn | null {
  const sf = word >>> 31;
  const opc = (word >>> 29) & 3;
  const shift = (word >>> 22) & 3;
  const invert = (word >>> 21) & 1;
  const amount = (word >>> 10) & 0x3f;
  if (!sf && amount >= 32) return null;
  const rd = word & 31;
  const rn = (word >>> 5) & 31;
  const rm = (word >>> 16) & 31;
  if (opc === 1 && rn === 31 && amount === 0 && !invert) {
    // MOV (register): ORR Rd, ZR, Rm.
    return make(sf ? A.mov64 : A.mov32, word, wz(rd), rz(rn), rz(rm));
  }
  const shifted = amount !== 0;
  const exec = (sf ? (shifted ? LOGICAL_SHIFTED_64 : LOGICAL_64) : shifted ? LOGICAL_SHIFTED_32 : LOGICAL_32)[opc]!;
  const insn = make(exec, word, wz(rd), rz(rn), rz(rm));
  insn.s = amount;
  insn.t = shift;
  insn.u = invert ? -1 : 0;
  return insn;
}

// Executors indexed by op:S (ADD, ADDS, SUB, SUBS).
const ADDSUB_64 = [A.addR64, A.addsR64, A.subR64, A.subsR64];
const ADDSUB_SHIFTED_64 = [A.addRS64, A.addsRS64, A.subRS64, A.subsRS64];
const ADDSUB_32 = [A.addR32, A.addsR32, A.subR32, A.subsR32];
const ADDSUB_SHIFTED_32 = [A.addRS32, A.addsRS32, A.subRS32, A.subsRS32];

/** Add/subtract (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd. */
function decodeAddSubShifted(word: number): Insn | null {
  const sf = word >>> 31;
  const opS = (word >>> 29) & 3;
  const shift = (word >>> 22) & 3;
  const amount = (word >>> 10) & 0x3f;
  if (shift === 3 || (!sf && amount >= 32)) return null;
  const shifted = amount !== 0;
  const exec = (sf ? (shifted ? ADDSUB_SHIFTED_64 : ADDSUB_64) : shifted ? ADDSUB_SHIFTED_32 : ADDSUB_32)[opS]!;
  const insn = make(exec, word, wz(word & 31), rz((word >>> 5) & 31), rz((word >>> 16) & 31));
  insn.s = amount;
  insn.t = shift;
  return insn;
}

const ADDSUB_EXT_64 = [A.addX64, A.addsX64, A.subX64, A.subsX64];
const ADDSUB_EXT_32 = [A.addX32, A.addsX32, A.subX32, A.subsX32];

/** Add/subtract (extended register): sf op S 01011 opt 1 Rm option imm3 Rn Rd. */
function decodeAddSubExtended(word: number): Insn | null {
  const sf = word >>> 31;
  const opS = (word >>> 29) & 3;
  const amount = (word >>> 10) & 7;
  if ((word >>> 22) & 3 || amount > 4) return null;
  const rd = word & 31;
  const insn = make((sf ? ADDSUB_EXT_64 : ADDSUB_EXT_32)[opS]!, word, opS & 1 ? wz(rd) : rsp(rd), rsp((word >>> 5) & 31), rz((word >>> 16) & 31));
  insn.s = amount;
  insn.t = (word >>> 13) & 7; // option: UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW, SXTX
  return insn;
}

const CARRY_64 = [A.adc64, A.adcs64, A.sbc64, A.sbcs64];
const CARRY_32 = [A.adc32, A.adcs32, A.sbc32, A.sbcs32];

/** Add/subtract (with carry): sf op S 11010000 Rm 000000 Rn Rd; RMIF and SETF8/16 (FEAT_FlagM) share the space. */
function decodeAddSubCarry(word: number): Insn | null {
  if ((word >>> 10) & 0x3f) return decodeFlagManipulation(word);
  const sf = word >>> 31;
  return make((sf ? CARRY_64 : CARRY_32)[(word >>> 29) & 3]!, word, wz(word & 31), rz((word >>> 5) & 31), rz((word >>> 16) & 31));
}

/** Conditional compare (register / immediate): sf op 1 11010010 Rm|imm5 cond x o2 Rn o3 nzcv. */
function decodeCondCompare(word: number): Insn | null {
  if (((word >>> 29) & 1) === 0 || (word >>> 10) & 1 || (word >>> 4) & 1) return null;
  const sf = word >>> 31;
  const sub = (word >>> 30) & 1;
  const immediate = (word >>> 11) & 1;
  const field = (word >>> 16) & 31;
  let insn: Insn;
  if (immediate) {
    // operand2 (inverted for CCMP) and the carry in are fixed at decode time.
    insn = make(sf ? A.ccImm64 : A.ccImm32, word, 0, rz((word >>> 5) & 31), 0);
    insn.imm = sub ? ~field : field;
    insn.immHi = sub ? -1 : 0;
    insn.a = sub;
  } else {
    const exec = sf ? (sub ? A.ccmpR64 : A.ccmnR64) : sub ? A.ccmpR32 : A.ccmnR32;
    insn = make(exec, word, 0, rz((word >>> 5) & 31), rz(field));
  }
  insn.s = (word >>> 12) & 15; // cond
  insn.u = word & 15; // nzcv when the condition fails
  return insn;
}

const CSEL_64 = [A.csel64, A.csinc64, A.csinv64, A.csneg64];
const CSEL_32 = [A.csel32, A.csinc32, A.csinv32, A.csneg32];

/** Conditional select: sf op S 11010100 Rm cond op2 Rn Rd. */
function decodeCondSelect(word: number): Insn | null {
  const op2 = (word >>> 10) & 3;
  if ((word >>> 29) & 1 || op2 >= 2) return null;
  const index = (((word >>> 30) & 1) << 1) | op2;
  const insn = make((word >>> 31 ? CSEL_64 : CSEL_32)[index]!, word, wz(word & 31), rz((word >>> 5) & 31), rz((word >>> 16) & 31));
  insn.s = (word >>> 12) & 15;
  return insn;
}

// Indexed by opcode 0..5: RBIT, REV16, REV32/REV, REV, CLZ, CLS.
const DP1_64 = [O.rbit64, O.rev16_64, O.rev32_64, O.rev64, O.clz64x, O.cls64];
const DP1_32 = [O.rbit32x, O.rev16_32, O.rev32, null, O.clz32, O.cls32];

/** Data-processing (1 source): sf 1 S 11010110 opcode2 opcode Rn Rd. */
function decodeDp1(word: number): Insn | null {
  const opcode = (word >>> 10) & 0x3f;
  // S = 1, opcode2 != 0 (FEAT_PAuth), opcode 6..8 (FEAT_CSSC CTZ, CNT, ABS) and up: UNDEFINED.
  if ((word >>> 29) & 1 || (word >>> 16) & 31 || opcode > 5) return null;
  const exec = (word >>> 31 ? DP1_64 : DP1_32)[opcode];
  if (!exec) return null;
  return make(exec, word, wz(word & 31), rz((word >>> 5) & 31), 0);
}

// Indexed by opcode 2..11: UDIV, SDIV, -, -, -, -, LSLV, LSRV, ASRV, RORV.
const DP2_64 = [O.udiv64x, O.sdiv64x, null, null, null, null, O.lslv64, O.lsrv64, O.asrv64, O.rorv64];
const DP2_32 = [O.udiv32, O.sdiv32, null, null, null, null, O.lslv32, O.lsrv32, O.asrv32, O.rorv32];
const CRC = [O.crc32b, O.crc32h, O.crc32w, O.crc32x];

/** Data-processing (2 source): sf 0 S 11010110 Rm opcode Rn Rd. */
function decodeDp2(word: number, mte: boolean): Insn | null {
  const sf = word >>> 31;
  const opcode = (word >>> 10) & 0x3f;
  if (sf && (opcode === 0 || opcode === 4 || opcode === 5)) return decodeMteDataProcessing(word, mte);
  if ((word >>> 29) & 1) return null;
  const d = wz(word & 31);
  const n = rz((word >>> 5) & 31);
  const m = rz((word >>> 16) & 31);
  if (opcode >= 2 && opcode <= 11) {
    const exec = (sf ? DP2_64 : DP2_32)[opcode - 2];
    return exec ? make(exec, word, d, n, m) : null;
  }
  if (opcode >= 16 && opcode <= 23) {
    // CRC32{B,H,W,X} and CRC32C{B,H,W,X}: only the X forms have sf = 1.
    const size = opcode & 3;
    if ((size === 3) !== (sf === 1)) return null;
    const insn = make(CRC[size]!, word, d, n, m);
    insn.u = opcode & 4 ? 256 : 0; // which half of the CRC table
    return insn;
  }
  return null; // PACGA (FEAT_PAuth), SMAX/UMAX/SMIN/UMIN (FEAT_CSSC), unallocated
}

/** Data-processing (3 source): sf op54 11011 op31 Rm o0 Ra Rn Rd. */
function decodeDp3(word: number): Insn | null {
  const sf = word >>> 31;
  const op31 = (word >>> 21) & 7;
  const o0 = (word >>> 15) & 1;
  if ((word >>> 29) & 3) return null;
  const ra = (word >>> 10) & 31;
  let exec: Exec;
  if (op31 === 0) {
    exec = sf ? (o0 ? O.msub64 : ra === 31 ? O.mul64x : O.madd64) : o0 ? O.msub32 : ra === 31 ? O.mul32 : O.madd32;
  } else {
    if (!sf) return null;
    switch ((op31 << 1) | o0) {
      case 2:
        exec = O.smaddl;
        break;
      case 3:
        exec = O.smsubl;
        break;
      case 4:
        exec = O.smulh;
        break;
      case 10:
        exec = O.umaddl;
        break;
      case 11:
        exec = O.umsubl;
        break;
      case 12:
        exec = O.umulh;
        break;
      default:
        return null; // MADDPT/MSUBPT (FEAT_CPA), unallocated
    }
  }
  const insn = make(exec, word, wz(word & 31), rz((word >>> 5) & 31), rz((word >>> 16) & 31));
  insn.a = rz(ra);
  return insn;
}
