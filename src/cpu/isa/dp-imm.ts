import type { Cpu } from '../cpu.js';
import { Insn, NEXT } from '../insn.js';
import { R, ror32, ror64 } from '../int64.js';
import { addgTag, tagOf, withTag } from '../mte.js';
import { rsp, rz, wz } from '../regs.js';
import { addWithCarry32, addWithCarry64, decodeBitMasks, logicFlags32, logicFlags64 } from './alu.js';

/**
 * Data processing - immediate (DDI 0487, C4.1.86): PC-relative addressing, add/subtract
 * (immediate, and with tags), logical immediate, move wide, bitfield, extract.
 */
export function decodeDpImm(word: number, mte: boolean): Insn | null {
  const sf = word >>> 31;
  const rd = word & 31;
  const rn = (word >>> 5) & 31;
  switch ((word >>> 23) & 7) {
    case 0:
    case 1: {
      const insn = new Insn(word >>> 31 ? adrp : adr, word);
      insn.d = wz(rd);
      const imm = ((((word >>> 5) & 0x7ffff) << 2) | ((word >>> 29) & 3)) << 11 >> 11; // signed 21 bits
      insn.imm = imm;
      return insn;
    }
    case 2: {
      const op = (word >>> 30) & 1;
      const setFlags = (word >>> 29) & 1;
      const imm = ((word >>> 10) & 0xfff) << ((word >>> 22) & 1 ? 12 : 0);
      const exec = sf ? (setFlags ? (op ? subsImm64 : addsImm64) : op ? subImm64 : addImm64) : setFlags ? (op ? subsImm32 : addsImm32) : op ? subImm32 : addImm32;
      const insn = new Insn(exec, word);
      insn.d = setFlags ? wz(rd) : rsp(rd);
      insn.n = rsp(rn);
      insn.imm = imm;
      return insn;
    }
    case 3: {
      // ADDG / SUBG: sf=1, S=0, o2=0, op3=00.
      if (!mte || !sf || (word >>> 29) & 1 || (word >>> 22) & 1 || (word >>> 14) & 3) return null;
      const insn = new Insn(addSubTag, word);
      insn.d = rsp(rd);
      insn.n = rsp(rn);
      insn.imm = (((word >>> 16) & 0x3f) * 16) * ((word >>> 30) & 1 ? -1 : 1);
      insn.s = (word >>> 10) & 0xf;
      return insn;
    }
    case 4: {
      const opc = (word >>> 29) & 3;
      const n = (word >>> 22) & 1;
      if (!sf && n) return null;
      const masks = decodeBitMasks(n, (word >>> 10) & 0x3f, (word >>> 16) & 0x3f, true, sf ? 64 : 32);
      if (!masks) return null;
      const execs = sf ? [andImm64, orrImm64, eorImm64, andsImm64] : [andImm32, orrImm32, eorImm32, andsImm32];
      const insn = new Insn(execs[opc]!, word);
      insn.d = opc === 3 ? wz(rd) : rsp(rd);
      insn.n = rz(rn);
      insn.imm = masks.wLo;
      insn.immHi = masks.wHi;
      return insn;
    }
    case 5: {
      const opc = (word >>> 29) & 3;
      const hw = (word >>> 21) & 3;
      if (opc === 1 || (!sf && hw >= 2)) return null;
      const imm16 = (word >>> 5) & 0xffff;
      const insn = new Insn(opc === 3 ? (sf ? movk64 : movk32) : sf ? movWide64 : movWide32, word);
      insn.d = wz(rd);
      const shift = hw * 16;
      let lo = shift < 32 ? (imm16 << shift) | 0 : 0;
      let hi = shift >= 32 ? (imm16 << (shift - 32)) | 0 : 0;
      if (opc === 0) {
        lo = ~lo;
        hi = ~hi;
        if (!sf) hi = 0;
      }
      insn.imm = lo;
      insn.immHi = hi;
      // MOVK keeps the other bits: store the field mask in s/t.
      insn.s = shift < 32 ? ~(0xffff << shift) : -1;
      insn.t = shift >= 32 ? ~(0xffff << (shift - 32)) : -1;
      return insn;
    }
    case 6: {
      const opc = (word >>> 29) & 3;
      const n = (word >>> 22) & 1;
      if (opc === 3 || n !== sf) return null;
      const immr = (word >>> 16) & 0x3f;
      const imms = (word >>> 10) & 0x3f;
      if (!sf && (immr >= 32 || imms >= 32)) return null;
      const masks = decodeBitMasks(n, imms, immr, false, sf ? 64 : 32);
      if (!masks) return null;
      const insn = new Insn(sf ? bitfield64 : bitfield32, word);
      insn.d = wz(rd);
      insn.n = rz(rn);
      insn.imm = masks.wLo;
      insn.immHi = masks.wHi;
      insn.m = masks.tLo; // tmask (not a register here)
      insn.a = masks.tHi;
      insn.s = immr;
      insn.t = imms;
      insn.u = opc; // 0 SBFM, 1 BFM, 2 UBFM
      return insn;
    }
    default: {
      // EXTR: op21 = 00, o0 = 0, N == sf.
      if ((word >>> 29) & 3 || (word >>> 21) & 1 || ((word >>> 22) & 1) !== sf) return null;
      const lsb = (word >>> 10) & 0x3f;
      if (!sf && lsb >= 32) return null;
      const insn = new Insn(sf ? extr64 : extr32, word);
      insn.d = wz(rd);
      insn.n = rz(rn);
      insn.m = rz((word >>> 16) & 31);
      insn.s = lsb;
      return insn;
    }
  }
}

function adr(cpu: Cpu, i: Insn): number {
  const sum = (cpu.pcLo >>> 0) + i.imm;
  cpu.x[i.d] = sum | 0;
  cpu.x[i.d + 1] = (cpu.pcHi + Math.floor(sum / 2 ** 32)) | 0;
  return NEXT;
}

function adrp(cpu: Cpu, i: Insn): number {
  const sum = ((cpu.pcLo & ~0xfff) >>> 0) + i.imm * 4096;
  cpu.x[i.d] = sum | 0;
  cpu.x[i.d + 1] = (cpu.pcHi + Math.floor(sum / 2 ** 32)) | 0;
  return NEXT;
}

function addImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const sum = (x[i.n]! >>> 0) + i.imm;
  const hi = x[i.n + 1]!;
  x[i.d] = sum | 0;
  x[i.d + 1] = sum > 0xffffffff ? (hi + 1) | 0 : hi;
  return NEXT;
}

function subImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const diff = (x[i.n]! >>> 0) - i.imm;
  const hi = x[i.n + 1]!;
  x[i.d] = diff | 0;
  x[i.d + 1] = diff < 0 ? (hi - 1) | 0 : hi;
  return NEXT;
}

function addImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + i.imm) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

function subImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! - i.imm) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

function addsImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, i.imm, 0, 0);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

function subsImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~i.imm, -1, 1);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

function addsImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, i.imm, 0);
  x[i.d + 1] = 0;
  return NEXT;
}

function subsImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, ~i.imm, 1);
  x[i.d + 1] = 0;
  return NEXT;
}

/** ADDG/SUBG: address arithmetic on Xn plus a new tag chosen from Xn's tag. */
export function addSubTag(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const sum = (x[i.n]! >>> 0) + i.imm;
  const hi = (x[i.n + 1]! + Math.floor(sum / 2 ** 32)) | 0;
  const tag = addgTag(cpu, tagOf(x[i.n + 1]!), i.s);
  x[i.d] = sum | 0;
  x[i.d + 1] = withTag(hi, tag);
  return NEXT;
}

function andImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! & i.imm;
  x[i.d + 1] = x[i.n + 1]! & i.immHi;
  return NEXT;
}

function orrImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! | i.imm;
  x[i.d + 1] = x[i.n + 1]! | i.immHi;
  return NEXT;
}

function eorImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! ^ i.imm;
  x[i.d + 1] = x[i.n + 1]! ^ i.immHi;
  return NEXT;
}

function andsImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]! & i.imm;
  const hi = x[i.n + 1]! & i.immHi;
  logicFlags64(cpu, lo, hi);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

function andImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! & i.imm;
  x[i.d + 1] = 0;
  return NEXT;
}

function orrImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! | i.imm;
  x[i.d + 1] = 0;
  return NEXT;
}

function eorImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! ^ i.imm;
  x[i.d + 1] = 0;
  return NEXT;
}

function andsImm32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const r = x[i.n]! & i.imm;
  logicFlags32(cpu, r);
  x[i.d] = r;
  x[i.d + 1] = 0;
  return NEXT;
}

/** MOVZ / MOVN: the value was fully computed at decode. */
function movWide64(cpu: Cpu, i: Insn): number {
  cpu.x[i.d] = i.imm;
  cpu.x[i.d + 1] = i.immHi;
  return NEXT;
}

function movWide32(cpu: Cpu, i: Insn): number {
  cpu.x[i.d] = i.imm;
  cpu.x[i.d + 1] = 0;
  return NEXT;
}

function movk64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.d]! & i.s) | i.imm;
  x[i.d + 1] = (x[i.d + 1]! & i.t) | i.immHi;
  return NEXT;
}

function movk32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.d]! & i.s) | i.imm;
  x[i.d + 1] = 0;
  return NEXT;
}

/** SBFM / BFM / UBFM, following the shared pseudocode with the masks from decode time. */
function bitfield64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const srcLo = x[i.n]!;
  const srcHi = x[i.n + 1]!;
  const inzero = i.u !== 1;
  const dstLo = inzero ? 0 : x[i.d]!;
  const dstHi = inzero ? 0 : x[i.d + 1]!;
  ror64(srcLo, srcHi, i.s);
  const botLo = (dstLo & ~i.imm) | (R.lo & i.imm);
  const botHi = (dstHi & ~i.immHi) | (R.hi & i.immHi);
  let topLo: number;
  let topHi: number;
  if (i.u === 0) {
    const bit = i.t < 32 ? (srcLo >>> i.t) & 1 : (srcHi >>> (i.t - 32)) & 1;
    topLo = topHi = -bit;
  } else {
    topLo = dstLo;
    topHi = dstHi;
  }
  x[i.d] = (topLo & ~i.m) | (botLo & i.m);
  x[i.d + 1] = (topHi & ~i.a) | (botHi & i.a);
  return NEXT;
}

function bitfield32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const src = x[i.n]!;
  const dst = i.u !== 1 ? 0 : x[i.d]!;
  const bot = (dst & ~i.imm) | (ror32(src, i.s) & i.imm);
  const top = i.u === 0 ? -((src >>> i.t) & 1) : dst;
  x[i.d] = (top & ~i.m) | (bot & i.m);
  x[i.d + 1] = 0;
  return NEXT;
}

function extr64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const nLo = x[i.n]!;
  const nHi = x[i.n + 1]!;
  const mLo = x[i.m]!;
  const mHi = x[i.m + 1]!;
  const lsb = i.s;
  let lo: number;
  let hi: number;
  if (lsb === 0) {
    lo = mLo;
    hi = mHi;
  } else if (lsb < 32) {
    lo = (mLo >>> lsb) | (mHi << (32 - lsb));
    hi = (mHi >>> lsb) | (nLo << (32 - lsb));
  } else if (lsb === 32) {
    lo = mHi;
    hi = nLo;
  } else {
    const s = lsb - 32;
    lo = (mHi >>> s) | (nLo << (32 - s));
    hi = (nLo >>> s) | (nHi << (32 - s));
  }
  x[i.d] = lo | 0;
  x[i.d + 1] = hi | 0;
  return NEXT;
}

function extr32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lsb = i.s;
  const m = x[i.m]!;
  x[i.d] = lsb === 0 ? m : (m >>> lsb) | (x[i.n]! << (32 - lsb));
  x[i.d + 1] = 0;
  return NEXT;
}
