import type { Insn } from '../insn.js';
import { atomic, OP_ADD, OP_CLR, OP_EOR, OP_SET, OP_SMAX, OP_SMIN, OP_SWP, OP_UMAX } from '../isa/ldst-atomic.js';
import { EXT_ZERO } from '../isa/ldst-common.js';
import {
  compareAndSwap,
  compareAndSwapPair,
  loadAcquire,
  loadAcquireOffset,
  loadExclusive,
  loadExclusivePair,
  storeExclusive,
  storeExclusivePair,
  storeRelease,
  storeReleaseOffset,
} from '../isa/ldst-exclusive.js';
import { ACC_NOCHECK } from '../slow-access.js';
import { emitSpCheck, emitTranslate, loadInto, storeFrom } from './emit-memory.js';
import type { Gen } from './gen.js';
import { ST_DATA_WRITES, ST_EXCL, ST_EXCL_SIZE, STATE_OFFSET } from './layout.js';
import { Op } from './wasm.js';

/**
 * Acquire/release accesses, LSE atomics, CAS/CASP and the exclusives in WebAssembly: the fast
 * path of their executors (isa/ldst-atomic.ts, isa/ldst-exclusive.ts) only — an aligned access
 * that hits the JIT region's TLB entry and passes its tag check (emitTranslate). A vCPU runs
 * alone, so ordering needs nothing. Whatever else the executor could meet (a miss, a misaligned
 * address, a tag mismatch, a misaligned SP, Device memory, another RAM region) leaves the region
 * before the instruction and the interpreter runs it, so faults are exact by construction.
 *
 * Read-modify-writes (atomics, CAS) and store-exclusives go through the write TLB: its entries
 * exist only for writable RAM pages that hold no code and are dirty or not logged (fillTlb), and
 * write permission implies read permission, so the entry proves everything the executor's
 * probe(ACC_RMW) would. Of writeProbed's noteGuestWrite only the live viewer's data-write count
 * remains, kept in ST_DATA_WRITES as DC ZVA does (emit-sys.ts). Ordinary stores (STLR) take the
 * interpreter's fast path, which does not count, and do not count here either.
 *
 * The exclusive monitor is ST_EXCL/ST_EXCL_SIZE (layout.ts): an armed monitor in the JIT's region
 * is the byte offset of the access in its memory, which is what emitTranslate leaves in g.off.
 */

const slot = (field: number): number => field >> 1;

const LOAD_U = [Op.i64Load8U, Op.i64Load16U, 0, Op.i64Load32U] as const;
const EXTEND_S = [Op.i64Extend8S, Op.i64Extend16S, 0, Op.i64Extend32S] as const;
const MASK = [0xffn, 0xffffn, 0n, 0xffffffffn] as const;

/** Pushes the `size`-byte value at g.off + `at`, zero-extended to i64. */
function loadOld(g: Gen, size: number, at: number): void {
  g.f.get(g.off);
  g.f.mem(size === 8 ? Op.i64Load : LOAD_U[size - 1]!, at);
}

/** Leaves before instruction `idx` unless the address in g.addr is a multiple of `align` (a power of two). */
function requireAligned(g: Gen, align: number, idx: number, j: number): void {
  if (align === 1) return;
  const f = g.f;
  f.get(g.addr);
  f.op(Op.i32WrapI64);
  f.i32(align - 1);
  f.op(Op.i32And);
  f.open(Op.if, 'misaligned');
  g.exitBefore(idx, j);
  f.end();
}

/** Leaves before instruction `idx` when `size` bytes at g.addr cross a 16-byte boundary (FEAT_LSE2's rule: ACC_ALIGN16). */
function requireIn16(g: Gen, size: number, idx: number, j: number): void {
  if (size === 1) return;
  const f = g.f;
  f.get(g.addr);
  f.op(Op.i32WrapI64);
  f.i32(15);
  f.op(Op.i32And);
  f.i32(16 - size);
  f.op(Op.i32GtU);
  f.open(Op.if, 'cross16');
  g.exitBefore(idx, j);
  f.end();
}

/** The SP check and g.addr = X[n] (+ imm): every form here addresses [Xn] or [Xn, #imm]. */
function baseAddress(g: Gen, insn: Insn, imm: number, idx: number, j: number): void {
  const base = slot(insn.n);
  emitSpCheck(g, base, idx, j);
  g.read(base);
  if (imm !== 0) {
    g.f.i64(BigInt(imm));
    g.f.op(Op.i64Add);
  }
  g.f.set(g.addr);
}

const checked = (insn: Insn): boolean => (insn.u & ACC_NOCHECK) === 0;

/** A state word's memory address (layout.ts). */
const stateAt = (g: Gen, word: number): number => g.jitArea + STATE_OFFSET + word * 4;

/**
 * LDAR/LDAPR/LDAPUR(S*) and STLR/STLUR: as LDR/STR when aligned to the size. A misaligned one is
 * the interpreter's (orderedFlags adds LSE2's 16-byte rule unless SCTLR_EL1.nAA).
 */
function emitOrdered(g: Gen, insn: Insn, load: boolean, offset: boolean, idx: number, j: number): void {
  baseAddress(g, insn, offset ? insn.imm : 0, idx, j);
  requireAligned(g, insn.s, idx, j);
  emitTranslate(g, insn.s, !load, checked(insn), idx, j);
  if (load) loadInto(g, slot(insn.d), insn.s, offset ? insn.a : EXT_ZERO, 0);
  else storeFrom(g, slot(insn.d), insn.s, 0);
}

/** Pushes the i64 on the stack as a signed (`signed`) or unsigned `size`-byte integer, widened to 64 bits. */
function widen(g: Gen, size: number, signed: boolean): void {
  if (size === 8) return;
  if (signed) {
    g.f.op(EXTEND_S[size - 1]!);
  } else {
    g.f.i64(MASK[size - 1]!);
    g.f.op(Op.i64And);
  }
}

/**
 * LD<op>/SWP (and ST<op>: Rt = XZR): atomicResult of the old value (g.r64, zero-extended) and
 * X[m], stored at the access size; Rt gets the old value.
 */
function emitAtomicOp(g: Gen, insn: Insn, idx: number, j: number): void {
  const f = g.f;
  const size = insn.s;
  const op = insn.t;
  baseAddress(g, insn, 0, idx, j);
  requireIn16(g, size, idx, j);
  emitTranslate(g, size, true, checked(insn), idx, j);
  loadOld(g, size, 0);
  f.set(g.r64);
  f.get(g.off);
  const operand = slot(insn.m);
  if (op === OP_SWP) {
    g.read(operand);
  } else if (op < OP_SMAX) {
    f.get(g.r64);
    g.read(operand);
    if (op === OP_CLR) {
      f.i64(-1n);
      f.op(Op.i64Xor);
    }
    f.op(op === OP_ADD ? Op.i64Add : op === OP_EOR ? Op.i64Xor : op === OP_SET ? Op.i64Or : Op.i64And);
  } else {
    // Max/min: keep the old value when it is greater (MAX) or not greater (MIN), compared at the size.
    const signed = op === OP_SMAX || op === OP_SMIN;
    const keepWhenGreater = op === OP_SMAX || op === OP_UMAX;
    // select(a, b, old > operand): a = old for MAX, the operand for MIN.
    if (keepWhenGreater) {
      f.get(g.r64);
      g.read(operand);
    } else {
      g.read(operand);
      f.get(g.r64);
    }
    g.read(operand);
    widen(g, size, signed);
    f.get(g.r64);
    widen(g, size, signed);
    f.op(signed ? Op.i64LtS : Op.i64LtU); // operand < old: old greater
    f.op(Op.select);
  }
  f.mem(size === 8 ? Op.i64Store : size === 4 ? Op.i64Store32 : size === 2 ? Op.i64Store16 : Op.i64Store8, 0);
  g.bumpState(ST_DATA_WRITES);
  f.get(g.r64);
  g.write(slot(insn.d));
}

/** Pushes i32 1 when the i64 on the stack equals X[reg] at `size` bytes (the stack value is zero-extended). */
function sameAs(g: Gen, reg: number, size: number): void {
  g.read(reg);
  widen(g, size, false);
  g.f.op(Op.i64Eq);
}

/**
 * CAS (size 1..8) and CASP (`pair`: elements of `size` bytes): compare at the size, store the new
 * value(s) only on a match (the interpreter writes nothing otherwise), old value(s) to Rs (Rs+1).
 */
function emitCas(g: Gen, insn: Insn, pair: boolean, idx: number, j: number): void {
  const f = g.f;
  const size = insn.s;
  const total = pair ? size * 2 : size;
  baseAddress(g, insn, 0, idx, j);
  requireIn16(g, total, idx, j);
  emitTranslate(g, total, true, checked(insn), idx, j);
  loadOld(g, size, 0);
  f.tee(g.r64);
  sameAs(g, slot(insn.m), size);
  if (pair) {
    loadOld(g, size, size);
    f.tee(g.b64);
    sameAs(g, slot(insn.m) + 1, size);
    f.op(Op.i32And);
  }
  f.open(Op.if, 'match');
  storeFrom(g, slot(insn.d), size, 0);
  if (pair) storeFrom(g, slot(insn.d) + 1, size, size);
  g.bumpState(ST_DATA_WRITES);
  f.end();
  f.get(g.r64);
  g.write(slot(insn.a));
  if (pair) {
    f.get(g.b64);
    g.write(slot(insn.immHi));
  }
}

/**
 * LDXR/LDAXR and LDXP/LDAXP: the load, then the monitor armed on the access's offset and size
 * (the engine writes both back at exit when either changed).
 */
function emitLoadExclusive(g: Gen, insn: Insn, pair: boolean, idx: number, j: number): void {
  const f = g.f;
  const size = insn.s;
  const total = pair ? size * 2 : size;
  baseAddress(g, insn, 0, idx, j);
  requireIn16(g, total, idx, j);
  emitTranslate(g, total, false, checked(insn), idx, j);
  loadInto(g, slot(insn.d), size, EXT_ZERO, 0);
  if (pair) loadInto(g, slot(insn.m), size, EXT_ZERO, size); // Rt == Rt2 keeps the second, as the interpreter
  f.i32(0);
  f.get(g.off);
  f.mem(Op.i32Store, stateAt(g, ST_EXCL));
  f.i32(0);
  f.i32(total);
  f.mem(Op.i32Store, stateAt(g, ST_EXCL_SIZE));
}

/**
 * STXR/STLXR and STXP/STLXP, as storeIfExclusive and finishStoreExclusive: a misaligned address is
 * the interpreter's (it faults even with the monitor clear: LSE2's rule, or SCTLR_EL1.A); with the
 * monitor clear, status 1 and no access; otherwise the write TLB (a miss or tag mismatch: the
 * interpreter), and the store only when offset and size match the monitor's. Then the monitor is
 * cleared and Ws written, after Xt and Xn were read.
 */
function emitStoreExclusive(g: Gen, insn: Insn, pair: boolean, idx: number, j: number): void {
  const f = g.f;
  const size = insn.s;
  const total = pair ? size * 2 : size;
  baseAddress(g, insn, 0, idx, j);
  requireAligned(g, total, idx, j);
  f.i32(1);
  f.set(g.b32); // the status
  f.i32(0);
  f.mem(Op.i32Load, stateAt(g, ST_EXCL));
  f.i32(-1);
  f.op(Op.i32Ne);
  f.open(Op.if, 'armed');
  emitTranslate(g, total, true, checked(insn), idx, j);
  f.get(g.off);
  f.i32(0);
  f.mem(Op.i32Load, stateAt(g, ST_EXCL));
  f.op(Op.i32Eq);
  f.i32(0);
  f.mem(Op.i32Load, stateAt(g, ST_EXCL_SIZE));
  f.i32(total);
  f.op(Op.i32Eq);
  f.op(Op.i32And);
  f.open(Op.if, 'match');
  storeFrom(g, slot(insn.d), size, 0);
  if (pair) storeFrom(g, slot(insn.m), size, size);
  g.bumpState(ST_DATA_WRITES);
  f.i32(0);
  f.set(g.b32);
  f.end();
  f.end();
  f.i32(0);
  f.i32(-1);
  f.mem(Op.i32Store, stateAt(g, ST_EXCL));
  f.get(g.b32);
  g.write32(slot(insn.a));
}

/** The forms above, recognised by their executor; false for every other instruction. */
export function emitAtomic(g: Gen, insn: Insn, idx: number, j: number): boolean {
  const exec = insn.exec;
  if (exec === loadAcquire || exec === storeRelease) emitOrdered(g, insn, exec === loadAcquire, false, idx, j);
  else if (exec === loadAcquireOffset || exec === storeReleaseOffset) emitOrdered(g, insn, exec === loadAcquireOffset, true, idx, j);
  else if (exec === atomic) emitAtomicOp(g, insn, idx, j);
  else if (exec === compareAndSwap || exec === compareAndSwapPair) emitCas(g, insn, exec === compareAndSwapPair, idx, j);
  else if (exec === loadExclusive || exec === loadExclusivePair) emitLoadExclusive(g, insn, exec === loadExclusivePair, idx, j);
  else if (exec === storeExclusive || exec === storeExclusivePair) emitStoreExclusive(g, insn, exec === storeExclusivePair, idx, j);
  else return false;
  return true;
}
