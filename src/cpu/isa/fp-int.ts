import type { Cpu } from '../cpu.js';
import { fixedToFp, fpToFixed } from '../fp/convert.js';
import { F64, FPCR_FZ, fpcrRounding, FpType, IOC, IXC, raise, Rounding, unpack } from '../fp/core.js';
import { type Insn, NEXT } from '../insn.js';
import { rz, wz } from '../regs.js';
import { setNzcv } from './dp-reg-arith.js';
import { bitsAt, commitFlags, formatOf, setBits, setValue, valueAt } from './fp-lanes.js';
import { simdInsn, vreg, writeTmp } from './simd-common.js';

/**
 * Conversions between floating point and general registers (DDI 0487, C4.1.96 "Conversion
 * between floating-point and integer" and "... and fixed-point"): FCVT{N,P,M,Z,A}{S,U},
 * SCVTF, UCVTF, with a fraction-bit count for the fixed-point forms. FMOV (general) is in
 * fp-move.ts. Half precision (ftype 0b11) is FEAT_FP16: UNDEFINED.
 *
 * Insn fields: d, n = X slot or V byte offset; s = log2 FP size; t = 1 for X, 0 for W;
 * u = rounding | unsigned << 4 (rounding 8: the FPCR's); imm = fraction bits.
 */

const FPCR_ROUNDING = 8;

/** sf 0 0 11110 ftype 1 rmode opcode 000000 (integer) or ftype 0 rmode opcode scale (fixed). */
export function decodeFpIntConversion(word: number): Insn | null {
  if ((word & 0x7f000000) !== 0x1e000000) return null;
  const sf = word >>> 31;
  const ftype = (word >>> 22) & 3;
  if (ftype > 1) return null;
  const log = ftype === 0 ? 2 : 3;
  const integer = (word >>> 21) & 1;
  const rmode = (word >>> 19) & 3;
  const opcode = (word >>> 16) & 7;
  let fbits = 0;
  if (integer) {
    if ((word & 0xfc00) !== 0) return null;
  } else {
    const scale = (word >>> 10) & 63;
    if (!sf && scale < 32) return null;
    fbits = 64 - scale;
    if (!((rmode === 3 && opcode < 2) || (rmode === 0 && (opcode === 2 || opcode === 3)))) return null;
  }
  const unsigned = opcode & 1;
  let insn: Insn;
  if (opcode < 2) insn = simdInsn(toInteger, word); // FCVT{N,P,M,Z}{S,U}
  else if (opcode === 4 || opcode === 5) {
    if (rmode !== 0) return null;
    insn = simdInsn(toInteger, word); // FCVTA{S,U}
  } else if (opcode === 2 || opcode === 3) {
    if (rmode !== 0) return null;
    insn = simdInsn(toFloat, word);
  } else if (opcode === 6 && rmode === 3 && integer && !sf && ftype === 1) {
    insn = simdInsn(javascriptConvert, word); // FJCVTZS Wd, Dn (FEAT_JSCVT)
    insn.d = wz(word & 31);
    insn.n = vreg(word >>> 5);
    return insn;
  } else return null;
  const toFp = opcode === 2 || opcode === 3;
  insn.d = toFp ? vreg(word & 31) : wz(word & 31);
  insn.n = toFp ? rz((word >>> 5) & 31) : vreg(word >>> 5);
  insn.s = log;
  insn.t = sf;
  const rounding = toFp ? FPCR_ROUNDING : opcode >= 4 ? Rounding.TieAway : rmode;
  insn.u = rounding | (unsigned << 4);
  insn.imm = fbits;
  return insn;
}

/** Ceil/floor/trunc by rounding mode (PosInf, NegInf, Zero), for fast paths (null: none). */
export const FAST_ROUND: readonly (((v: number) => number) | null)[] = [null, Math.ceil, Math.floor, Math.trunc];

function toInteger(cpu: Cpu, i: Insn): number {
  const rounding = i.u & 15;
  const unsigned = i.u >>> 4;
  const x = cpu.x;
  const fastRound = FAST_ROUND[rounding];
  if (fastRound && i.imm === 0 && (cpu.fpcr & FPCR_FZ) === 0) {
    const v = valueAt(cpu, i.n, 0, i.s);
    const r = fastRound(v);
    // |r| < 2^52 for X: the two halves come out of double arithmetic exactly.
    const hiLimit = i.t ? 2 ** 52 : unsigned ? 2 ** 32 : 2 ** 31;
    const loLimit = unsigned ? 0 : -hiLimit;
    if (r >= loLimit && r < hiLimit) {
      if (r !== v) raise(IXC);
      x[i.d] = r | 0;
      x[i.d + 1] = i.t ? Math.floor(r / 2 ** 32) | 0 : 0;
      commitFlags(cpu);
      return NEXT;
    }
  }
  const width = i.t ? 64 : 32;
  const value = fpToFixed(bitsAt(cpu, i.n, 0, i.s), formatOf(i.s), i.imm, unsigned === 1, width, cpu.fpcr, rounding);
  const bits = BigInt.asUintN(width, value);
  x[i.d] = Number(bits & 0xffffffffn) | 0;
  x[i.d + 1] = Number(bits >> 32n) | 0;
  commitFlags(cpu);
  return NEXT;
}

function toFloat(cpu: Cpu, i: Insn): number {
  const unsigned = i.u >>> 4;
  const lo = cpu.x[i.n]!;
  if (!i.t && i.imm === 0 && fpcrRounding(cpu.fpcr) === Rounding.TieEven) {
    // A 32-bit integer is exact in a double, so one rounding (fround) gives the single.
    const v = unsigned ? lo >>> 0 : lo;
    const r = i.s === 3 ? v : Math.fround(v);
    if (r !== v) raise(IXC);
    setValue(0, i.s, r);
  } else {
    const hi = i.t ? cpu.x[i.n + 1]! : 0;
    let value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const width = i.t ? 64 : 32;
    value = unsigned ? BigInt.asUintN(width, value) : BigInt.asIntN(width, value);
    setBits(0, i.s, fixedToFp(value, i.imm, formatOf(i.s), cpu.fpcr));
  }
  writeTmp(cpu, i.d, 1 << i.s);
  commitFlags(cpu);
  return NEXT;
}

/**
 * FJCVTZS (FPToFixedJS): the double rounded toward zero, modulo 2^32, as JavaScript's ToInt32;
 * NZCV = 0Z00 with Z set when the result is exact and in range (-0 and flushed denormals: Z = 0).
 */
function javascriptConvert(cpu: Cpu, i: Insn): number {
  const bits = bitsAt(cpu, i.n, 0, 3);
  const u = unpack(bits, F64, (cpu.fpcr & FPCR_FZ) !== 0);
  let z = 1;
  let result = 0;
  if (u.type === FpType.QNaN || u.type === FpType.SNaN || u.type === FpType.Infinity) {
    raise(IOC);
    z = 0;
  } else if (u.type === FpType.Zero) {
    if (u.sign || (bits & 0xfffffffffffffn) !== 0n) z = 0;
  } else {
    const v = valueAt(cpu, i.n, 0, 3);
    const t = Math.trunc(v);
    result = t | 0; // ToInt32: exact for any finite double
    if (t < -(2 ** 31) || t > 2 ** 31 - 1) {
      raise(IOC);
      z = 0;
    } else if (t !== v) {
      raise(IXC);
      z = 0;
    }
  }
  cpu.x[i.d] = result;
  cpu.x[i.d + 1] = 0;
  setNzcv(cpu, z << 2);
  commitFlags(cpu);
  return NEXT;
}
