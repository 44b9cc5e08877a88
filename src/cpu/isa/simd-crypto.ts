import type { Cpu } from '../cpu.js';
import { type Insn, NEXT } from '../insn.js';
import { simdInsn, tmp, tmpW, vreg, writeTmp } from './simd-common.js';

/**
 * The cryptographic extension's AES (FEAT_AES), SHA-1 (FEAT_SHA1) and SHA-256 (FEAT_SHA256)
 * instructions (DDI 0487, C7.2: AESE...SHA256SU1, and the shared pseudocode's SHAchoose,
 * SHAparity, SHAmajority, SHAhashSIGMA0/1, SHA256hash). The AES state is the register's 16 bytes
 * in FIPS-197 order: byte r + 4c is row r of column c. Insn fields: d, n, m = register byte
 * offsets; u = the operation.
 */

// ---- AES ----

function gfMul(a: number, b: number): number {
  let r = 0;
  for (let k = 0; k < 8; k++) {
    if (b & (1 << k)) r ^= a;
    a = (a << 1) ^ (a & 0x80 ? 0x11b : 0);
  }
  return r;
}

/** The S-box from its definition (FIPS-197 5.1.1): the inverse in GF(2^8), then the affine map. */
const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
for (let x = 0; x < 256; x++) {
  let inv = 0;
  for (let y = 1; y < 256 && x !== 0; y++) {
    if (gfMul(x, y) === 1) {
      inv = y;
      break;
    }
  }
  let s = inv;
  for (let k = 1; k <= 4; k++) s ^= ((inv << k) | (inv >>> (8 - k))) & 0xff;
  SBOX[x] = s ^ 0x63;
  INV_SBOX[s ^ 0x63] = x;
}

const AESE = 4;
const AESMC = 6;

/** AESE/AESD: AddRoundKey (Vd xor Vn), then [Inv]ShiftRows and [Inv]SubBytes. */
function aesRound(cpu: Cpu, i: Insn): number {
  const vb = cpu.vb;
  const box = i.u === AESE ? SBOX : INV_SBOX;
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      // ShiftRows moves row r left by r columns; InvShiftRows right.
      const from = r + 4 * (i.u === AESE ? (c + r) & 3 : (c - r + 4) & 3);
      tmp[r + 4 * c] = box[vb[i.d + from]! ^ vb[i.n + from]!]!;
    }
  }
  writeTmp(cpu, i.d, 16);
  return NEXT;
}

/** AESMC/AESIMC: [Inv]MixColumns of Vn. */
function aesMix(cpu: Cpu, i: Insn): number {
  const vb = cpu.vb;
  const k = i.u === AESMC ? [2, 3, 1, 1] : [14, 11, 13, 9];
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let v = 0;
      for (let j = 0; j < 4; j++) v ^= gfMul(vb[i.n + 4 * c + ((r + j) & 3)]!, k[j]!);
      tmp[r + 4 * c] = v;
    }
  }
  writeTmp(cpu, i.d, 16);
  return NEXT;
}

/** 0100 1110 0010 1000 0 opcode 10 Rn Rd: AESE 00100, AESD 00101, AESMC 00110, AESIMC 00111. */
export function decodeAes(word: number): Insn | null {
  const opcode = (word >>> 12) & 31;
  if (opcode < 4 || opcode > 7) return null;
  const insn = simdInsn(opcode < 6 ? aesRound : aesMix, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.u = opcode;
  return insn;
}

// ---- SHA-1 and SHA-256 ----

const rol = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
const ror = (x: number, k: number): number => rol(x, 32 - k);
const choose = (x: number, y: number, z: number): number => ((y ^ z) & x) ^ z;
const parity = (x: number, y: number, z: number): number => x ^ y ^ z;
const majority = (x: number, y: number, z: number): number => (x & y) | ((x | y) & z);

/** Word w of the register at byte offset `reg`. */
function word32(cpu: Cpu, reg: number, w: number): number {
  return cpu.vw[(reg >>> 2) + w]!;
}

function words(cpu: Cpu, reg: number): number[] {
  return [0, 1, 2, 3].map((w) => word32(cpu, reg, w));
}

function writeWords(cpu: Cpu, reg: number, value: readonly number[]): void {
  for (let w = 0; w < value.length; w++) tmpW[w] = value[w]!;
  writeTmp(cpu, reg, value.length * 4);
}

const SHA1_FN = [choose, parity, majority];

/** SHA1C/SHA1P/SHA1M Qd, Sn, Vm.4S: four rounds with the u-th function. */
function sha1Hash(cpu: Cpu, i: Insn): number {
  const x = words(cpu, i.d);
  let y = word32(cpu, i.n, 0);
  const f = SHA1_FN[i.u]!;
  for (let e = 0; e < 4; e++) {
    y = (y + rol(x[0]!, 5) + f(x[1]!, x[2]!, x[3]!) + word32(cpu, i.m, e)) >>> 0;
    x[1] = rol(x[1]!, 30);
    // <Y, X> = ROL(Y:X, 32)
    const top = x[3]!;
    x.splice(3, 1);
    x.unshift(y);
    y = top;
  }
  writeWords(cpu, i.d, x);
  return NEXT;
}

/** SHA256H (u = 4) and SHA256H2 (u = 5): four rounds, keeping X (part 1) or Y (part 2). */
function sha256Hash(cpu: Cpu, i: Insn): number {
  const part1 = i.u === 4;
  let x = words(cpu, part1 ? i.d : i.n);
  let y = words(cpu, part1 ? i.n : i.d);
  for (let e = 0; e < 4; e++) {
    const chs = choose(y[0]!, y[1]!, y[2]!);
    const maj = majority(x[0]!, x[1]!, x[2]!);
    const sigma1 = ror(y[0]!, 6) ^ ror(y[0]!, 11) ^ ror(y[0]!, 25);
    const sigma0 = ror(x[0]!, 2) ^ ror(x[0]!, 13) ^ ror(x[0]!, 22);
    const t = (y[3]! + sigma1 + chs + word32(cpu, i.m, e)) >>> 0;
    x[3] = (t + x[3]!) >>> 0;
    y[3] = (t + sigma0 + maj) >>> 0;
    // <Y, X> = ROL(Y:X, 32)
    [x, y] = [[y[3]!, x[0]!, x[1]!, x[2]!], [x[3]!, y[0]!, y[1]!, y[2]!]];
  }
  writeWords(cpu, i.d, part1 ? x : y);
  return NEXT;
}

/** SHA1SU0: (Vn<63:0> : Vd<127:64>) xor Vd xor Vm. */
function sha1Su0(cpu: Cpu, i: Insn): number {
  const d = words(cpu, i.d);
  const n = words(cpu, i.n);
  const m = words(cpu, i.m);
  const t = [d[2]!, d[3]!, n[0]!, n[1]!];
  writeWords(cpu, i.d, t.map((v, k) => (v ^ d[k]! ^ m[k]!) >>> 0));
  return NEXT;
}

/** SHA256SU1: the second half of the SHA-256 message schedule update. */
function sha256Su1(cpu: Cpu, i: Insn): number {
  const d = words(cpu, i.d);
  const n = words(cpu, i.n);
  const m = words(cpu, i.m);
  const t0 = [n[1]!, n[2]!, n[3]!, m[0]!];
  const sigma = (v: number): number => ror(v, 17) ^ ror(v, 19) ^ (v >>> 10);
  const r = [0, 0, 0, 0];
  for (let e = 0; e < 4; e++) r[e] = (sigma(e < 2 ? m[e + 2]! : r[e - 2]!) + d[e]! + t0[e]!) >>> 0;
  writeWords(cpu, i.d, r);
  return NEXT;
}

/** SHA1H Sd, Sn: ROL(Sn, 30), the rest of Vd zeroed. */
function sha1H(cpu: Cpu, i: Insn): number {
  writeWords(cpu, i.d, [rol(word32(cpu, i.n, 0), 30)]);
  return NEXT;
}

/** SHA1SU1: ROL(Vd xor (Vn >> 32), 1) per word, the top word also xor ROL(T<31:0>, 2). */
function sha1Su1(cpu: Cpu, i: Insn): number {
  const d = words(cpu, i.d);
  const n = words(cpu, i.n);
  const t = [d[0]! ^ n[1]!, d[1]! ^ n[2]!, d[2]! ^ n[3]!, d[3]!];
  const r = t.map((v) => rol(v >>> 0, 1));
  r[3] = (r[3]! ^ rol(t[0]! >>> 0, 2)) >>> 0;
  writeWords(cpu, i.d, r);
  return NEXT;
}

/** SHA256SU0: the first half of the message schedule update. */
function sha256Su0(cpu: Cpu, i: Insn): number {
  const d = words(cpu, i.d);
  const n = words(cpu, i.n);
  const t = [d[1]!, d[2]!, d[3]!, n[0]!];
  writeWords(cpu, i.d, t.map((v, e) => ((ror(v, 7) ^ ror(v, 18) ^ (v >>> 3)) + d[e]!) >>> 0));
  return NEXT;
}

function shaInsn(exec: (cpu: Cpu, i: Insn) => number, word: number, u: number): Insn {
  const insn = simdInsn(exec, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.m = vreg(word >>> 16);
  insn.u = u;
  return insn;
}

/** 0101 1110 000 Rm 0 opcode 00 Rn Rd: SHA1C, SHA1P, SHA1M, SHA1SU0, SHA256H, SHA256H2, SHA256SU1. */
export function decodeShaThree(word: number): Insn | null {
  const opcode = (word >>> 12) & 7;
  if (opcode < 3) return shaInsn(sha1Hash, word, opcode);
  if (opcode === 3) return shaInsn(sha1Su0, word, 0);
  if (opcode < 6) return shaInsn(sha256Hash, word, opcode);
  return opcode === 6 ? shaInsn(sha256Su1, word, 0) : null;
}

/** 0101 1110 0010 1000 0 opcode 10 Rn Rd: SHA1H, SHA1SU1, SHA256SU0. */
export function decodeShaTwo(word: number): Insn | null {
  const opcode = (word >>> 12) & 31;
  const exec = [sha1H, sha1Su1, sha256Su0][opcode];
  return exec ? shaInsn(exec, word, 0) : null;
}
