import type { Cpu } from '../cpu.js';
import { Insn, NEXT } from '../insn.js';
import { rz, wz } from '../regs.js';
import { simdInsn, vreg } from './simd-common.js';
import { fpExpandImmediate } from './simd-move.js';

/**
 * Scalar floating-point moves that need no arithmetic (DDI 0487, C4.1.96): FMOV between general
 * and SIMD&FP registers (H, S, D and the top half of a Q register), FMOV (register) and FMOV
 * (scalar, immediate); and MRS/MSR of FPCR and FPSR. The arithmetic, conversions and compares
 * are in fp-scalar.ts and fp-int.ts.
 *
 * FPCR keeps the bits with a meaning on this CPU: AHP, DN, FZ and RMode. QEMU -cpu max also keeps
 * FIZ/AH/NEP (FEAT_AFP), EBF (FEAT_EBF16), FZ16 (FEAT_FP16) and the AArch32 Len/Stride, none of
 * which this CPU implements (RES0); the trapped-exception enables (IOE..IDE) read as zero, as on
 * QEMU. FPSR keeps N, Z, C, V, QC and the cumulative exception flags (IDC, IXC, UFC, OFC, DZC, IOC).
 */
export const FPCR_MASK = 0x07c00000;
export const FPSR_MASK = 0xf800009f | 0;

/** sf 0 0 11110 ftype 1 rmode opcode 000000 Rn Rd, with opcode 11x and rmode 0x. */
export function decodeFmovGeneral(word: number): Insn | null {
  const sf = word >>> 31;
  const ftype = (word >>> 22) & 3;
  const rmode = (word >>> 19) & 3;
  const opcode = (word >>> 16) & 7;
  if ((opcode & 6) !== 6) return null;
  const toVector = opcode & 1;
  let bytes: number;
  let upper = 0;
  if (ftype === 3 && rmode === 0) bytes = 2; // FEAT_FP16: Wd/Xd <-> Hn
  else if (ftype === 0 && rmode === 0 && !sf) bytes = 4;
  else if (ftype === 1 && rmode === 0 && sf) bytes = 8;
  else if (ftype === 2 && rmode === 1 && sf) {
    bytes = 8;
    upper = 1; // Vd.D[1]
  } else return null;
  const insn = simdInsn(toVector ? fmovToVector : fmovToGeneral, word);
  insn.d = toVector ? vreg(word & 31) : wz(word & 31);
  insn.n = toVector ? rz((word >>> 5) & 31) : vreg(word >>> 5);
  insn.s = bytes;
  insn.u = upper;
  return insn;
}

function fmovToGeneral(cpu: Cpu, i: Insn): number {
  const w = (i.n >>> 2) + i.u * 2;
  const x = cpu.x;
  if (i.s === 8) {
    x[i.d] = cpu.v[w]!;
    x[i.d + 1] = cpu.v[w + 1]!;
  } else {
    x[i.d] = i.s === 4 ? cpu.v[w]! : cpu.vh[i.n >>> 1]!;
    x[i.d + 1] = 0;
  }
  return NEXT;
}

function fmovToVector(cpu: Cpu, i: Insn): number {
  const w = i.d >>> 2;
  const v = cpu.v;
  const lo = cpu.x[i.n]!;
  const hi = cpu.x[i.n + 1]!;
  if (i.u) {
    // FMOV Vd.D[1], Xn: the low half is kept.
    v[w + 2] = lo;
    v[w + 3] = hi;
    return NEXT;
  }
  v[w] = i.s === 2 ? lo & 0xffff : lo;
  v[w + 1] = i.s === 8 ? hi : 0;
  v[w + 2] = 0;
  v[w + 3] = 0;
  return NEXT;
}

/** FMOV (register): 0 0 0 11110 ftype 1 000000 10000 Rn Rd. */
export function decodeFmovRegister(word: number): Insn | null {
  const ftype = (word >>> 22) & 3;
  if (ftype === 2) return null;
  const insn = simdInsn(fmovRegister, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.s = ftype === 0 ? 4 : ftype === 1 ? 8 : 2;
  return insn;
}

function fmovRegister(cpu: Cpu, i: Insn): number {
  const vb = cpu.vb;
  vb.copyWithin(i.d, i.n, i.n + i.s);
  vb.fill(0, i.d + i.s, i.d + 16);
  return NEXT;
}

/** FMOV (scalar, immediate): 0 0 0 11110 ftype 1 imm8 100 00000 Rd. */
export function decodeFmovImmediate(word: number): Insn | null {
  const ftype = (word >>> 22) & 3;
  if (ftype === 2 || (word >>> 5) & 31) return null;
  const imm8 = (word >>> 13) & 0xff;
  const insn = simdInsn(fmovImmediate, word);
  insn.d = vreg(word & 31);
  if (ftype === 1) {
    insn.imm = 0;
    insn.immHi = fpExpandImmediate(imm8, 64);
  } else {
    insn.imm = fpExpandImmediate(imm8, ftype === 0 ? 32 : 16);
  }
  return insn;
}

function fmovImmediate(cpu: Cpu, i: Insn): number {
  const w = i.d >>> 2;
  cpu.v[w] = i.imm;
  cpu.v[w + 1] = i.immHi;
  cpu.v[w + 2] = 0;
  cpu.v[w + 3] = 0;
  return NEXT;
}

/** MRS/MSR FPCR (S3_3_C4_C4_0) and FPSR (S3_3_C4_C4_1): accessible at EL0, behind FPEN. */
export function decodeFpSysReg(word: number): Insn {
  const read = (word >>> 21) & 1;
  const fpsr = (word >>> 5) & 1;
  const insn = simdInsn(read ? mrsFp : msrFp, word);
  insn.d = read ? wz(word & 31) : rz(word & 31);
  insn.u = fpsr;
  return insn;
}

function mrsFp(cpu: Cpu, i: Insn): number {
  cpu.x[i.d] = i.u ? cpu.fpsr : cpu.fpcr;
  cpu.x[i.d + 1] = 0;
  return NEXT;
}

function msrFp(cpu: Cpu, i: Insn): number {
  const value = cpu.x[i.d]!;
  if (i.u) cpu.fpsr = value & FPSR_MASK;
  else cpu.fpcr = value & FPCR_MASK;
  return NEXT;
}
