import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { Insn, NEXT, nop } from '../insn.js';
import { R } from '../int64.js';
import { rsp, rz, wz } from '../regs.js';
import { ACC_NOCHECK, ACC_UNPRIV } from '../slow-access.js';
import {
  EXT_SIGN32,
  EXT_SIGN64,
  EXT_ZERO,
  loadSized,
  loadUnchecked,
  MODE_OFFSET,
  MODE_POST,
  MODE_PRE,
  spAlignmentFault,
  spMisaligned,
  storeSized,
  writeLoaded,
} from './ldst-common.js';

/**
 * Single-register loads and stores of general-purpose registers (DDI 0487, C4.1.88): load/store
 * register with an unsigned scaled offset, unscaled (LDUR/STUR), immediate pre-/post-index,
 * register offset, unprivileged (LDTR/STTR), and load register (literal); PRFM/PRFUM are no-ops
 * that never fault. The SIMD&FP (V = 1) forms are UNDEFINED: this CPU has no FP.
 *
 * Tag checking follows the architecture (SetTagCheckedInstruction in the LDR/STR pseudocode) and
 * QEMU: immediate forms are Tag Unchecked when the base is SP and there is no writeback; the
 * register-offset forms are always checked; literal loads never are.
 *
 * Writeback with Rn == Rt (n != 31) is CONSTRAINED UNPREDICTABLE. Like QEMU, a load writes Rt and
 * then the base (the written-back address wins, an allowed "UNKNOWN value" outcome) and a store
 * stores the register's value from before the writeback.
 *
 * Insn fields: d = Rt (wz for loads, rz for stores), n = base (rsp), m = index (rz, register
 * offset), imm = byte offset (or shift amount for register offset), immHi = extend option,
 * s = access size in bytes, a = extension (EXT_*), t = addressing mode (MODE_*), u = access flags.
 */

/** Result of `accessKind`: size (log2) in bits 1:0, load in bit 2, extension in bits 4:3. */
const KIND_LOAD = 4;
const KIND_PRFM = -2;
const KIND_UNALLOCATED = -1;

/** The access a (size, opc) pair of the load/store register classes describes. */
function accessKind(size: number, opc: number): number {
  switch (opc) {
    case 0:
      return size; // STRB / STRH / STR (W, X)
    case 1:
      return size | KIND_LOAD | (EXT_ZERO << 3); // LDRB / LDRH / LDR (W, X)
    case 2:
      if (size === 3) return KIND_PRFM;
      return size | KIND_LOAD | (EXT_SIGN64 << 3); // LDRSB Xt / LDRSH Xt / LDRSW
    default:
      if (size >= 2) return KIND_UNALLOCATED;
      return size | KIND_LOAD | (EXT_SIGN32 << 3); // LDRSB Wt / LDRSH Wt
  }
}

/** Load/store register classes with bits [29:27] = 0b111, bit 26 (V) = 0, excluding atomics. */
export function decodeLoadStoreRegister(word: number): Insn | null {
  if ((word >>> 26) & 1) return null; // SIMD&FP
  const size = word >>> 30;
  const kind = accessKind(size, (word >>> 22) & 3);
  if (kind === KIND_UNALLOCATED) return null;
  const rt = word & 31;
  const rn = (word >>> 5) & 31;
  if ((word >>> 24) & 1) {
    // Unsigned offset, scaled by the access size.
    if (kind === KIND_PRFM) return prfm(word);
    return single(word, kind, rt, rn, MODE_OFFSET, ((word >>> 10) & 0xfff) << size, rn === 31 ? ACC_NOCHECK : 0);
  }
  if ((word >>> 21) & 1) {
    if (((word >>> 10) & 3) !== 2) return null; // LDRAA/LDRAB: no FEAT_PAuth (atomics are decoded before)
    return registerOffset(word, kind, rt, rn);
  }
  const imm9 = (((word >>> 12) & 0x1ff) << 23) >> 23;
  switch ((word >>> 10) & 3) {
    case 0: // unscaled: LDUR / STUR / PRFUM
      if (kind === KIND_PRFM) return prfm(word);
      return single(word, kind, rt, rn, MODE_OFFSET, imm9, rn === 31 ? ACC_NOCHECK : 0);
    case 1:
      if (kind === KIND_PRFM) return null;
      return single(word, kind, rt, rn, MODE_POST, imm9, 0);
    case 2: // unprivileged: LDTR / STTR family
      if (kind === KIND_PRFM) return null;
      return single(word, kind, rt, rn, MODE_OFFSET, imm9, ACC_UNPRIV | (rn === 31 ? ACC_NOCHECK : 0));
    default:
      if (kind === KIND_PRFM) return null;
      return single(word, kind, rt, rn, MODE_PRE, imm9, 0);
  }
}

/** Load register (literal), bits [29:27] = 0b011, bits [25:24] = 0b00. */
export function decodeLoadLiteral(word: number): Insn | null {
  if ((word >>> 26) & 1) return null; // SIMD&FP
  const opc = word >>> 30;
  if (opc === 3) return prfm(word); // PRFM (literal)
  const insn = new Insn(loadLiteral, word);
  insn.d = wz(word & 31);
  insn.imm = (((word >>> 5) & 0x7ffff) << 13) >> 11; // imm19 * 4, sign-extended
  insn.s = opc === 1 ? 8 : 4;
  insn.a = opc === 2 ? EXT_SIGN64 : EXT_ZERO;
  return insn;
}

function prfm(word: number): Insn {
  return new Insn(nop, word);
}

function single(word: number, kind: number, rt: number, rn: number, mode: number, imm: number, flags: number): Insn {
  const load = (kind & KIND_LOAD) !== 0;
  const size = 1 << (kind & 3);
  const ext = kind >>> 3;
  let exec = load ? loadImmediate : storeImmediate;
  if (mode === MODE_OFFSET && flags === 0) {
    // The common forms get executors of their own (tag-checked, base not SP).
    if (load && ext === EXT_ZERO) exec = size === 8 ? ldrX : size === 4 ? ldrW : size === 2 ? ldrH : ldrB;
    else if (!load) exec = size === 8 ? strX : size === 4 ? strW : size === 2 ? strH : strB;
  }
  const insn = new Insn(exec, word);
  insn.d = load ? wz(rt) : rz(rt);
  insn.n = rsp(rn);
  insn.imm = imm;
  insn.s = size;
  insn.a = ext;
  insn.t = mode;
  insn.u = flags;
  return insn;
}

function registerOffset(word: number, kind: number, rt: number, rn: number): Insn | null {
  const option = (word >>> 13) & 7;
  if ((option & 2) === 0) return null; // UXTB/UXTH/SXTB/SXTH: unallocated
  if (kind === KIND_PRFM) return prfm(word);
  const load = (kind & KIND_LOAD) !== 0;
  const insn = new Insn(load ? loadRegister : storeRegister, word);
  insn.d = load ? wz(rt) : rz(rt);
  insn.n = rsp(rn);
  insn.m = rz((word >>> 16) & 31);
  insn.imm = (word >>> 12) & 1 ? kind & 3 : 0; // LSL #size when S = 1
  insn.immHi = option;
  insn.s = 1 << (kind & 3);
  insn.a = kind >>> 3;
  return insn;
}

// ---- executors: the common forms (offset addressing, base not SP, tag-checked) ----

function ldrX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  const v = cpu.ld64(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi);
  if (cpu.fault !== 0) return dataAbort(cpu);
  x[i.d] = v;
  x[i.d + 1] = cpu.ldHi;
  return NEXT;
}

function ldrW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  const v = cpu.ld32(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi);
  if (cpu.fault !== 0) return dataAbort(cpu);
  x[i.d] = v;
  x[i.d + 1] = 0;
  return NEXT;
}

function ldrH(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  const v = cpu.ld16(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi);
  if (cpu.fault !== 0) return dataAbort(cpu);
  x[i.d] = v;
  x[i.d + 1] = 0;
  return NEXT;
}

function ldrB(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  const v = cpu.ld8(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi);
  if (cpu.fault !== 0) return dataAbort(cpu);
  x[i.d] = v;
  x[i.d + 1] = 0;
  return NEXT;
}

function strX(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  cpu.st64(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi, x[i.d]!, x[i.d + 1]!);
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

function strW(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  cpu.st32(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi, x[i.d]!);
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

function strH(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  cpu.st16(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi, x[i.d]!);
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

function strB(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  const sum = (x[n]! >>> 0) + i.imm;
  const hi = x[n + 1]!;
  cpu.st8(sum | 0, sum > 0xffffffff ? (hi + 1) | 0 : sum < 0 ? (hi - 1) | 0 : hi, x[i.d]!);
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

// ---- executors: every other form ----

/** Immediate offset, pre- or post-index, unprivileged: any size and extension, any flags. */
function loadImmediate(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  const v = loadSized(cpu, post ? baseLo : newLo, post ? baseHi : newHi, i.s, i.u);
  if (cpu.fault !== 0) return dataAbort(cpu);
  writeLoaded(x, i.d, v, cpu.ldHi, i.s, i.a);
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}

function storeImmediate(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const n = i.n;
  if (spMisaligned(cpu, n)) return spAlignmentFault(cpu);
  const baseLo = x[n]!;
  const baseHi = x[n + 1]!;
  const sum = (baseLo >>> 0) + i.imm;
  const newLo = sum | 0;
  const newHi = sum > 0xffffffff ? (baseHi + 1) | 0 : sum < 0 ? (baseHi - 1) | 0 : baseHi;
  const post = i.t === MODE_POST;
  storeSized(cpu, post ? baseLo : newLo, post ? baseHi : newHi, i.s, x[i.d]!, x[i.d + 1]!, i.u);
  if (cpu.fault !== 0) return dataAbort(cpu);
  if (i.t !== MODE_OFFSET) {
    x[n] = newLo;
    x[n + 1] = newHi;
  }
  return NEXT;
}

/** Register offset: R = base + (extend(Xm or Wm) << shift); option 2 UXTW, 3 LSL, 6 SXTW, 7 SXTX. */
export function registerAddress(cpu: Cpu, i: Insn): void {
  const x = cpu.x;
  let offLo = x[i.m]!;
  let offHi = i.immHi === 2 ? 0 : i.immHi === 6 ? offLo >> 31 : x[i.m + 1]!;
  const shift = i.imm;
  if (shift !== 0) {
    offHi = (offHi << shift) | (offLo >>> (32 - shift));
    offLo <<= shift;
  }
  const sum = (x[i.n]! >>> 0) + (offLo >>> 0);
  R.lo = sum | 0;
  R.hi = (x[i.n + 1]! + offHi + (sum > 0xffffffff ? 1 : 0)) | 0;
}

function loadRegister(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  registerAddress(cpu, i);
  const v = loadSized(cpu, R.lo, R.hi, i.s, 0);
  if (cpu.fault !== 0) return dataAbort(cpu);
  writeLoaded(cpu.x, i.d, v, cpu.ldHi, i.s, i.a);
  return NEXT;
}

function storeRegister(cpu: Cpu, i: Insn): number {
  if (spMisaligned(cpu, i.n)) return spAlignmentFault(cpu);
  registerAddress(cpu, i);
  const x = cpu.x;
  storeSized(cpu, R.lo, R.hi, i.s, x[i.d]!, x[i.d + 1]!, 0);
  return cpu.fault !== 0 ? dataAbort(cpu) : NEXT;
}

/** LDR (literal): PC-relative, Tag Unchecked. */
function loadLiteral(cpu: Cpu, i: Insn): number {
  const sum = (cpu.pcLo >>> 0) + i.imm;
  const pcHi = cpu.pcHi;
  const v = loadUnchecked(cpu, sum | 0, sum > 0xffffffff ? (pcHi + 1) | 0 : sum < 0 ? (pcHi - 1) | 0 : pcHi, i.s);
  if (cpu.fault !== 0) return dataAbort(cpu);
  writeLoaded(cpu.x, i.d, v, cpu.ldHi, i.s, i.a);
  return NEXT;
}
