import { undef } from '../decoder.js';
import type { Insn } from '../insn.js';
import { EXT_SIGN32, EXT_SIGN64, MODE_OFFSET, MODE_POST } from '../isa/ldst-common.js';
import { TLB_MASK } from '../mmu/tlb.js';
import { SP_SLOT } from '../regs.js';
import { ACC_NOCHECK } from '../slow-access.js';
import type { Gen } from './gen.js';
import { TLB_KEY_HI, TLB_KEY_LO, TLB_PAGE, TLB_TAGGED } from './layout.js';
import { Op, type FuncWriter } from './wasm.js';

/**
 * Loads and stores in WebAssembly: the fast path of fast-access.ts (tlbEntry, entryOffset,
 * tagCheckFails) written as wasm over the TLB columns DataTlb.moveInto placed in guest RAM's
 * memory. Whatever that fast path would hand to the slow path or to cpu.tagMismatch (a miss, a
 * page of another region, a page crossing, a tag mismatch or granule crossing, a misaligned SP)
 * instead leaves the region before the instruction, and the interpreter runs it: faults, MMIO,
 * watchpoints and asynchronous tag faults all happen there, so they are exact by construction.
 */

const slot = (field: number): number => field >> 1;

/** Pushes the canonical high word of local `hi` under TBI (Cpu.canonHi): hi | tbiOr1 in the upper half, hi & tbiAnd0 in the lower. */
export function emitCanonHi(f: FuncWriter, hi: number, tbiOr1: () => void, tbiAnd0: () => void): void {
  f.get(hi);
  tbiOr1();
  f.op(Op.i32Or);
  f.get(hi);
  tbiAnd0();
  f.op(Op.i32And);
  f.get(hi);
  f.i32(0x00800000);
  f.op(Op.i32And);
  f.op(Op.select);
}

/**
 * Pushes nonzero when a software TLB set misses the VA (local `lo`, local `h` its canonical high
 * word), as tlbEntry and fetchCodePage look it up: the entry is the set's base (pushed by `base`,
 * in entries) + VA[21:12], its byte index teed into local `e`; keyLo must be VA[43:12] and keyHi
 * VA[63:44] at the columns at byte addresses `keyLo` and `keyHi`.
 */
export function emitTlbMiss(f: FuncWriter, lo: number, h: number, e: number, base: () => void, keyLo: number, keyHi: number): void {
  base();
  f.get(lo);
  f.i32(12);
  f.op(Op.i32ShrU);
  f.i32(TLB_MASK);
  f.op(Op.i32And);
  f.op(Op.i32Add);
  f.i32(2);
  f.op(Op.i32Shl);
  f.tee(e);
  f.mem(Op.i32Load, keyLo);
  f.get(lo);
  f.i32(12);
  f.op(Op.i32ShrU);
  f.get(h);
  f.i32(20);
  f.op(Op.i32Shl);
  f.op(Op.i32Or);
  f.op(Op.i32Ne);
  f.get(e);
  f.mem(Op.i32Load, keyHi);
  f.get(h);
  f.i32(12);
  f.op(Op.i32ShrS);
  f.op(Op.i32Ne);
  f.op(Op.i32Or);
}

/**
 * Emits the TLB lookup and tag check of an access of `size` bytes at the address in g.addr;
 * leaves the memory address of its first byte in g.off, or exits before instruction `idx` (the
 * `j`-th of its block).
 */
export function emitTranslate(g: Gen, size: number, write: boolean, checked: boolean, idx: number, j: number): void {
  const f = g.f;
  const area = g.jitArea;
  f.get(g.addr);
  f.op(Op.i32WrapI64);
  f.set(g.lo);
  f.get(g.addr);
  f.i64(32n);
  f.op(Op.i64ShrU);
  f.op(Op.i32WrapI64);
  f.set(g.hi);
  emitCanonHi(f, g.hi, () => f.get(g.tbiOr1), () => f.get(g.tbiAnd0));
  f.set(g.a32);
  emitTlbMiss(f, g.lo, g.a32, g.e, () => f.get(write ? g.wrBase : g.rdBase), area + TLB_KEY_LO, area + TLB_KEY_HI);
  f.get(g.lo);
  f.i32(0xfff);
  f.op(Op.i32And);
  f.i32(4096 - size);
  f.op(Op.i32GtU);
  f.op(Op.i32Or);
  // A page of another region has jitPage -1.
  f.get(g.e);
  f.mem(Op.i32Load, area + TLB_PAGE);
  f.tee(g.off);
  f.i32(-1);
  f.op(Op.i32Eq);
  f.op(Op.i32Or);
  f.open(Op.if, 'miss');
  g.exitBefore(idx, j);
  f.end();
  f.get(g.off);
  f.get(g.lo);
  f.i32(0xfff);
  f.op(Op.i32And);
  f.op(Op.i32Add);
  f.set(g.off);
  if (!checked) return;
  // MTE: the first granule's tag must equal the pointer's and the access stay in that granule.
  f.get(g.mteActive);
  f.get(g.e);
  f.mem(Op.i32Load, area + TLB_TAGGED);
  f.op(Op.i32And);
  f.open(Op.if, 'tagged');
  emitAllocationTag(g);
  f.get(g.hi);
  f.i32(24);
  f.op(Op.i32ShrU);
  f.op(Op.i32Xor);
  f.i32(15);
  f.op(Op.i32And);
  f.get(g.off);
  f.i32(15);
  f.op(Op.i32And);
  f.i32(16 - size);
  f.op(Op.i32GtU);
  f.op(Op.i32Or);
  f.open(Op.if, 'mismatch');
  g.exitBefore(idx, j);
  f.end();
  f.end();
}

/**
 * Pushes the packed tag byte of the granule at memory offset g.off shifted so that its allocation
 * tag is in bits 3:0 (tag-store.ts layout: two granules per byte, the even one low); the bits
 * above are the odd granule's when the granule is even, so callers mask.
 */
export function emitAllocationTag(g: Gen): void {
  const f = g.f;
  f.get(g.tagBase);
  f.get(g.off);
  f.i32(5);
  f.op(Op.i32ShrU);
  f.op(Op.i32Add);
  f.mem(Op.i32Load8U);
  f.get(g.off);
  f.i32(2);
  f.op(Op.i32ShrU);
  f.i32(4);
  f.op(Op.i32And);
  f.op(Op.i32ShrU);
}

/** SP-based access with SCTLR_EL1.SA/SA0 set and SP misaligned: the interpreter faults it. */
export function emitSpCheck(g: Gen, base: number, idx: number, j: number): void {
  if (base !== SP_SLOT) return;
  const f = g.f;
  f.get(g.spAlign); // 0 or 1
  g.read32(SP_SLOT);
  f.i32(15);
  f.op(Op.i32And);
  f.i32(0);
  f.op(Op.i32Ne);
  f.op(Op.i32And);
  f.open(Op.if, 'spalign');
  g.exitBefore(idx, j);
  f.end();
}

/** base + imm into g.addr (access address) and g.wb (written-back base) for the immediate modes. */
function immediateAddress(g: Gen, base: number, imm: number, mode: number): void {
  const f = g.f;
  g.read(base);
  f.i64(BigInt(imm));
  f.op(Op.i64Add);
  f.set(g.wb);
  if (mode === MODE_POST) g.read(base);
  else f.get(g.wb);
  f.set(g.addr);
}

export function loadInto(g: Gen, d: number, size: number, ext: number, at: number): void {
  const f = g.f;
  f.get(g.off);
  if (size === 8) {
    f.mem(Op.i64Load, at);
  } else {
    const signed = ext === EXT_SIGN64 || ext === EXT_SIGN32;
    const ops = signed ? [Op.i64Load8S, Op.i64Load16S, 0, Op.i64Load32S] : [Op.i64Load8U, Op.i64Load16U, 0, Op.i64Load32U];
    f.mem(ops[size - 1]!, at);
    if (ext === EXT_SIGN32) {
      f.i64(0xffffffffn);
      f.op(Op.i64And);
    }
  }
  g.write(d);
}

export function storeFrom(g: Gen, value: number, size: number, at: number): void {
  const f = g.f;
  f.get(g.off);
  g.read(value);
  f.mem(size === 8 ? Op.i64Store : size === 4 ? Op.i64Store32 : size === 2 ? Op.i64Store16 : Op.i64Store8, at);
}

function writeBack(g: Gen, base: number, mode: number): void {
  if (mode === MODE_OFFSET) return;
  g.f.get(g.wb);
  g.write(base);
}

/**
 * LDR/STR (immediate: unsigned offset, unscaled, pre- and post-index; register offset), LDR/LDRSW
 * (literal) and LDP/STP/LDPSW; false for every other load/store (the interpreter runs them).
 */
export function emitMemory(g: Gen, insn: Insn, idx: number, j: number): boolean {
  const word = insn.word;
  if (insn.exec === undef || (word >>> 26) & 1) return false;
  // LDR/LDRSW (literal): PC-relative, Tag Unchecked (PRFM literal is left to the interpreter's no-op).
  if ((word & 0x3b000000) === 0x18000000) {
    if (word >>> 30 === 3) return false;
    g.insnVa(idx);
    g.f.i64(BigInt(insn.imm));
    g.f.op(Op.i64Add);
    g.f.set(g.addr);
    emitTranslate(g, insn.s, false, false, idx, j);
    loadInto(g, slot(insn.d), insn.s, insn.a, 0);
    return true;
  }
  const single = (word & 0x3b000000) === 0x39000000 || ((word & 0x3b200000) === 0x38000000 && ((word >>> 10) & 3) !== 2);
  const register = (word & 0x3b200c00) === 0x38200800;
  if (single || register) {
    const opc = (word >>> 22) & 3;
    if (opc === 2 && word >>> 30 === 3) return false; // PRFM
    const load = opc !== 0;
    const base = slot(insn.n);
    emitSpCheck(g, base, idx, j);
    if (register) {
      const f = g.f;
      g.read(base);
      g.read(slot(insn.m));
      if (insn.immHi === 2 || insn.immHi === 6) {
        f.op(Op.i32WrapI64);
        f.op(insn.immHi === 2 ? Op.i64ExtendI32U : Op.i64ExtendI32S);
      }
      if (insn.imm !== 0) {
        f.i64(BigInt(insn.imm));
        f.op(Op.i64Shl);
      }
      f.op(Op.i64Add);
      f.set(g.addr);
    } else {
      immediateAddress(g, base, insn.imm, insn.t);
    }
    emitTranslate(g, insn.s, !load, register || (insn.u & ACC_NOCHECK) === 0, idx, j);
    if (load) loadInto(g, slot(insn.d), insn.s, insn.a, 0);
    else storeFrom(g, slot(insn.d), insn.s, 0);
    if (!register) writeBack(g, base, insn.t);
    return true;
  }
  if ((word & 0x3a000000) === 0x28000000) {
    const opc = word >>> 30;
    const load = ((word >>> 22) & 1) !== 0;
    if (opc === 3 || (opc === 1 && !load)) return false; // STGP and unallocated
    const esize = opc === 2 ? 8 : 4;
    const base = slot(insn.n);
    emitSpCheck(g, base, idx, j);
    immediateAddress(g, base, insn.imm, insn.t);
    emitTranslate(g, esize * 2, !load, insn.u === 0, idx, j);
    const ext = insn.s !== 0 ? EXT_SIGN64 : 0;
    if (load) {
      loadInto(g, slot(insn.d), esize, ext, 0);
      loadInto(g, slot(insn.a), esize, ext, esize);
    } else {
      storeFrom(g, slot(insn.d), esize, 0);
      storeFrom(g, slot(insn.a), esize, esize);
    }
    writeBack(g, base, insn.t);
    return true;
  }
  return false;
}
