import type { Insn } from '../insn.js';
import { SP_SLOT, XZR_SLOT } from '../regs.js';
import type { Gen } from './gen.js';
import { Op } from './wasm.js';

/**
 * WebAssembly for the integer data-processing instructions the JIT compiles. Operands come from
 * the decoded Insn (register fields are slot * 2, as regs.ts resolves register 31); the word picks
 * the operation. Each form computes what its interpreter executor (isa/dp-imm.ts, dp-reg*.ts)
 * computes; the engine-equivalence tests (test/jit) hold the two together.
 */

const slot = (field: number): number => field >> 1;
const MASK32 = 0xffffffffn;

/** Ops by width: [64-bit, 32-bit]. */
const ADD = [Op.i64Add, Op.i32Add] as const;
const SUB = [Op.i64Sub, Op.i32Sub] as const;
const AND = [Op.i64And, Op.i32And] as const;
const OR = [Op.i64Or, Op.i32Or] as const;
const XOR = [Op.i64Xor, Op.i32Xor] as const;
const SHIFTS = [
  [Op.i64Shl, Op.i64ShrU, Op.i64ShrS, Op.i64Rotr],
  [Op.i32Shl, Op.i32ShrU, Op.i32ShrS, Op.i32Rotr],
] as const;

/** Width context: w = 0 for 64 bits, 1 for 32. */
function readOp(g: Gen, w: number, s: number): void {
  if (w === 0) g.read(s);
  else g.read32(s);
}

function writeOp(g: Gen, w: number, s: number): void {
  if (w === 0) g.write(s);
  else g.write32(s);
}

function constOp(g: Gen, w: number, value: bigint): void {
  if (w === 0) g.f.i64(value);
  else g.f.i32(Number(BigInt.asIntN(32, value)));
}

function locals(g: Gen, w: number): [number, number, number] {
  return w === 0 ? [g.a64, g.b64, g.r64] : [g.a32, g.b32, g.r32];
}

/** NZ from result local r, C and V from the caller (sub: carry = a >= b unsigned). */
function flagsNZ(g: Gen, w: number, r: number): void {
  const f = g.f;
  f.get(r);
  constOp(g, w, 0n);
  f.op(w === 0 ? Op.i64LtS : Op.i32LtS);
  f.set(g.nf);
  f.get(r);
  f.op(w === 0 ? Op.i64Eqz : Op.i32Eqz);
  f.set(g.zf);
}

/** NZCV of a + b (sub: a - b) with results in the width's locals a, b, r (AddWithCarry). */
function addSubFlags(g: Gen, w: number, sub: boolean): void {
  const f = g.f;
  const [a, b, r] = locals(g, w);
  flagsNZ(g, w, r);
  if (sub) {
    f.get(a);
    f.get(b);
    f.op(w === 0 ? Op.i64GeU : Op.i32GeU);
  } else {
    f.get(r);
    f.get(a);
    f.op(w === 0 ? Op.i64LtU : Op.i32LtU);
  }
  f.set(g.cf);
  overflowFlag(g, w, sub);
}

/** V of AddWithCarry from the width's locals a, b, r: add: ((a ^ r) & (b ^ r)) < 0; sub: ((a ^ b) & (a ^ r)) < 0. */
function overflowFlag(g: Gen, w: number, sub: boolean): void {
  const f = g.f;
  const [a, b, r] = locals(g, w);
  f.get(a);
  f.get(sub ? b : r);
  f.op(XOR[w]);
  f.get(sub ? a : b);
  f.get(r);
  f.op(XOR[w]);
  f.op(AND[w]);
  constOp(g, w, 0n);
  f.op(w === 0 ? Op.i64LtS : Op.i32LtS);
  f.set(g.vf);
}

function logicFlags(g: Gen, w: number): void {
  flagsNZ(g, w, locals(g, w)[2]);
  g.f.i32(0);
  g.f.set(g.cf);
  g.f.i32(0);
  g.f.set(g.vf);
}

/** a (op) b with a and b already pushed: stores to d, and flags when asked. */
export function finishAddSub(g: Gen, w: number, sub: boolean, setFlags: boolean, d: number): void {
  const f = g.f;
  const [a, b, r] = locals(g, w);
  f.set(b);
  f.tee(a);
  f.get(b);
  f.op(sub ? SUB[w] : ADD[w]);
  f.tee(r);
  writeOp(g, w, d);
  if (setFlags) addSubFlags(g, w, sub);
}

/** Pushes Rm shifted by (type, amount) in the width. */
function shiftedOperand(g: Gen, w: number, m: number, type: number, amount: number): void {
  readOp(g, w, m);
  if (amount === 0) return;
  constOp(g, w, BigInt(amount));
  g.f.op(SHIFTS[w][type]!);
}

/** Pushes ExtendReg(Rm, option, shift) as i64 (option 0-7: UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW, SXTX). */
function extendedOperand(g: Gen, m: number, option: number, shift: number): void {
  const f = g.f;
  g.read(m);
  const size = option & 3;
  if (option < 4) {
    if (size !== 3) {
      f.i64([0xffn, 0xffffn, 0xffffffffn][size]!);
      f.op(Op.i64And);
    }
  } else if (size !== 3) {
    f.op([Op.i64Extend8S, Op.i64Extend16S, Op.i64Extend32S][size]!);
  }
  if (shift !== 0) {
    f.i64(BigInt(shift));
    f.op(Op.i64Shl);
  }
}

/** Compiles the instruction if the JIT knows it; false leaves it to the interpreter. */
/** Swaps the `shift`-bit fields selected by `mask` with their neighbours, in local r of the width. */
function swapFields(g: Gen, w: number, shift: number, mask: bigint): void {
  const f = g.f;
  const r = locals(g, w)[2];
  f.get(r);
  constOp(g, w, BigInt(shift));
  f.op(SHIFTS[w]![1]);
  constOp(g, w, mask);
  f.op(AND[w]);
  f.get(r);
  constOp(g, w, mask);
  f.op(AND[w]);
  constOp(g, w, BigInt(shift));
  f.op(SHIFTS[w]![0]);
  f.op(OR[w]);
  f.set(r);
}

/** Data processing, 1 source (dp-reg-ops.ts): RBIT, REV16, REV32, REV, CLZ, CLS. */
function emitDp1(g: Gen, insn: Insn, w: number, opcode: number): void {
  const f = g.f;
  const r = locals(g, w)[2];
  readOp(g, w, slot(insn.n));
  if (opcode >= 4) {
    if (opcode === 5) {
      // CLS: leading bits equal to the sign, less the sign itself.
      f.tee(r);
      f.get(r);
      constOp(g, w, BigInt(63 - 32 * w));
      f.op(SHIFTS[w]![2]);
      f.op(XOR[w]);
    }
    f.op(w === 0 ? Op.i64Clz : Op.i32Clz);
    if (opcode === 5) {
      constOp(g, w, 1n);
      f.op(SUB[w]);
    }
    writeOp(g, w, slot(insn.d));
    return;
  }
  f.set(r);
  if (opcode === 0) {
    swapFields(g, w, 1, 0x5555555555555555n);
    swapFields(g, w, 2, 0x3333333333333333n);
    swapFields(g, w, 4, 0x0f0f0f0f0f0f0f0fn);
  }
  swapFields(g, w, 8, 0x00ff00ff00ff00ffn);
  // REV16 stops at bytes within halfwords; REV32 (64-bit) swaps halfwords within words.
  if (opcode !== 1 && !(opcode === 2 && w === 0)) {
    if (w === 0) swapFields(g, w, 16, 0x0000ffff0000ffffn);
    f.get(r);
    constOp(g, w, w === 0 ? 32n : 16n);
    f.op(w === 0 ? Op.i64Rotl : Op.i32Rotl);
    f.set(r);
  }
  if (opcode === 2 && w === 0) swapFields(g, w, 16, 0x0000ffff0000ffffn);
  f.get(r);
  writeOp(g, w, slot(insn.d));
}

export function emitAlu(g: Gen, insn: Insn, idx: number): boolean {
  const word = insn.word;
  const f = g.f;
  const w = word >>> 31 ? 0 : 1;
  // Data processing, 1 source (opcode 0..5; the decoder made the others undef).
  if ((word & 0x7fff0000) === 0x5ac00000 && ((word >>> 10) & 0x3f) <= 5) {
    emitDp1(g, insn, w, (word >>> 10) & 0x3f);
    return true;
  }
  // ADD/SUB(S) immediate.
  if ((word & 0x1f800000) === 0x11000000) {
    readOp(g, w, slot(insn.n));
    constOp(g, w, BigInt(insn.imm));
    finishAddSub(g, w, ((word >>> 30) & 1) !== 0, ((word >>> 29) & 1) !== 0, slot(insn.d));
    return true;
  }
  // ADD/SUB(S) shifted register (shift 3 is UNDEFINED: the decoder made it undef).
  if ((word & 0x1f200000) === 0x0b000000) {
    readOp(g, w, slot(insn.n));
    shiftedOperand(g, w, slot(insn.m), insn.t, insn.s);
    finishAddSub(g, w, ((word >>> 30) & 1) !== 0, ((word >>> 29) & 1) !== 0, slot(insn.d));
    return true;
  }
  // Logical shifted register: AND, ORR, EOR, ANDS (N inverts Rm).
  if ((word & 0x1f000000) === 0x0a000000) {
    const opc = (word >>> 29) & 3;
    readOp(g, w, slot(insn.n));
    shiftedOperand(g, w, slot(insn.m), insn.t, insn.s);
    if (insn.u !== 0) {
      constOp(g, w, -1n);
      f.op(XOR[w]);
    }
    f.op([AND, OR, XOR, AND][opc]![w]);
    f.tee(locals(g, w)[2]);
    writeOp(g, w, slot(insn.d));
    if (opc === 3) logicFlags(g, w);
    return true;
  }
  // Logical immediate.
  if ((word & 0x1f800000) === 0x12000000) {
    const opc = (word >>> 29) & 3;
    const mask = (BigInt(insn.immHi) << 32n) | BigInt(insn.imm >>> 0);
    readOp(g, w, slot(insn.n));
    constOp(g, w, mask);
    f.op([AND, OR, XOR, AND][opc]![w]);
    f.tee(locals(g, w)[2]);
    writeOp(g, w, slot(insn.d));
    if (opc === 3) logicFlags(g, w);
    return true;
  }
  // Move wide: MOVN/MOVZ (the value is precomputed), MOVK (s/t hold the kept bits).
  if ((word & 0x1f800000) === 0x12800000) {
    const value = (BigInt(insn.immHi) << 32n) | BigInt(insn.imm >>> 0);
    if (((word >>> 29) & 3) === 3) {
      const keep = (BigInt(insn.t >>> 0) << 32n) | BigInt(insn.s >>> 0);
      g.read(slot(insn.d));
      f.i64(w === 0 ? keep : keep & MASK32);
      f.op(Op.i64And);
      f.i64(value);
      f.op(Op.i64Or);
    } else {
      f.i64(w === 0 ? value : value & MASK32);
    }
    g.write(slot(insn.d));
    return true;
  }
  // ADD/SUB(S) extended register: Rm extended (UXTB..SXTX) and shifted left by 0-4.
  if ((word & 0x1fe00000) === 0x0b200000) {
    readOp(g, w, slot(insn.n));
    extendedOperand(g, slot(insn.m), insn.t, insn.s);
    if (w === 1) f.op(Op.i32WrapI64);
    finishAddSub(g, w, ((word >>> 30) & 1) !== 0, ((word >>> 29) & 1) !== 0, slot(insn.d));
    return true;
  }
  if ((word & 0x1f000000) === 0x10000000) return emitAdr(g, insn, idx);
  if ((word & 0x1f800000) === 0x13000000) return emitBitfield(g, insn, w);
  if ((word & 0x1f800000) === 0x13800000) return emitExtract(g, insn, w);
  return emitDataProcessingReg(g, insn, w);
}

function emitAdr(g: Gen, insn: Insn, idx: number): boolean {
  const f = g.f;
  g.insnVa(idx);
  if (insn.word >>> 31) {
    f.i64(~0xfffn);
    f.op(Op.i64And);
    f.i64(BigInt(insn.imm) * 4096n);
  } else {
    f.i64(BigInt(insn.imm));
  }
  f.op(Op.i64Add);
  g.write(slot(insn.d));
  return true;
}

/** SBFM/BFM/UBFM: (top & ~tmask) | (bot & tmask), bot = ROR(src, immr) & wmask (merged into Rd for BFM). */
function emitBitfield(g: Gen, insn: Insn, w: number): boolean {
  const f = g.f;
  const [src, , r] = locals(g, w);
  const wmask = (BigInt(insn.immHi) << 32n) | BigInt(insn.imm >>> 0);
  const tmask = (BigInt(insn.a) << 32n) | BigInt(insn.m >>> 0);
  const bits = w === 0 ? 64 : 32;
  const all = w === 0 ? (1n << 64n) - 1n : MASK32;
  const d = slot(insn.d);
  readOp(g, w, slot(insn.n));
  f.tee(src);
  constOp(g, w, BigInt(insn.s));
  f.op(SHIFTS[w][3]);
  constOp(g, w, wmask);
  f.op(AND[w]);
  if (insn.u === 1) {
    readOp(g, w, d);
    constOp(g, w, ~wmask & all);
    f.op(AND[w]);
    f.op(OR[w]);
  }
  constOp(g, w, tmask);
  f.op(AND[w]);
  f.set(r); // bot & tmask
  // top: SBFM replicates bit imms of the source, BFM keeps Rd, UBFM is zero.
  if (insn.u !== 2) {
    if (insn.u === 0) {
      f.get(src);
      constOp(g, w, BigInt(bits - 1 - insn.t));
      f.op(SHIFTS[w][0]);
      constOp(g, w, BigInt(bits - 1));
      f.op(SHIFTS[w][2]);
    } else {
      readOp(g, w, d);
    }
    constOp(g, w, ~tmask & all);
    f.op(AND[w]);
    f.get(r);
    f.op(OR[w]);
    f.set(r);
  }
  f.get(r);
  writeOp(g, w, d);
  return true;
}

/** EXTR: (Rn:Rm) >> lsb. */
function emitExtract(g: Gen, insn: Insn, w: number): boolean {
  const f = g.f;
  const lsb = insn.s;
  readOp(g, w, slot(insn.m));
  if (lsb !== 0) {
    constOp(g, w, BigInt(lsb));
    f.op(SHIFTS[w][1]);
    readOp(g, w, slot(insn.n));
    constOp(g, w, BigInt((w === 0 ? 64 : 32) - lsb));
    f.op(SHIFTS[w][0]);
    f.op(OR[w]);
  }
  writeOp(g, w, slot(insn.d));
  return true;
}

/** Conditional select/compare, variable shifts, divide, multiply-add. */
function emitDataProcessingReg(g: Gen, insn: Insn, w: number): boolean {
  const word = insn.word;
  const f = g.f;
  const [a, b, r] = locals(g, w);
  // CSEL, CSINC, CSINV, CSNEG.
  if ((word & 0x3fe00800) === 0x1a800000) {
    const op = (word >>> 30) & 1;
    const o2 = (word >>> 10) & 1;
    readOp(g, w, slot(insn.n));
    readOp(g, w, slot(insn.m));
    if (op === 0 && o2 === 1) {
      constOp(g, w, 1n);
      f.op(ADD[w]);
    } else if (op === 1 && o2 === 0) {
      constOp(g, w, -1n);
      f.op(XOR[w]);
    } else if (op === 1) {
      f.set(b);
      constOp(g, w, 0n);
      f.get(b);
      f.op(SUB[w]);
    }
    g.condition((word >>> 12) & 15);
    f.op(Op.select);
    writeOp(g, w, slot(insn.d));
    return true;
  }
  // CCMP/CCMN (register and immediate): flags of the compare, or nzcv when the condition fails.
  if ((word & 0x3fe00410) === 0x3a400000) {
    const sub = ((word >>> 30) & 1) !== 0;
    g.condition(insn.s);
    f.open(Op.if, 'ccmp');
    readOp(g, w, slot(insn.n));
    if ((word >>> 11) & 1) constOp(g, w, BigInt((word >>> 16) & 31));
    else readOp(g, w, slot(insn.m));
    f.set(b);
    f.tee(a);
    f.get(b);
    f.op(sub ? SUB[w] : ADD[w]);
    f.set(r);
    addSubFlags(g, w, sub);
    f.else();
    const nzcv = insn.u;
    for (const [bit, flag] of [[8, g.nf], [4, g.zf], [2, g.cf], [1, g.vf]] as const) {
      f.i32((nzcv & bit) !== 0 ? 1 : 0);
      f.set(flag);
    }
    f.end();
    return true;
  }
  // ADC, ADCS, SBC, SBCS: a + (b or ~b) + C.
  if ((word & 0x1fe0fc00) === 0x1a000000) {
    readOp(g, w, slot(insn.n));
    f.set(a);
    readOp(g, w, slot(insn.m));
    if ((word >>> 30) & 1) {
      constOp(g, w, -1n);
      f.op(XOR[w]);
    }
    f.tee(b);
    f.get(a);
    f.op(ADD[w]);
    f.get(g.cf);
    if (w === 0) f.op(Op.i64ExtendI32U);
    f.op(ADD[w]);
    f.tee(r);
    writeOp(g, w, slot(insn.d));
    if ((word >>> 29) & 1) {
      flagsNZ(g, w, r);
      // Carry out: r <= a with a carry in, r < a without (AddWithCarry).
      f.get(r);
      f.get(a);
      f.op(w === 0 ? Op.i64LeU : Op.i32LeU);
      f.get(r);
      f.get(a);
      f.op(w === 0 ? Op.i64LtU : Op.i32LtU);
      f.get(g.cf);
      f.op(Op.select);
      f.set(g.cf);
      overflowFlag(g, w, false); // b holds ~Rm for SBC: an addition either way
    }
    return true;
  }
  // LSLV, LSRV, ASRV, RORV (the amount is taken modulo the width, as wasm does).
  if ((word & 0x7fe0f000) === 0x1ac02000) {
    readOp(g, w, slot(insn.n));
    readOp(g, w, slot(insn.m));
    f.op(SHIFTS[w][(word >>> 10) & 3]!);
    writeOp(g, w, slot(insn.d));
    return true;
  }
  // UDIV, SDIV: x / 0 = 0, and INT_MIN / -1 = INT_MIN (wasm would trap on both).
  if ((word & 0x7fe0f800) === 0x1ac00800) {
    const signed = ((word >>> 10) & 1) !== 0;
    readOp(g, w, slot(insn.n));
    f.set(a);
    readOp(g, w, slot(insn.m));
    f.tee(b);
    constOp(g, w, 0n);
    f.set(r);
    f.op(w === 0 ? Op.i64Eqz : Op.i32Eqz);
    f.op(Op.i32Eqz);
    f.open(Op.if, 'div');
    f.get(a);
    f.set(r);
    if (signed) {
      f.get(b);
      constOp(g, w, -1n);
      f.op(w === 0 ? Op.i64Ne : Op.i32Ne);
      f.open(Op.if, 'sdiv');
    }
    f.get(a);
    f.get(b);
    f.op(w === 0 ? (signed ? Op.i64DivS : Op.i64DivU) : signed ? Op.i32DivS : Op.i32DivU);
    f.set(r);
    if (signed) {
      f.else();
      constOp(g, w, 0n);
      f.get(a);
      f.op(SUB[w]);
      f.set(r);
      f.end();
    }
    f.end();
    f.get(r);
    writeOp(g, w, slot(insn.d));
    return true;
  }
  // MADD, MSUB (the 64x64 and 32x32 forms only; the widening ones stay interpreted).
  if ((word & 0x7fe00000) === 0x1b000000) {
    const ra = slot(insn.a);
    readOp(g, w, ra === SP_SLOT ? XZR_SLOT : ra);
    readOp(g, w, slot(insn.n));
    readOp(g, w, slot(insn.m));
    f.op(w === 0 ? Op.i64Mul : Op.i32Mul);
    f.op((word >>> 15) & 1 ? SUB[w] : ADD[w]);
    writeOp(g, w, slot(insn.d));
    return true;
  }
  // SMADDL, SMSUBL, UMADDL, UMSUBL (SMULL, UMULL): Xa +/- Wn * Wm, extended to 64 bits.
  if ((word & 0xff600000) >>> 0 === 0x9b200000) {
    const extend = (word >>> 23) & 1 ? Op.i64ExtendI32U : Op.i64ExtendI32S;
    g.read(slot(insn.a));
    g.read32(slot(insn.n));
    f.op(extend);
    g.read32(slot(insn.m));
    f.op(extend);
    f.op(Op.i64Mul);
    f.op((word >>> 15) & 1 ? Op.i64Sub : Op.i64Add);
    g.write(slot(insn.d));
    return true;
  }
  return false;
}
