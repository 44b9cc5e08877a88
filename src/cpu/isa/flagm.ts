import type { Cpu } from '../cpu.js';
import { Insn, NEXT } from '../insn.js';
import { ror64, R } from '../int64.js';
import { rz } from '../regs.js';

/**
 * FEAT_FlagM (RMIF, SETF8, SETF16, CFINV) and FEAT_FlagM2 (AXFLAG, XAFLAG): flag manipulation
 * that QEMU -cpu max implements and ID_AA64ISAR0_EL1.TS = 2 reports.
 */

/** RMIF Xn, #shift, #mask and SETF8/SETF16 Wn (add/subtract-with-carry space, op2 != 0). */
export function decodeFlagManipulation(word: number): Insn | null {
  if (((word & 0xffe07c10) >>> 0) === 0xba000400) {
    const insn = new Insn(rmif, word);
    insn.n = rz((word >>> 5) & 31);
    insn.s = (word >>> 15) & 0x3f;
    insn.t = word & 15;
    return insn;
  }
  if (((word & 0xffffbc1f) >>> 0) === 0x3a00080d) {
    const insn = new Insn(setf, word);
    insn.n = rz((word >>> 5) & 31);
    insn.s = (word >>> 14) & 1 ? 16 : 8;
    return insn;
  }
  return null;
}

/** CFINV, XAFLAG, AXFLAG (MSR-immediate space with CRn = 4, CRm = 0, op1 = 0, op2 = 0/1/2). */
export function decodeFlagPstate(word: number): Insn | null {
  switch (word >>> 0) {
    case 0xd500401f:
      return new Insn(cfinv, word);
    case 0xd500403f:
      return new Insn(xaflag, word);
    case 0xd500405f:
      return new Insn(axflag, word);
    default:
      return null;
  }
}

function rmif(cpu: Cpu, i: Insn): number {
  ror64(cpu.x[i.n]!, cpu.x[i.n + 1]!, i.s);
  const bits = R.lo;
  if (i.t & 8) cpu.nf = (bits >>> 3) & 1;
  if (i.t & 4) cpu.zf = (bits >>> 2) & 1;
  if (i.t & 2) cpu.cf = (bits >>> 1) & 1;
  if (i.t & 1) cpu.vf = bits & 1;
  return NEXT;
}

/** SETF8/SETF16: N and Z from the low 8/16 bits, V = bit[size] XOR bit[size-1]; C unchanged. */
function setf(cpu: Cpu, i: Insn): number {
  const value = cpu.x[i.n]!;
  const size = i.s;
  cpu.nf = (value >>> (size - 1)) & 1;
  cpu.zf = (value & ((1 << size) - 1)) === 0 ? 1 : 0;
  cpu.vf = ((value >>> size) ^ (value >>> (size - 1))) & 1;
  return NEXT;
}

function cfinv(cpu: Cpu): number {
  cpu.cf ^= 1;
  return NEXT;
}

/** XAFLAG: from the "external" floating-point comparison format to Arm's NZCV. */
function xaflag(cpu: Cpu): number {
  const c = cpu.cf;
  const z = cpu.zf;
  cpu.nf = (c | z) ^ 1;
  cpu.zf = z & c;
  cpu.cf = c | z;
  cpu.vf = (c ^ 1) & z;
  return NEXT;
}

/** AXFLAG: from Arm's NZCV to the "external" format. */
function axflag(cpu: Cpu): number {
  const v = cpu.vf;
  cpu.zf |= v;
  cpu.cf &= v ^ 1;
  cpu.nf = 0;
  cpu.vf = 0;
  return NEXT;
}
