import type { Cpu } from '../cpu.js';
import { Insn, NEXT } from '../insn.js';
import { lane, lane64, setTmp, setTmp64, sext, simdInsn, tmp, vreg, writeTmp } from './simd-common.js';
import { ACROSS, type BinaryOp, NOT_RBIT, PAIRWISE, saturation, THREE_SAME, TWO_MISC, type UnaryOp } from './simd-lanes.js';

/**
 * Integer Advanced SIMD data processing (DDI 0487, C4.1.96): three same (vector and scalar),
 * pairwise, logical and bitwise select, two-register miscellaneous (compares with zero, CNT,
 * NOT, RBIT, REV16/32/64, XTN, [US]ADDLP/[US]ADALP, ABS, NEG, CLZ, CLS), across lanes, shift by
 * immediate, three different (widening, narrowing high half, long multiply). Each executor is a
 * lane loop over an operation table (simd-lanes.ts) building the result in `tmp`, then written
 * at once: a destination that is also a source reads its old value throughout.
 *
 * Insn fields: d, n, m = register byte offsets; s = log2 element size; t = Q (bytes of the
 * arrangement: 8 << t); u = operation key; imm = shift or other immediate.
 */

const OP_TABLE: BinaryOp[] = [];
const UNARY_TABLE: UnaryOp[] = [];

function opIndex(table: BinaryOp[], op: BinaryOp): number {
  let k = table.indexOf(op);
  if (k < 0) k = table.push(op) - 1;
  return k;
}

/** An Insn with d, n, m from the word's Rd, Rn, Rm fields, s = size and t = q. */
export function make(exec: (cpu: Cpu, i: Insn) => number, word: number, size: number, q: number): Insn {
  const insn = simdInsn(exec, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.m = vreg(word >>> 16);
  insn.s = size;
  insn.t = q;
  return insn;
}

function finishSaturation(cpu: Cpu): void {
  if (saturation.hit) {
    saturation.hit = false;
    cpu.fpsr |= 1 << 27; // QC
  }
}

const tmpI32 = new Int32Array(tmp.buffer, 0, 4);

// ---- three same ----

/** Three same, vector (scalar = true: the scalar forms, 64-bit lanes only). */
export function decodeThreeSame(word: number, scalar: boolean): Insn | null {
  const u = (word >>> 29) & 1;
  const size = (word >>> 22) & 3;
  const opcode = (word >>> 11) & 31;
  const q = scalar ? 0 : (word >>> 30) & 1;
  const key = (u << 5) | opcode;
  if (opcode === 3) {
    if (scalar) return null;
    const insn = make(bitwise, word, size, q);
    insn.u = (u << 2) | size;
    return insn;
  }
  const pairwise = PAIRWISE[key];
  if (pairwise && !scalar) {
    if (size === 3 && (!pairwise.big || !q)) return null;
    const insn = make(pairwiseExec, word, size, q);
    insn.u = opIndex(OP_TABLE, pairwise);
    return insn;
  }
  if (opcode === 0x12) {
    if (scalar || size === 3) return null;
    const insn = make(multiplyAccumulate, word, size, q); // MLA (U = 0), MLS (U = 1)
    insn.u = u;
    return insn;
  }
  const op = THREE_SAME[key];
  if (!op) return null;
  // 64-bit lanes: only the operations that have them, and only in 2D (or scalar D) form.
  if (size === 3 ? !op.big || (!scalar && !q) : scalar) return null;
  const insn = make(threeSame, word, size, q);
  insn.u = opIndex(OP_TABLE, op);
  return insn;
}

function threeSame(cpu: Cpu, i: Insn): number {
  const op = OP_TABLE[i.u]!;
  const bytes = 8 << i.t;
  if (i.s === 3) {
    const big = op.big!;
    for (let e = 0; e < bytes >>> 3; e++) setTmp64(e, big(lane64(cpu, i.n, e), lane64(cpu, i.m, e)));
  } else {
    const log = i.s;
    const bits = 8 << log;
    const num = op.num;
    for (let e = 0; e < bytes >>> log; e++) setTmp(e, log, num(lane(cpu, i.n, e, log), lane(cpu, i.m, e, log), bits));
  }
  finishSaturation(cpu);
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

function multiplyAccumulate(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bytes = 8 << i.t;
  for (let e = 0; e < bytes >>> log; e++) {
    const product = Math.imul(lane(cpu, i.n, e, log), lane(cpu, i.m, e, log));
    const acc = lane(cpu, i.d, e, log);
    setTmp(e, log, i.u ? acc - product : acc + product);
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** ADDP, [SU]MAXP, [SU]MINP: result lane e pairs lanes 2e, 2e+1 of Vm:Vn (Vn is the low half). */
function pairwiseExec(cpu: Cpu, i: Insn): number {
  const op = OP_TABLE[i.u]!;
  const bytes = 8 << i.t;
  const half = (bytes >>> i.s) >>> 1;
  if (i.s === 3) {
    const big = op.big!;
    setTmp64(0, big(lane64(cpu, i.n, 0), lane64(cpu, i.n, 1)));
    setTmp64(1, big(lane64(cpu, i.m, 0), lane64(cpu, i.m, 1)));
  } else {
    const log = i.s;
    const bits = 8 << log;
    for (let e = 0; e < half * 2; e++) {
      const src = e < half ? i.n : i.m;
      const k = (e % half) * 2;
      setTmp(e, log, op.num(lane(cpu, src, k, log), lane(cpu, src, k + 1, log), bits));
    }
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF on whole 32-bit words (u = U:size). */
function bitwise(cpu: Cpu, i: Insn): number {
  const v = cpu.v;
  const words = 2 << i.t;
  const d = i.d >>> 2;
  const n = i.n >>> 2;
  const m = i.m >>> 2;
  const out = tmpI32;
  for (let k = 0; k < words; k++) {
    const a = v[n + k]!;
    const b = v[m + k]!;
    const old = v[d + k]!;
    let r: number;
    switch (i.u) {
      case 0:
        r = a & b;
        break;
      case 1:
        r = a & ~b;
        break;
      case 2:
        r = a | b;
        break;
      case 3:
        r = a | ~b;
        break;
      case 4:
        r = a ^ b;
        break;
      case 5:
        r = (old & a) | (~old & b); // BSL: the destination selects
        break;
      case 6:
        r = (b & a) | (~b & old); // BIT: insert Vn bits where Vm is 1
        break;
      default:
        r = (~b & a) | (b & old); // BIF: insert Vn bits where Vm is 0
    }
    out[k] = r;
  }
  writeTmp(cpu, i.d, words * 4);
  return NEXT;
}

// ---- two-register miscellaneous ----

export function decodeTwoMisc(word: number, scalar: boolean): Insn | null {
  const u = (word >>> 29) & 1;
  const size = (word >>> 22) & 3;
  const opcode = (word >>> 12) & 31;
  const q = scalar ? 0 : (word >>> 30) & 1;
  const key = (u << 5) | opcode;
  if (!scalar) {
    if (opcode <= 1 && key !== 0x21) {
      // REV64 (U=0, 00000), REV16 (U=0, 00001), REV32 (U=1, 00000): reverse within containers.
      const container = u ? 4 : opcode ? 2 : 8;
      if (1 << size >= container) return null;
      const insn = make(reverse, word, size, q);
      insn.imm = container;
      return insn;
    }
    if (opcode === 5 && key === 0x05) {
      if (size !== 0) return null;
      const insn = make(unary, word, 0, q);
      insn.u = UNARY_TABLE.push(TWO_MISC[0x05]!) - 1;
      return insn;
    }
    if (key === 0x25) {
      const op = NOT_RBIT[(0x25 << 2) | size];
      if (!op) return null;
      const insn = make(unary, word, 0, q);
      insn.u = UNARY_TABLE.push(op) - 1;
      return insn;
    }
    if (opcode === 0x12 && u === 0) {
      if (size === 3) return null;
      return make(narrow, word, size, q); // XTN, XTN2
    }
    if (opcode === 2 || opcode === 6) {
      if (size === 3) return null;
      const insn = make(addLongPairwise, word, size, q); // [SU]ADDLP, [SU]ADALP
      insn.u = (u << 1) | (opcode === 6 ? 1 : 0);
      return insn;
    }
  }
  const op = TWO_MISC[key];
  if (!op || key === 0x05) return null;
  if (scalar ? size !== 3 || !op.big : size === 3 && (!op.big || !q)) return null;
  if (!scalar && size === 3 && (key === 0x04 || key === 0x24)) return null;
  const insn = make(unary, word, size, q);
  insn.u = UNARY_TABLE.push(op) - 1;
  return insn;
}

function unary(cpu: Cpu, i: Insn): number {
  const op = UNARY_TABLE[i.u]!;
  const bytes = 8 << i.t;
  if (i.s === 3) {
    const big = op.big!;
    for (let e = 0; e < bytes >>> 3; e++) setTmp64(e, big(lane64(cpu, i.n, e)));
  } else {
    const log = i.s;
    const bits = 8 << log;
    for (let e = 0; e < bytes >>> log; e++) setTmp(e, log, op.num(lane(cpu, i.n, e, log), bits));
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** REV16/REV32/REV64: element order reversed within each container of i.imm bytes. */
function reverse(cpu: Cpu, i: Insn): number {
  const bytes = 8 << i.t;
  const esize = 1 << i.s;
  const vb = cpu.vb;
  for (let at = 0; at < bytes; at += esize) {
    const base = at - (at % i.imm);
    const src = base + (i.imm - esize - (at - base));
    for (let b = 0; b < esize; b++) tmp[at + b] = vb[i.n + src + b]!;
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** XTN (Q = 0: the low half, upper half zeroed) and XTN2 (Q = 1: the high half, low half kept). */
function narrow(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const count = 8 >>> log;
  const first = i.t ? count : 0;
  tmp.set(cpu.vb.subarray(i.d, i.d + 8));
  for (let e = 0; e < count; e++) {
    const wide = log === 2 ? lane(cpu, i.n, e * 2, 2) : lane(cpu, i.n, e, log + 1);
    setTmp(first + e, log, wide);
  }
  writeTmp(cpu, i.d, i.t ? 16 : 8);
  return NEXT;
}

/** [SU]ADDLP / [SU]ADALP: adjacent pairs added into lanes twice as wide (u = U:accumulate). */
function addLongPairwise(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bits = 8 << log;
  const bytes = 8 << i.t;
  const count = bytes >>> (log + 1);
  const signed = (i.u & 2) === 0;
  const accumulate = (i.u & 1) !== 0;
  for (let e = 0; e < count; e++) {
    let a = lane(cpu, i.n, 2 * e, log);
    let b = lane(cpu, i.n, 2 * e + 1, log);
    if (signed) {
      a = sext(a, bits);
      b = sext(b, bits);
    }
    if (log === 2) {
      let sum = BigInt(a) + BigInt(b);
      if (accumulate) sum += lane64(cpu, i.d, e);
      setTmp64(e, BigInt.asUintN(64, sum));
    } else {
      setTmp(e, log + 1, a + b + (accumulate ? lane(cpu, i.d, e, log + 1) : 0));
    }
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

// ---- across lanes ----

export function decodeAcross(word: number): Insn | null {
  const u = (word >>> 29) & 1;
  const size = (word >>> 22) & 3;
  const q = (word >>> 30) & 1;
  const op = ACROSS[(u << 5) | ((word >>> 12) & 31)];
  if (!op || size === 3 || (size === 2 && !q)) return null;
  const insn = make(across, word, size, q);
  insn.u = Object.values(ACROSS).indexOf(op);
  return insn;
}

const ACROSS_LIST = Object.values(ACROSS);

function across(cpu: Cpu, i: Insn): number {
  const op = ACROSS_LIST[i.u]!;
  const log = i.s;
  const bits = 8 << log;
  const count = (8 << i.t) >>> log;
  const read = (e: number): number => (op.signed ? sext(lane(cpu, i.n, e, log), bits) : lane(cpu, i.n, e, log));
  let acc = read(0);
  for (let e = 1; e < count; e++) acc = op.step(acc, read(e), bits);
  tmp.fill(0, 0, 16);
  if (op.wide && log === 2) setTmp64(0, BigInt.asUintN(64, BigInt(acc))); // [SU]ADDLV of 4S: a 64-bit sum
  else setTmp(0, op.wide ? log + 1 : log, acc);
  writeTmp(cpu, i.d, 16);
  return NEXT;
}

// ---- shift by immediate ----

/** Shift by immediate (vector, or scalar with immh = 1xxx): u = U:opcode. */
export function decodeShiftImmediate(word: number, scalar: boolean): Insn | null {
  const immh = (word >>> 19) & 15;
  if (immh === 0) return null;
  const u = (word >>> 29) & 1;
  const opcode = (word >>> 11) & 31;
  const q = scalar ? 0 : (word >>> 30) & 1;
  const log = 31 - Math.clz32(immh);
  const bits = 8 << log;
  const immhb = (immh << 3) | ((word >>> 16) & 7);
  const key = (u << 5) | opcode;
  const right = 2 * bits - immhb;
  const left = immhb - bits;
  switch (key) {
    case 0x00: // SSHR
    case 0x20: // USHR
    case 0x02: // SSRA
    case 0x22: // USRA
    case 0x04: // SRSHR
    case 0x24: // URSHR
    case 0x28: // SRI
    case 0x0a: // SHL
    case 0x2a: {
      // SLI
      if (log === 3 ? !scalar && !q : scalar) return null;
      const insn = make(shiftImmediate, word, log, q);
      insn.u = key;
      insn.imm = key === 0x0a || key === 0x2a ? left : right;
      return insn;
    }
    case 0x10: // SHRN
    case 0x11: {
      // RSHRN
      if (scalar || log === 3) return null;
      const insn = make(shiftNarrow, word, log, q);
      insn.u = key;
      insn.imm = right;
      return insn;
    }
    case 0x14: // SSHLL
    case 0x34: {
      // USHLL
      if (scalar || log === 3) return null;
      const insn = make(shiftLong, word, log, q);
      insn.u = key;
      insn.imm = left;
      return insn;
    }
    default:
      return null;
  }
}

function shiftRightBig(v: bigint, shift: number, signed: boolean, round: boolean): bigint {
  const x = signed ? BigInt.asIntN(64, v) : v;
  const r = round ? (x + (1n << BigInt(shift - 1))) >> BigInt(shift) : x >> BigInt(shift);
  return BigInt.asUintN(64, r);
}

function shiftImmediate(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bits = 8 << log;
  const bytes = 8 << i.t;
  const key = i.u;
  const signed = (key & 0x20) === 0;
  const sh = i.imm;
  for (let e = 0; e < bytes >>> log; e++) {
    if (log === 3) {
      const a = lane64(cpu, i.n, e);
      const old = lane64(cpu, i.d, e);
      let r: bigint;
      if (key === 0x0a) r = BigInt.asUintN(64, a << BigInt(sh));
      else if (key === 0x2a) r = BigInt.asUintN(64, a << BigInt(sh)) | (old & ((1n << BigInt(sh)) - 1n));
      else if (key === 0x28) r = sh === 64 ? old : (a >> BigInt(sh)) | (old & ~((1n << 64n) - 1n >> BigInt(sh)) & ((1n << 64n) - 1n));
      else {
        r = shiftRightBig(a, sh, signed, key === 0x04 || key === 0x24);
        if (key === 0x02 || key === 0x22) r = BigInt.asUintN(64, r + old);
      }
      setTmp64(e, r);
      continue;
    }
    const a = lane(cpu, i.n, e, log);
    const old = lane(cpu, i.d, e, log);
    let r: number;
    if (key === 0x0a) r = sh >= 32 ? 0 : a << sh;
    else if (key === 0x2a) r = (sh >= 32 ? 0 : a << sh) | (old & ((1 << sh) - 1));
    else if (key === 0x28) {
      const mask = sh === bits ? 0 : Math.floor((2 ** bits - 1) / 2 ** sh);
      r = ((sh === bits ? 0 : Math.floor(a / 2 ** sh)) & mask) | (old & ~mask);
    } else {
      const x = signed ? sext(a, bits) : a;
      const rounded = key === 0x04 || key === 0x24 ? x + 2 ** (sh - 1) : x;
      r = Math.floor(rounded / 2 ** sh);
      if (key === 0x02 || key === 0x22) r += old;
    }
    setTmp(e, log, r);
  }
  writeTmp(cpu, i.d, bytes);
  return NEXT;
}

/** SHRN/RSHRN (and the "2" forms into the high half): lanes of twice the size, shifted and truncated. */
function shiftNarrow(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const count = 8 >>> log;
  const first = i.t ? count : 0;
  const round = i.u === 0x11;
  tmp.set(cpu.vb.subarray(i.d, i.d + 8));
  for (let e = 0; e < count; e++) {
    if (log === 2) {
      const wide = lane64(cpu, i.n, e);
      setTmp(first + e, 2, Number(BigInt.asUintN(32, shiftRightBig(wide, i.imm, false, round))));
    } else {
      const wide = lane(cpu, i.n, e, log + 1);
      setTmp(first + e, log, Math.floor((wide + (round ? 2 ** (i.imm - 1) : 0)) / 2 ** i.imm));
    }
  }
  writeTmp(cpu, i.d, i.t ? 16 : 8);
  return NEXT;
}

/** SSHLL/USHLL (UXTL/SXTL): lanes of the low (Q = 0) or high half, widened and shifted left. */
function shiftLong(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bits = 8 << log;
  const count = 8 >>> log;
  const first = i.t ? count : 0;
  const signed = i.u === 0x14;
  for (let e = 0; e < count; e++) {
    const a = lane(cpu, i.n, first + e, log);
    const x = signed ? sext(a, bits) : a;
    if (log === 2) setTmp64(e, BigInt.asUintN(64, BigInt(x) << BigInt(i.imm)));
    else setTmp(e, log + 1, x * 2 ** i.imm);
  }
  writeTmp(cpu, i.d, 16);
  return NEXT;
}

// ---- three different ----

/**
 * Three different: opcode 0000 [SU]ADDL, 0001 [SU]ADDW, 0010 [SU]SUBL, 0011 [SU]SUBW,
 * 0100 ADDHN/RADDHN, 0101 [SU]ABAL, 0110 SUBHN/RSUBHN, 0111 [SU]ABDL, 1000 [SU]MLAL,
 * 1010 [SU]MLSL, 1100 [SU]MULL. The "2" forms (Q = 1) take the high halves of the narrow sources
 * or write the high half of a narrow result.
 */
export function decodeThreeDifferent(word: number): Insn | null {
  const size = (word >>> 22) & 3;
  const opcode = (word >>> 12) & 15;
  if (size === 3 || opcode > 12 || opcode === 9 || opcode === 11) return null;
  const insn = make(threeDifferent, word, size, (word >>> 30) & 1);
  insn.u = (((word >>> 29) & 1) << 4) | opcode;
  return insn;
}

function threeDifferent(cpu: Cpu, i: Insn): number {
  const log = i.s;
  const bits = 8 << log;
  const count = 8 >>> log;
  const half = i.t ? count : 0;
  const opcode = i.u & 15;
  const signed = (i.u & 16) === 0;
  const narrowResult = opcode === 4 || opcode === 6;
  const wideFirst = opcode === 1 || opcode === 3;
  const narrowLane = (reg: number, e: number): bigint => {
    const v = lane(cpu, reg, half + e, log);
    return BigInt(signed ? sext(v, bits) : v);
  };
  const wideLane = (reg: number, e: number): bigint => {
    const v = log === 2 ? lane64(cpu, reg, e) : BigInt(lane(cpu, reg, e, log + 1));
    return signed ? BigInt.asIntN(bits * 2, v) : v;
  };
  if (narrowResult) {
    tmp.set(cpu.vb.subarray(i.d, i.d + 8));
    const round = !signed; // RADDHN/RSUBHN have U = 1
    for (let e = 0; e < count; e++) {
      const a = log === 2 ? lane64(cpu, i.n, e) : BigInt(lane(cpu, i.n, e, log + 1));
      const b = log === 2 ? lane64(cpu, i.m, e) : BigInt(lane(cpu, i.m, e, log + 1));
      let r = opcode === 4 ? a + b : a - b;
      if (round) r += 1n << BigInt(bits - 1);
      setTmp(half + e, log, Number(BigInt.asUintN(bits, r >> BigInt(bits))));
    }
    writeTmp(cpu, i.d, i.t ? 16 : 8);
    return NEXT;
  }
  const wideBits = BigInt(bits * 2);
  for (let e = 0; e < count; e++) {
    const a = wideFirst ? wideLane(i.n, e) : narrowLane(i.n, e);
    const b = narrowLane(i.m, e);
    const acc = log === 2 ? lane64(cpu, i.d, e) : BigInt(lane(cpu, i.d, e, log + 1));
    let r: bigint;
    switch (opcode) {
      case 0:
      case 1:
        r = a + b;
        break;
      case 2:
      case 3:
        r = a - b;
        break;
      case 5:
        r = acc + (a > b ? a - b : b - a);
        break;
      case 7:
        r = a > b ? a - b : b - a;
        break;
      case 8:
        r = acc + a * b;
        break;
      case 10:
        r = acc - a * b;
        break;
      default:
        r = a * b;
    }
    r = BigInt.asUintN(Number(wideBits), r);
    if (log === 2) setTmp64(e, r);
    else setTmp(e, log + 1, Number(r));
  }
  writeTmp(cpu, i.d, 16);
  return NEXT;
}

