import type { Cpu } from '../cpu.js';
import { fpCompare } from '../fp/compare.js';
import { fpConvert } from '../fp/convert.js';
import { F16, F32, F64, type FpFormat } from '../fp/core.js';
import { type Insn, NEXT } from '../insn.js';
import { conditionHolds } from './alu.js';
import { setNzcv } from './dp-reg-arith.js';
import { binaryLanes, bitsAt, commitFlags, type FpBinary, type FpTernary, type FpUnary, setBits, ternaryLanes, unaryLanes } from './fp-lanes.js';
import * as O from './fp-ops.js';
import { execFor } from './fp-vector.js';
import { simdInsn, vreg, writeTmp } from './simd-common.js';

/**
 * Scalar floating point (DDI 0487, C4.1.96 "Floating-point data-processing"): 1, 2 and 3 source,
 * compares, conditional compares and selects, FCVT between precisions. Single and double
 * precision only: FEAT_FP16 arithmetic (ftype 0b11) is UNDEFINED, FCVT to/from half is not.
 *
 * Insn fields: d, n, m, a = register byte offsets; s = log2 of the element size (2 or 3).
 */

function scalarInsn(exec: (cpu: Cpu, i: Insn) => number, word: number, log: number): Insn {
  const insn = simdInsn(exec, word);
  insn.d = vreg(word & 31);
  insn.n = vreg(word >>> 5);
  insn.m = vreg(word >>> 16);
  insn.a = vreg(word >>> 10);
  insn.s = log;
  return insn;
}

function binary(op: FpBinary, word: number, log: number): Insn {
  const exec = execFor(op, 'scalar', () => (cpu, i) => {
    binaryLanes(cpu, op, i.d, i.n, i.m, i.s, 1, 1 << i.s, 0);
    return NEXT;
  });
  return scalarInsn(exec, word, log);
}

function unary(op: FpUnary, word: number, log: number): Insn {
  const exec = execFor(op, 'scalar', () => (cpu, i) => {
    unaryLanes(cpu, op, i.d, i.n, i.s, 1, 1 << i.s);
    return NEXT;
  });
  return scalarInsn(exec, word, log);
}

function ternary(op: FpTernary, word: number, log: number): Insn {
  const exec = execFor(op, 'scalar', () => (cpu, i) => {
    ternaryLanes(cpu, op, i.d, i.a, i.n, i.m, i.s, 1, 1 << i.s, 0);
    return NEXT;
  });
  return scalarInsn(exec, word, log);
}

/** ftype 00 single, 01 double; 11 (half) and 10 have no arithmetic here. */
function arithLog(word: number): number {
  const ftype = (word >>> 22) & 3;
  return ftype === 0 ? 2 : ftype === 1 ? 3 : -1;
}

const TWO_SOURCE: readonly FpBinary[] = [O.FMUL, O.FDIV, O.FADD, O.FSUB, O.FMAX, O.FMIN, O.FMAXNM, O.FMINNM, O.FNMUL];
const ONE_SOURCE: readonly (FpUnary | null)[] = [
  null, O.FABS, O.FNEG, O.FSQRT, null, null, null, null,
  O.FRINTN, O.FRINTP, O.FRINTM, O.FRINTZ, O.FRINTA, null, O.FRINTX, O.FRINTI,
  O.FRINT32Z, O.FRINT32X, O.FRINT64Z, O.FRINT64X,
];
const FMADD_FAMILY: readonly FpTernary[] = [O.FMADD, O.FMSUB, O.FNMADD, O.FNMSUB];

/** M 0 S 11110 ftype 1 ... and M 0 S 11111 ...: the scalar classes, after the moves. */
export function decodeFpScalarClasses(word: number): Insn | null {
  if ((word & 0xff000000) === 0x1f000000) {
    const log = arithLog(word);
    if (log < 0) return null;
    return ternary(FMADD_FAMILY[((word >>> 20) & 2) | ((word >>> 15) & 1)]!, word, log);
  }
  if ((word & 0xff200000) !== 0x1e200000) return null; // M and S are 0
  const log = arithLog(word);
  const ftype = (word >>> 22) & 3;
  if ((word & 0x7c00) === 0x4000) {
    const opcode = (word >>> 15) & 0x3f;
    if (opcode >= 4 && opcode <= 7) return decodeFcvt(word, ftype, opcode & 3);
    const op = ONE_SOURCE[opcode];
    return op && log >= 0 ? unary(op, word, log) : null;
  }
  if ((word & 0xfc00) === 0x2000) return log >= 0 && (word & 7) === 0 ? decodeCompare(word, log) : null;
  if (log < 0) return null;
  switch ((word >>> 10) & 3) {
    case 1: {
      const insn = scalarInsn(conditionalCompare, word, log);
      insn.u = (((word >>> 4) & 1) << 8) | (word & 15); // E : nzcv
      insn.t = (word >>> 12) & 15;
      return insn;
    }
    case 2: {
      const op = TWO_SOURCE[(word >>> 12) & 15];
      return op ? binary(op, word, log) : null;
    }
    case 3: {
      const insn = scalarInsn(conditionalSelect, word, log);
      insn.t = (word >>> 12) & 15;
      return insn;
    }
    default:
      return null;
  }
}

// ---- compares and selects ----

function decodeCompare(word: number, log: number): Insn | null {
  // Bit 4: E (signalling), bit 3: with zero. Rm of the zero forms is should-be-zero; QEMU ignores
  // it, and so does this (CONSTRAINED UNPREDICTABLE otherwise).
  const opc = (word >>> 3) & 3;
  const insn = scalarInsn(compare, word, log);
  insn.u = opc;
  return insn;
}

function formatOfLog(log: number): FpFormat {
  return log === 3 ? F64 : F32;
}

function compare(cpu: Cpu, i: Insn): number {
  const b = i.u & 1 ? 0n : bitsAt(cpu, i.m, 0, i.s);
  setNzcv(cpu, fpCompare(bitsAt(cpu, i.n, 0, i.s), b, (i.u & 2) !== 0, formatOfLog(i.s), cpu.fpcr));
  commitFlags(cpu);
  return NEXT;
}

function conditionalCompare(cpu: Cpu, i: Insn): number {
  if (conditionHolds(cpu, i.t)) {
    setNzcv(cpu, fpCompare(bitsAt(cpu, i.n, 0, i.s), bitsAt(cpu, i.m, 0, i.s), (i.u & 0x100) !== 0, formatOfLog(i.s), cpu.fpcr));
    commitFlags(cpu);
  } else setNzcv(cpu, i.u & 15);
  return NEXT;
}

function conditionalSelect(cpu: Cpu, i: Insn): number {
  const src = conditionHolds(cpu, i.t) ? i.n : i.m;
  const bytes = 1 << i.s;
  cpu.vb.copyWithin(i.d, src, src + bytes);
  cpu.vb.fill(0, i.d + bytes, i.d + 16);
  return NEXT;
}

// ---- FCVT between precisions ----

const FORMATS: readonly (FpFormat | null)[] = [F32, F64, null, F16];
const LOG_OF_FTYPE = [2, 3, -1, 1];

function decodeFcvt(word: number, ftype: number, opc: number): Insn | null {
  if (ftype === 2 || opc === 2 || ftype === opc) return null;
  const insn = scalarInsn(convertPrecision, word, LOG_OF_FTYPE[ftype]!);
  insn.t = LOG_OF_FTYPE[opc]!;
  return insn;
}

function convertPrecision(cpu: Cpu, i: Insn): number {
  const from = FORMATS[i.s === 1 ? 3 : i.s - 2]!;
  const to = FORMATS[i.t === 1 ? 3 : i.t - 2]!;
  setBits(0, i.t, fpConvert(bitsAt(cpu, i.n, 0, i.s), from, to, cpu.fpcr));
  writeTmp(cpu, i.d, 1 << i.t);
  commitFlags(cpu);
  return NEXT;
}
