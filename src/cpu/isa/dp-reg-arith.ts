import type { Cpu } from '../cpu.js';
import { NEXT, type Insn } from '../insn.js';
import { R, asr64, lsl64, lsr64, ror64 } from '../int64.js';
import { addWithCarry32, addWithCarry64, conditionHolds, logicFlags32, logicFlags64 } from './alu.js';

/**
 * Executors of the data-processing (register) group: logical and add/subtract with shifted or
 * extended register, add/subtract with carry, conditional compare and conditional select.
 * Fields: d, n, m registers; s shift amount (or cond); t shift type (or extend option); u the
 * invert mask of BIC/ORN/EON/BICS (or the nzcv of a conditional compare). Executors named
 * ...R have no shift, ...RS a nonzero shift, ...X an extended register.
 */

/** ShiftReg on 64 bits; result in R. */
function shiftReg64(lo: number, hi: number, type: number, amount: number): void {
  switch (type) {
    case 0:
      lsl64(lo, hi, amount);
      return;
    case 1:
      lsr64(lo, hi, amount);
      return;
    case 2:
      asr64(lo, hi, amount);
      return;
    default:
      ror64(lo, hi, amount);
  }
}

/** ShiftReg on 32 bits, amount 0..31. */
function shiftReg32(v: number, type: number, amount: number): number {
  switch (type) {
    case 0:
      return v << amount;
    case 1:
      return (v >>> amount) | 0;
    case 2:
      return v >> amount;
    default:
      return amount === 0 ? v : (v >>> amount) | (v << (32 - amount));
  }
}

/** ExtendReg on 64 bits: option UXTB..SXTX, then LSL 0..4; result in R. */
function extendReg64(lo: number, hi: number, option: number, shift: number): void {
  switch (option) {
    case 0:
      lo &= 0xff;
      hi = 0;
      break;
    case 1:
      lo &= 0xffff;
      hi = 0;
      break;
    case 2:
      hi = 0;
      break;
    case 4:
      lo = (lo << 24) >> 24;
      hi = lo >> 31;
      break;
    case 5:
      lo = (lo << 16) >> 16;
      hi = lo >> 31;
      break;
    case 6:
      hi = lo >> 31;
      break;
    default: // UXTX, SXTX
      break;
  }
  lsl64(lo, hi, shift);
}

/** ExtendReg on 32 bits. */
function extendReg32(v: number, option: number, shift: number): number {
  switch (option) {
    case 0:
      v &= 0xff;
      break;
    case 1:
      v &= 0xffff;
      break;
    case 4:
      v = (v << 24) >> 24;
      break;
    case 5:
      v = (v << 16) >> 16;
      break;
    default: // the word forms and the X forms use all 32 bits
      break;
  }
  return v << shift;
}

// ---- logical (shifted register) ----

export function mov64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.m]!;
  x[i.d + 1] = x[i.m + 1]!;
  return NEXT;
}

export function mov32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.m]!;
  x[i.d + 1] = 0;
  return NEXT;
}

export function andR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]! & (x[i.m]! ^ i.u);
  const hi = x[i.n + 1]! & (x[i.m + 1]! ^ i.u);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function orrR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]! | (x[i.m]! ^ i.u);
  const hi = x[i.n + 1]! | (x[i.m + 1]! ^ i.u);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function eorR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]! ^ x[i.m]! ^ i.u;
  const hi = x[i.n + 1]! ^ x[i.m + 1]! ^ i.u;
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function andsR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = x[i.n]! & (x[i.m]! ^ i.u);
  const hi = x[i.n + 1]! & (x[i.m + 1]! ^ i.u);
  logicFlags64(cpu, lo, hi);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function andRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = x[i.n]! & (R.lo ^ i.u);
  const hi = x[i.n + 1]! & (R.hi ^ i.u);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function orrRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = x[i.n]! | (R.lo ^ i.u);
  const hi = x[i.n + 1]! | (R.hi ^ i.u);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function eorRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = x[i.n]! ^ R.lo ^ i.u;
  const hi = x[i.n + 1]! ^ R.hi ^ i.u;
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function andsRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = x[i.n]! & (R.lo ^ i.u);
  const hi = x[i.n + 1]! & (R.hi ^ i.u);
  logicFlags64(cpu, lo, hi);
  x[i.d] = lo;
  x[i.d + 1] = hi;
  return NEXT;
}

export function andR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! & (x[i.m]! ^ i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

export function orrR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! | (x[i.m]! ^ i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

export function eorR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! ^ x[i.m]! ^ i.u;
  x[i.d + 1] = 0;
  return NEXT;
}

export function andsR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const r = x[i.n]! & (x[i.m]! ^ i.u);
  logicFlags32(cpu, r);
  x[i.d] = r;
  x[i.d + 1] = 0;
  return NEXT;
}

export function andRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! & (shiftReg32(x[i.m]!, i.t, i.s) ^ i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

export function orrRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! | (shiftReg32(x[i.m]!, i.t, i.s) ^ i.u);
  x[i.d + 1] = 0;
  return NEXT;
}

export function eorRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[i.n]! ^ shiftReg32(x[i.m]!, i.t, i.s) ^ i.u;
  x[i.d + 1] = 0;
  return NEXT;
}

export function andsRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const r = x[i.n]! & (shiftReg32(x[i.m]!, i.t, i.s) ^ i.u);
  logicFlags32(cpu, r);
  x[i.d] = r;
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- add/subtract (shifted register) ----

export function addR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = (x[i.n]! >>> 0) + (x[i.m]! >>> 0);
  const hi = (x[i.n + 1]! + x[i.m + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function subR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = (x[i.n]! >>> 0) - (x[i.m]! >>> 0);
  const hi = (x[i.n + 1]! - x[i.m + 1]! - (lo < 0 ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function addsR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!, 0);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function subsR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~x[i.m]!, ~x[i.m + 1]!, 1);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function addRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = (x[i.n]! >>> 0) + (R.lo >>> 0);
  const hi = (x[i.n + 1]! + R.hi + (lo > 0xffffffff ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function subRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = (x[i.n]! >>> 0) - (R.lo >>> 0);
  const hi = (x[i.n + 1]! - R.hi - (lo < 0 ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function addsRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, R.lo, R.hi, 0);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function subsRS64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  shiftReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~R.lo, ~R.hi, 1);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function addR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + x[i.m]!) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function subR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! - x[i.m]!) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function addsR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, x[i.m]!, 0);
  x[i.d + 1] = 0;
  return NEXT;
}

export function subsR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, ~x[i.m]!, 1);
  x[i.d + 1] = 0;
  return NEXT;
}

export function addRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + shiftReg32(x[i.m]!, i.t, i.s)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function subRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! - shiftReg32(x[i.m]!, i.t, i.s)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function addsRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, shiftReg32(x[i.m]!, i.t, i.s), 0);
  x[i.d + 1] = 0;
  return NEXT;
}

export function subsRS32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, ~shiftReg32(x[i.m]!, i.t, i.s), 1);
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- add/subtract (extended register); Rn and (without S) Rd may be SP ----

export function addX64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  extendReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = (x[i.n]! >>> 0) + (R.lo >>> 0);
  const hi = (x[i.n + 1]! + R.hi + (lo > 0xffffffff ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function subX64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  extendReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  const lo = (x[i.n]! >>> 0) - (R.lo >>> 0);
  const hi = (x[i.n + 1]! - R.hi - (lo < 0 ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function addsX64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  extendReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, R.lo, R.hi, 0);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function subsX64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  extendReg64(x[i.m]!, x[i.m + 1]!, i.t, i.s);
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~R.lo, ~R.hi, 1);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function addX32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + extendReg32(x[i.m]!, i.t, i.s)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function subX32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! - extendReg32(x[i.m]!, i.t, i.s)) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function addsX32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, extendReg32(x[i.m]!, i.t, i.s), 0);
  x[i.d + 1] = 0;
  return NEXT;
}

export function subsX32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, ~extendReg32(x[i.m]!, i.t, i.s), 1);
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- add/subtract with carry ----

export function adc64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const lo = (x[i.n]! >>> 0) + (x[i.m]! >>> 0) + cpu.cf;
  const hi = (x[i.n + 1]! + x[i.m + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function sbc64(cpu: Cpu, i: Insn): number {
  // Rn + NOT(Rm) + C = Rn - Rm - 1 + C.
  const x = cpu.x;
  const lo = (x[i.n]! >>> 0) - (x[i.m]! >>> 0) - 1 + cpu.cf;
  const hi = (x[i.n + 1]! - x[i.m + 1]! - (lo < 0 ? 1 : 0)) | 0;
  x[i.d] = lo | 0;
  x[i.d + 1] = hi;
  return NEXT;
}

export function adcs64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!, cpu.cf);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function sbcs64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~x[i.m]!, ~x[i.m + 1]!, cpu.cf);
  x[i.d] = R.lo;
  x[i.d + 1] = R.hi;
  return NEXT;
}

export function adc32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + x[i.m]! + cpu.cf) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function sbc32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = (x[i.n]! + ~x[i.m]! + cpu.cf) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function adcs32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, x[i.m]!, cpu.cf);
  x[i.d + 1] = 0;
  return NEXT;
}

export function sbcs32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = addWithCarry32(cpu, x[i.n]!, ~x[i.m]!, cpu.cf);
  x[i.d + 1] = 0;
  return NEXT;
}

// ---- conditional compare: s = cond, u = nzcv when the condition fails ----

/** Sets PSTATE.NZCV from a 4-bit value (N in bit 3). */
export function setNzcv(cpu: Cpu, nzcv: number): void {
  cpu.nf = nzcv >>> 3;
  cpu.zf = (nzcv >>> 2) & 1;
  cpu.cf = (nzcv >>> 1) & 1;
  cpu.vf = nzcv & 1;
}

export function ccmpR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, ~x[i.m]!, ~x[i.m + 1]!, 1);
  else setNzcv(cpu, i.u);
  return NEXT;
}

export function ccmnR64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, x[i.m]!, x[i.m + 1]!, 0);
  else setNzcv(cpu, i.u);
  return NEXT;
}

/** CCMP/CCMN (immediate): imm/immHi hold operand2 (already inverted for CCMP), a the carry in. */
export function ccImm64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) addWithCarry64(cpu, x[i.n]!, x[i.n + 1]!, i.imm, i.immHi, i.a);
  else setNzcv(cpu, i.u);
  return NEXT;
}

export function ccmpR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) addWithCarry32(cpu, x[i.n]!, ~x[i.m]!, 1);
  else setNzcv(cpu, i.u);
  return NEXT;
}

export function ccmnR32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) addWithCarry32(cpu, x[i.n]!, x[i.m]!, 0);
  else setNzcv(cpu, i.u);
  return NEXT;
}

export function ccImm32(cpu: Cpu, i: Insn): number {
  if (conditionHolds(cpu, i.s)) addWithCarry32(cpu, cpu.x[i.n]!, i.imm, i.a);
  else setNzcv(cpu, i.u);
  return NEXT;
}

// ---- conditional select: s = cond ----

export function csel64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  const r = conditionHolds(cpu, i.s) ? i.n : i.m;
  x[i.d] = x[r]!;
  x[i.d + 1] = x[r + 1]!;
  return NEXT;
}

export function csinc64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) {
    const lo = x[i.n]!;
    x[i.d + 1] = x[i.n + 1]!;
    x[i.d] = lo;
  } else {
    const lo = x[i.m]!;
    const hi = x[i.m + 1]!;
    x[i.d] = (lo + 1) | 0;
    x[i.d + 1] = lo === -1 ? (hi + 1) | 0 : hi;
  }
  return NEXT;
}

export function csinv64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) {
    const lo = x[i.n]!;
    x[i.d + 1] = x[i.n + 1]!;
    x[i.d] = lo;
  } else {
    const lo = ~x[i.m]!;
    x[i.d + 1] = ~x[i.m + 1]!;
    x[i.d] = lo;
  }
  return NEXT;
}

export function csneg64(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  if (conditionHolds(cpu, i.s)) {
    const lo = x[i.n]!;
    x[i.d + 1] = x[i.n + 1]!;
    x[i.d] = lo;
  } else {
    const lo = x[i.m]!;
    const hi = x[i.m + 1]!;
    x[i.d] = -lo | 0;
    x[i.d + 1] = lo === 0 ? -hi | 0 : ~hi;
  }
  return NEXT;
}

export function csel32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = x[conditionHolds(cpu, i.s) ? i.n : i.m]!;
  x[i.d + 1] = 0;
  return NEXT;
}

export function csinc32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = conditionHolds(cpu, i.s) ? x[i.n]! : (x[i.m]! + 1) | 0;
  x[i.d + 1] = 0;
  return NEXT;
}

export function csinv32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = conditionHolds(cpu, i.s) ? x[i.n]! : ~x[i.m]!;
  x[i.d + 1] = 0;
  return NEXT;
}

export function csneg32(cpu: Cpu, i: Insn): number {
  const x = cpu.x;
  x[i.d] = conditionHolds(cpu, i.s) ? x[i.n]! : -x[i.m]! | 0;
  x[i.d + 1] = 0;
  return NEXT;
}
