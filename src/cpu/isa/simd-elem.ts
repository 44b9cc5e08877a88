import type { Cpu } from '../cpu.js';
import { type Insn, NEXT } from '../insn.js';
import { ELEMENT, LANE, laneInsn, laneOp, longExec, sameExec, sx } from './simd-big.js';
import { sext, setTmp, vreg, writeTmp } from './simd-common.js';
import { SQDMLAL, SQDMLSL, SQDMULH, SQDMULL, SQRDMLAH, SQRDMLSH, SQRDMULH } from './simd-sat.js';

/**
 * Advanced SIMD "by element" forms (vector and scalar; DDI 0487, C4.1.96 "Advanced SIMD (scalar)
 * x indexed element") of the integer multiplies, and the dot products of FEAT_DotProd (SDOT/UDOT,
 * by vector and by element). The element is Vm's lane `index`: for halfwords index = H:L:M and
 * Vm is V0-V15, for words index = H:L and Vm = M:Rm.
 */

const MLA = laneOp((a, b, acc) => acc + a * b);
const MLS = laneOp((a, b, acc) => acc - a * b);
const MUL = laneOp((a, b) => a * b);
const SMLAL = laneOp((a, b, acc, n) => acc + sx(a, n) * sx(b, n));
const UMLAL = MLA;
const SMLSL = laneOp((a, b, acc, n) => acc - sx(a, n) * sx(b, n));
const UMLSL = MLS;
const SMULL = laneOp((a, b, _acc, n) => sx(a, n) * sx(b, n));
const UMULL = MUL;

type Kind = 'same' | 'long';

/** By U:opcode: the operation, whether it widens, and whether a scalar form exists. */
const BY_ELEMENT: Partial<Record<number, readonly [op: number, kind: Kind, scalar: boolean]>> = {
  0x10: [MLA, 'same', false],
  0x14: [MLS, 'same', false],
  0x08: [MUL, 'same', false],
  0x02: [SMLAL, 'long', false],
  0x12: [UMLAL, 'long', false],
  0x06: [SMLSL, 'long', false],
  0x16: [UMLSL, 'long', false],
  0x0a: [SMULL, 'long', false],
  0x1a: [UMULL, 'long', false],
  0x03: [SQDMLAL, 'long', true],
  0x07: [SQDMLSL, 'long', true],
  0x0b: [SQDMULL, 'long', true],
  0x0c: [SQDMULH, 'same', true],
  0x0d: [SQRDMULH, 'same', true],
  0x1d: [SQRDMLAH, 'same', true],
  0x1f: [SQRDMLSH, 'same', true],
};

export function decodeByElement(word: number, scalar: boolean): Insn | null {
  const key = (((word >>> 29) & 1) << 4) | ((word >>> 12) & 15);
  const size = (word >>> 22) & 3;
  const h = (word >>> 11) & 1;
  const l = (word >>> 21) & 1;
  const mBit = (word >>> 20) & 1;
  if (key === 0x0e || key === 0x1e) return scalar || size !== 2 ? null : dotInsn(word, key === 0x0e, ELEMENT, (h << 1) | l);
  const entry = BY_ELEMENT[key];
  if (!entry || size === 0 || size === 3 || (scalar && !entry[2])) return null;
  const [op, kind] = entry;
  const q = scalar ? 0 : (word >>> 30) & 1;
  const count = scalar ? 1 : kind === 'long' ? 8 >>> size : (8 << q) >>> size;
  const insn = laneInsn(kind === 'long' ? longExec : sameExec, word, size, count, op);
  insn.a = ELEMENT;
  insn.t = kind === 'long' && q ? count : 0;
  if (size === 1) {
    insn.m = vreg((word >>> 16) & 15);
    insn.imm = (h << 2) | (l << 1) | mBit;
  } else insn.imm = (h << 1) | l;
  return insn;
}

/** Three same extra, opcode 0010: SDOT (U = 0), UDOT (U = 1) by vector; 4S/2S only. */
export function decodeDotVector(word: number): Insn | null {
  if (((word >>> 11) & 15) !== 2 || ((word >>> 22) & 3) !== 2) return null;
  return dotInsn(word, ((word >>> 29) & 1) === 0, LANE, 0);
}

function dotInsn(word: number, signed: boolean, mode: number, index: number): Insn {
  const insn = laneInsn(dotExec, word, 2, 2 << ((word >>> 30) & 1), signed ? 0 : 1);
  insn.a = mode;
  insn.imm = index;
  return insn;
}

/** Each 32-bit lane of Vd plus the sum of four byte products (signed when u = 0), modulo 2^32. */
function dotExec(cpu: Cpu, i: Insn): number {
  const vb = cpu.vb;
  const signed = i.u === 0;
  for (let e = 0; e < i.immHi; e++) {
    const from = i.a === ELEMENT ? i.imm : e;
    let sum = cpu.vw[(i.d >>> 2) + e]!;
    for (let k = 0; k < 4; k++) {
      const a = vb[i.n + 4 * e + k]!;
      const b = vb[i.m + 4 * from + k]!;
      sum += signed ? sext(a, 8) * sext(b, 8) : a * b;
    }
    setTmp(e, 2, sum);
  }
  writeTmp(cpu, i.d, i.immHi * 4);
  return NEXT;
}
