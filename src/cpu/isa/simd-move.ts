import type { Cpu } from '../cpu.js';
import { Insn, NEXT } from '../insn.js';
import { rz, wz } from '../regs.js';
import { lane, sext, simdInsn, tmp, vreg, writeTmp } from './simd-common.js';

/**
 * Advanced SIMD moves and permutes (DDI 0487, C4.1.96): copy (DUP element/general, INS
 * element/general, UMOV, SMOV; scalar DUP), modified immediate (MOVI, MVNI, ORR, BIC, FMOV
 * vector), permute (UZP1/2, TRN1/2, ZIP1/2), EXT, TBL/TBX.
 *
 * Insn fields: d, n, m = V register byte offsets (or general register slots for the general
 * forms); s = log2 element size; t = Q; imm = element index or immediate (low word), immHi =
 * immediate high word; u = operation.
 */

function make(exec: (cpu: Cpu, i: Insn) => number, word: number): Insn {
  const insn = simdInsn(exec, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.m = vreg(word >>> 16);
  insn.t = (word >>> 30) & 1;
  return insn;
}

// ---- copy ----

/** Advanced SIMD copy: 0 Q op 01110000 imm5 0 imm4 1 Rn Rd; scalar DUP with scalar = true. */
export function decodeCopy(word: number, scalar: boolean): Insn | null {
  const imm5 = (word >>> 16) & 31;
  const size = imm5 & 15 ? 31 - Math.clz32(imm5 & -imm5) : 4;
  if (size > 3) return null;
  const index = imm5 >>> (size + 1);
  const op = (word >>> 29) & 1;
  const imm4 = (word >>> 11) & 15;
  const q = (word >>> 30) & 1;
  const rn = (word >>> 5) & 31;
  if (scalar) {
    if (op || imm4 !== 0) return null;
    const insn = make(dupScalar, word);
    insn.s = size;
    insn.imm = index;
    return insn;
  }
  if (op) {
    if (!q) return null;
    const insn = make(insElement, word); // INS (element): Vd.Ts[index] = Vn.Ts[imm4 >> size]
    insn.s = size;
    insn.imm = index;
    insn.a = imm4 >>> size;
    return insn;
  }
  switch (imm4) {
    case 0: {
      if (size === 3 && !q) return null;
      const insn = make(dupElement, word);
      insn.s = size;
      insn.imm = index;
      return insn;
    }
    case 1: {
      if (size === 3 && !q) return null;
      const insn = make(dupGeneral, word);
      insn.n = rz(rn);
      insn.s = size;
      return insn;
    }
    case 3: {
      if (!q) return null;
      const insn = make(insGeneral, word);
      insn.n = rz(rn);
      insn.s = size;
      insn.imm = index;
      return insn;
    }
    case 5: // SMOV: Wd from B/H (Q = 0), Xd from B/H/S (Q = 1)
    case 7: {
      // UMOV: Wd from B/H/S (Q = 0), Xd from D (Q = 1)
      const signed = imm4 === 5;
      if (signed ? size >= 2 + q : q ? size !== 3 : size === 3) return null;
      const insn = make(signed ? smov : umov, word);
      insn.d = wz(word & 31);
      insn.s = size;
      insn.imm = index;
      return insn;
    }
    default:
      return null;
  }
}

/** Copies element `index` of size 2^log bytes of the register at `reg` into every lane of tmp. */
function replicate(src: Uint8Array, at: number, esize: number, bytes: number): void {
  for (let k = 0; k < bytes; k += esize) for (let b = 0; b < esize; b++) tmp[k + b] = src[at + b]!;
}

function dupElement(cpu: Cpu, i: Insn): number {
  const esize = 1 << i.s;
  const bytes = 8 << i.t;
  replicate(cpu.vb, i.n + i.imm * esize, esize, bytes);
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

function dupScalar(cpu: Cpu, i: Insn): number {
  const esize = 1 << i.s;
  replicate(cpu.vb, i.n + i.imm * esize, esize, esize);
  writeTmp(cpu, i.d, esize);
  return NEXT;
}

const gp = new Uint8Array(8);
const gpView = new DataView(gp.buffer);

function generalBytes(cpu: Cpu, slot: number): Uint8Array {
  gpView.setInt32(0, cpu.x[slot]!, true);
  gpView.setInt32(4, cpu.x[slot + 1]!, true);
  return gp;
}

function dupGeneral(cpu: Cpu, i: Insn): number {
  const bytes = 8 << i.t;
  replicate(generalBytes(cpu, i.n), 0, 1 << i.s, bytes);
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

function insGeneral(cpu: Cpu, i: Insn): number {
  const esize = 1 << i.s;
  cpu.vb.set(generalBytes(cpu, i.n).subarray(0, esize), i.d + i.imm * esize);
  return NEXT;
}

function insElement(cpu: Cpu, i: Insn): number {
  const esize = 1 << i.s;
  const from = i.n + i.a * esize;
  tmp.set(cpu.vb.subarray(from, from + esize));
  cpu.vb.set(tmp.subarray(0, esize), i.d + i.imm * esize);
  return NEXT;
}

function umov(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (i.s === 3) {
    const w = (i.n >>> 2) + i.imm * 2;
    x[i.d] = cpu.v[w]!;
    x[i.d + 1] = cpu.v[w + 1]!;
  } else {
    x[i.d] = lane(cpu, i.n, i.imm, i.s);
    x[i.d + 1] = 0;
  }
  return NEXT;
}

function smov(cpu: Cpu, i: Insn): number {
  const v = sext(lane(cpu, i.n, i.imm, i.s), 8 << i.s);
  cpu.x[i.d] = v;
  // SMOV Wd zero-extends the sign-extended 32-bit value; SMOV Xd sign-extends to 64 bits.
  cpu.x[i.d + 1] = i.t ? v >> 31 : 0;
  return NEXT;
}

// ---- modified immediate ----

/** The 64-bit pattern of AdvSIMDExpandImm as (lo, hi), or null for an unallocated form. */
function expandImmediate(op: number, cmode: number, imm8: number): [number, number] | null {
  let v32: number;
  switch (cmode >>> 1) {
    case 0:
    case 1:
    case 2:
    case 3:
      v32 = imm8 << (8 * (cmode >>> 1));
      return [v32, v32];
    case 4:
    case 5:
      v32 = (imm8 << (8 * ((cmode >>> 1) & 1))) * 0x10001;
      return [v32 | 0, v32 | 0];
    case 6:
      v32 = cmode & 1 ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff;
      return [v32, v32];
    default:
      if ((cmode & 1) === 0) {
        if (!op) {
          v32 = imm8 * 0x01010101;
          return [v32 | 0, v32 | 0];
        }
        let lo = 0;
        let hi = 0;
        for (let b = 0; b < 4; b++) {
          if ((imm8 >>> b) & 1) lo |= 0xff << (8 * b);
          if ((imm8 >>> (b + 4)) & 1) hi |= 0xff << (8 * b);
        }
        return [lo, hi];
      }
      return null;
  }
}

/** VFPExpandImm: the FP constant of an 8-bit immediate, for 16, 32 or 64 bits (64: high word). */
export function fpExpandImmediate(imm8: number, bits: number): number {
  const sign = (imm8 >>> 7) & 1;
  const b6 = (imm8 >>> 6) & 1;
  const top = (imm8 >>> 4) & 3;
  const frac = imm8 & 15;
  if (bits === 16) return (sign << 15) | ((b6 ^ 1) << 14) | ((b6 ? 3 : 0) << 12) | (top << 10) | (frac << 6);
  if (bits === 32) return (sign << 31) | ((b6 ^ 1) << 30) | ((b6 ? 0x1f : 0) << 25) | (top << 23) | (frac << 19);
  return (sign << 31) | ((b6 ^ 1) << 30) | ((b6 ? 0xff : 0) << 22) | (top << 20) | (frac << 16);
}

const MOVE = 0;
const INVERT = 1;
const OR = 2;
const CLEAR = 3;

export function decodeModifiedImmediate(word: number): Insn | null {
  const q = (word >>> 30) & 1;
  const op = (word >>> 29) & 1;
  const cmode = (word >>> 12) & 15;
  const o2 = (word >>> 11) & 1;
  const imm8 = (((word >>> 16) & 7) << 5) | ((word >>> 5) & 31);
  let lo: number;
  let hi: number;
  let kind = MOVE;
  if (cmode === 15) {
    // FMOV (vector, immediate): single (op 0), double (op 1, Q 1), half (o2 1, FEAT_FP16).
    if (o2) {
      if (op) return null;
      lo = fpExpandImmediate(imm8, 16) * 0x10001;
      hi = lo;
    } else if (op) {
      if (!q) return null;
      lo = 0;
      hi = fpExpandImmediate(imm8, 64);
    } else {
      lo = hi = fpExpandImmediate(imm8, 32);
    }
  } else {
    if (o2) return null;
    const pattern = expandImmediate(op, cmode, imm8);
    if (!pattern) return null;
    [lo, hi] = pattern;
    const shifted32 = cmode < 8;
    const shifted16 = cmode >= 8 && cmode < 12;
    if ((shifted32 || shifted16) && cmode & 1) kind = op ? CLEAR : OR;
    else if (op && cmode < 14) kind = INVERT;
  }
  if (kind === INVERT) {
    lo = ~lo;
    hi = ~hi;
  }
  const insn = make(kind === OR || kind === CLEAR ? orBicImmediate : moveImmediate, word);
  insn.imm = lo | 0;
  insn.immHi = hi | 0;
  insn.u = kind;
  return insn;
}

function moveImmediate(cpu: Cpu, i: Insn): number {
  const w = i.d >>> 2;
  const v = cpu.v;
  v[w] = i.imm;
  v[w + 1] = i.immHi;
  v[w + 2] = i.t ? i.imm : 0;
  v[w + 3] = i.t ? i.immHi : 0;
  return NEXT;
}

function orBicImmediate(cpu: Cpu, i: Insn): number {
  const w = i.d >>> 2;
  const v = cpu.v;
  const or = i.u === OR;
  for (let k = 0; k < 4; k++) {
    if (k >= 2 && !i.t) {
      v[w + k] = 0;
      continue;
    }
    const imm = k & 1 ? i.immHi : i.imm;
    v[w + k] = or ? v[w + k]! | imm : v[w + k]! & ~imm;
  }
  return NEXT;
}

// ---- permute, EXT, TBL/TBX ----

/** UZP1 (1), TRN1 (2), ZIP1 (3), UZP2 (5), TRN2 (6), ZIP2 (7): opcode bits [14:12]. */
export function decodePermute(word: number): Insn | null {
  const opcode = (word >>> 12) & 7;
  const size = (word >>> 22) & 3;
  const q = (word >>> 30) & 1;
  if ((opcode & 3) === 0 || (size === 3 && !q)) return null;
  const insn = make(permute, word);
  insn.s = size;
  insn.u = opcode;
  return insn;
}

function permute(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bytes = 8 << i.t;
  const count = bytes >>> log;
  const half = count >>> 1;
  const part = i.u >>> 2;
  const esize = 1 << log;
  const vb = cpu.vb;
  for (let e = 0; e < count; e++) {
    let reg: number;
    let k: number;
    switch (i.u & 3) {
      case 1: // UZP: even (or odd) elements of Vn:Vm concatenated
        k = 2 * e + part;
        reg = k < count ? i.n : i.m;
        k %= count;
        break;
      case 2: // TRN: element pairs transposed
        reg = (e & 1) === 0 ? i.n : i.m;
        k = (e & ~1) + part;
        break;
      default: // ZIP: interleave the low (or high) halves
        reg = (e & 1) === 0 ? i.n : i.m;
        k = part * half + (e >>> 1);
    }
    for (let b = 0; b < esize; b++) tmp[e * esize + b] = vb[reg + k * esize + b]!;
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** EXT: bytes imm4.. of Vm:Vn (Vn low). */
export function decodeExt(word: number): Insn | null {
  if ((word >>> 22) & 3) return null;
  const q = (word >>> 30) & 1;
  const imm4 = (word >>> 11) & 15;
  if (!q && imm4 >= 8) return null;
  const insn = make(ext, word);
  insn.imm = imm4;
  return insn;
}

function ext(cpu: Cpu, i: Insn): number {
  const bytes = 8 << i.t;
  const vb = cpu.vb;
  for (let k = 0; k < bytes; k++) {
    const at = i.imm + k;
    tmp[k] = at < bytes ? vb[i.n + at]! : vb[i.m + at - bytes]!;
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** TBL/TBX with 1..4 table registers (Vn, Vn+1, ... modulo 32). */
export function decodeTable(word: number): Insn | null {
  if ((word >>> 22) & 3) return null;
  const insn = make(table, word);
  insn.n = (word >>> 5) & 31;
  insn.a = ((word >>> 13) & 3) + 1;
  insn.u = (word >>> 12) & 1; // TBX keeps the destination's byte for an out-of-range index
  return insn;
}

function table(cpu: Cpu, i: Insn): number {
  const bytes = 8 << i.t;
  const vb = cpu.vb;
  const limit = i.a * 16;
  for (let k = 0; k < bytes; k++) {
    const index = vb[i.m + k]!;
    if (index < limit) tmp[k] = vb[(((i.n + (index >>> 4)) & 31) << 4) + (index & 15)]!;
    else tmp[k] = i.u ? vb[i.d + k]! : 0;
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

