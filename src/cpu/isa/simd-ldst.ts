import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { Insn, NEXT } from '../insn.js';
import { R } from '../int64.js';
import { rsp, rz } from '../regs.js';
import { ACC_NOCHECK, ACC_PAIR } from '../slow-access.js';
import { MODE_OFFSET, MODE_POST, MODE_PRE, spAlignmentFault, spMisaligned } from './ldst-common.js';
import { registerAddress } from './ldst-single.js';
import { simdInsn, tmp, vreg } from './simd-common.js';
import { ADDR, addAddr, preflight, readInto, readV, writeFrom, writeV } from './simd-mem.js';

/**
 * Loads and stores of SIMD&FP registers B, H, S, D and Q (DDI 0487, C4.1.88, V = 1): LDR/STR
 * with an unsigned offset, pre-/post-index, unscaled (LDUR/STUR) and register offset; LDR
 * (literal); LDP/STP/LDNP/STNP. Tag checking, faults and alignment are those of the integer
 * forms of the same size (ldst-single.ts, ldst-pair.ts): Tag Unchecked with an SP base and no
 * writeback, and for literals. A load writes the whole register (zeroing the bytes above the
 * transfer). Data aborts carry ISV = 0, as the architecture requires for SIMD&FP accesses.
 *
 * Insn fields: d = Vt (byte offset into cpu.vb), a = Vt2 (pairs), n = base (rsp), m = index
 * (rz), imm = byte offset (shift for register offset), immHi = extend option, s = bytes per
 * register, t = addressing mode (MODE_*), u = access flags.
 */

/** Bytes of a (size, opc<1>) register access: B, H, S, D, and Q for size 0 with opc<1> = 1. */
function transferBytes(size: number, opc1: number): number {
  if (opc1) return size === 0 ? 16 : 0;
  return 1 << size;
}

/** Load/store register classes, bits [29:27] = 0b111, V = 1. */
export function decodeSimdLoadStoreRegister(word: number): Insn | null {
  const size = word >>> 30;
  const opc = (word >>> 22) & 3;
  const bytes = transferBytes(size, opc >>> 1);
  if (bytes === 0) return null;
  const load = opc & 1;
  const rt = word & 31;
  const rn = (word >>> 5) & 31;
  if ((word >>> 24) & 1) {
    const scaled = ((word >>> 10) & 0xfff) * bytes;
    return single(word, load, bytes, rt, rn, MODE_OFFSET, scaled, rn === 31 ? ACC_NOCHECK : 0);
  }
  if ((word >>> 21) & 1) {
    if (((word >>> 10) & 3) !== 2) return null; // atomics and PAuth have no SIMD&FP forms
    const option = (word >>> 13) & 7;
    if ((option & 2) === 0) return null;
    const insn = simdInsn(load ? loadRegisterOffset : storeRegisterOffset, word);
    insn.d = vreg(rt);
    insn.n = rsp(rn);
    insn.m = rz((word >>> 16) & 31);
    insn.imm = (word >>> 12) & 1 ? Math.log2(bytes) : 0;
    insn.immHi = option;
    insn.s = bytes;
    return insn;
  }
  const imm9 = (((word >>> 12) & 0x1ff) << 23) >> 23;
  switch ((word >>> 10) & 3) {
    case 0:
      return single(word, load, bytes, rt, rn, MODE_OFFSET, imm9, rn === 31 ? ACC_NOCHECK : 0);
    case 1:
      return single(word, load, bytes, rt, rn, MODE_POST, imm9, 0);
    case 3:
      return single(word, load, bytes, rt, rn, MODE_PRE, imm9, 0);
    default:
      return null; // no unprivileged SIMD&FP forms
  }
}

function single(word: number, load: number, bytes: number, rt: number, rn: number, mode: number, imm: number, flags: number): Insn {
  const insn = simdInsn(load ? loadImmediate : storeImmediate, word);
  insn.d = vreg(rt);
  insn.n = rsp(rn);
  insn.imm = imm;
  insn.s = bytes;
  insn.t = mode;
  insn.u = flags;
  return insn;
}

/** LDR (literal, SIMD&FP): opc 00 S, 01 D, 10 Q. */
export function decodeSimdLoadLiteral(word: number): Insn | null {
  const opc = word >>> 30;
  if (opc === 3) return null;
  const insn = simdInsn(loadLiteral, word);
  insn.d = vreg(word & 31);
  insn.imm = (((word >>> 5) & 0x7ffff) << 13) >> 11;
  insn.s = 4 << opc;
  return insn;
}

/** LDP/STP/LDNP/STNP (SIMD&FP): opc 00 S, 01 D, 10 Q. */
export function decodeSimdLoadStorePair(word: number): Insn | null {
  const opc = word >>> 30;
  if (opc === 3) return null;
  const bytes = 4 << opc;
  const encodedMode = (word >>> 23) & 3;
  const load = (word >>> 22) & 1;
  const rn = (word >>> 5) & 31;
  const wback = encodedMode === 1 || encodedMode === 3;
  const insn = simdInsn(load ? loadPair : storePair, word);
  insn.d = vreg(word & 31);
  insn.a = vreg((word >>> 10) & 31);
  insn.n = rsp(rn);
  insn.imm = ((((word >>> 15) & 0x7f) << 25) >> 25) * bytes;
  insn.s = bytes;
  insn.t = encodedMode === 1 ? MODE_POST : encodedMode === 3 ? MODE_PRE : MODE_OFFSET;
  insn.u = wback || rn !== 31 ? 0 : ACC_NOCHECK;
  return insn;
}

// ---- executors ----

/** The access address of an immediate form in ADDR; the written-back base is in WB. */
const WB = { lo: 0, hi: 0 };

function immediateAddress(cpu: Cpu, i: Insn): void {
  const x = cpu.x;
  const baseLo = x[i.n]!;
  const baseHi = x[i.n + 1]!;
  addAddr(baseLo, baseHi, i.imm);
  WB.lo = ADDR.lo;
  WB.hi = ADDR.hi;
  if (i.t === MODE_POST) {
    ADDR.lo = baseLo;
    ADDR.hi = baseHi;
  }
}

function writeBack(cpu: Cpu, i: Insn): void {
  if (i.t !== MODE_OFFSET) {
    cpu.x[i.n] = WB.lo;
    cpu.x[i.n + 1] = WB.hi;
  }
}

/** A load of `bytes` into the register at `d` that must zero the rest: staged so a fault writes nothing. */
function loadWhole(cpu: Cpu, lo: number, hi: number, bytes: number, flags: number, d: number): boolean {
  if (bytes === 16) return readV(cpu, lo, hi, 16, flags, d);
  if (!readInto(cpu, lo, hi, bytes, flags, tmp, tmpView, 0)) return false;
  cpu.vb.fill(0, d, d + 16);
  cpu.vb.set(tmp.subarray(0, bytes), d);
  return true;
}

const tmpView = new DataView(tmp.buffer);

function loadImmediate(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  immediateAddress(cpu, i);
  if (!loadWhole(cpu, ADDR.lo, ADDR.hi, i.s, i.u, i.d)) return dataAbort(cpu);
  writeBack(cpu, i);
  return NEXT;
}

function storeImmediate(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  immediateAddress(cpu, i);
  if (!writeV(cpu, ADDR.lo, ADDR.hi, i.s, i.u, i.d)) return dataAbort(cpu);
  writeBack(cpu, i);
  return NEXT;
}

function loadRegisterOffset(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  registerAddress(cpu, i); // the address is left in R
  return loadWhole(cpu, R.lo, R.hi, i.s, 0, i.d) ? NEXT : dataAbort(cpu);
}

function storeRegisterOffset(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  registerAddress(cpu, i);
  return writeV(cpu, R.lo, R.hi, i.s, 0, i.d) ? NEXT : dataAbort(cpu);
}

function loadLiteral(cpu: Cpu, i: Insn): number {
  addAddr(cpu.pcLo, cpu.pcHi, i.imm);
  return loadWhole(cpu, ADDR.lo, ADDR.hi, i.s, ACC_NOCHECK, i.d) ? NEXT : dataAbort(cpu);
}

/**
 * Pairs of S and D registers are one access of 8 or 16 bytes (alignment per element), like the
 * integer pairs. A pair of Q registers is two 16-byte accesses after one up-front tag check of
 * all 32 bytes (simd-mem.ts, preflight), as QEMU does it: a translation fault on the second
 * leaves Vt loaded, or the first 16 bytes stored.
 */
function loadPair(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  immediateAddress(cpu, i);
  const bytes = i.s;
  const lo = ADDR.lo;
  const hi = ADDR.hi;
  if (bytes === 16) {
    const flags = preflight(cpu, lo, hi, 32, false, i.u);
    if (flags < 0) return dataAbort(cpu);
    if (!readV(cpu, lo, hi, 16, flags, i.d)) return dataAbort(cpu);
    addAddr(lo, hi, 16);
    if (!readV(cpu, ADDR.lo, ADDR.hi, 16, flags, i.a)) return dataAbort(cpu);
  } else {
    if (!readInto(cpu, lo, hi, bytes * 2, i.u | ACC_PAIR, tmp, tmpView, 0)) return dataAbort(cpu);
    const vb = cpu.vb;
    vb.fill(0, i.d, i.d + 16);
    vb.set(tmp.subarray(0, bytes), i.d);
    vb.fill(0, i.a, i.a + 16);
    vb.set(tmp.subarray(bytes, bytes * 2), i.a);
  }
  writeBack(cpu, i);
  return NEXT;
}

function storePair(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  immediateAddress(cpu, i);
  const bytes = i.s;
  const lo = ADDR.lo;
  const hi = ADDR.hi;
  if (bytes === 16) {
    const flags = preflight(cpu, lo, hi, 32, true, i.u);
    if (flags < 0) return dataAbort(cpu);
    if (!writeV(cpu, lo, hi, 16, flags, i.d)) return dataAbort(cpu);
    addAddr(lo, hi, 16);
    if (!writeV(cpu, ADDR.lo, ADDR.hi, 16, flags, i.a)) return dataAbort(cpu);
  } else {
    const vb = cpu.vb;
    tmp.set(vb.subarray(i.d, i.d + bytes), 0);
    tmp.set(vb.subarray(i.a, i.a + bytes), bytes);
    if (!writeFrom(cpu, lo, hi, bytes * 2, i.u | ACC_PAIR, tmp, tmpView, 0)) return dataAbort(cpu);
  }
  writeBack(cpu, i);
  return NEXT;
}
