import type { Insn } from '../insn.js';
import { addSubTag } from '../isa/dp-imm.js';
import { gmi, irg, KIND_ST2G, KIND_STZ2G, KIND_STZG, ldg, stgp, storeTag, subp, subps } from '../isa/mte-insns.js';
import { finishAddSub } from './emit-alu.js';
import { emitAllocationTag, emitTranslate, storeFrom } from './emit-memory.js';
import type { Gen } from './gen.js';
import { ST_GCR, ST_RGSR, ST_TAG_ACCESS, ST_TAG_WRITES, STATE_OFFSET, TLB_TAGGED } from './layout.js';
import { Op } from './wasm.js';

/**
 * The MTE instructions in WebAssembly (FEAT_MTE2 without LDGM/STGM/STZGM, which are EL1-only and
 * rare). Register arithmetic (ADDG/SUBG's address, GMI, SUBP/SUBPS) is inline; ADDG/SUBG's tag
 * choice calls the interpreter's own function (mte.ts addgTag: GCR_EL1 lives in the system
 * registers), IRG's is inline (emitIrgTag, with RGSR_EL1 in the state area); tag stores find their page through the
 * write TLB inline and write the tags inline too, or call the interpreter's storeTagEntry while
 * dirty logging or the viewer's tag epochs need its bookkeeping; LDG reads the tag inline through
 * the read TLB. Anything else (misalignment, a TLB miss, a page of another region) leaves compiled
 * code before the instruction and the interpreter runs it, so faults stay exact.
 */

/** Imported helper functions ("h"."<name>", function indices in this order), see Jit.bind. */
export const HELPERS = ['addg', 'stg'] as const;
const H_ADDG = 0;
const H_STG = 1;

const slot = (field: number): number => field >> 1;
const TAG_BITS = 0x0f00000000000000n;

/** Pushes the allocation tag (bits 59:56) of the i64 on the stack as i32. */
function tagOfTop(g: Gen): void {
  const f = g.f;
  f.i64(56n);
  f.op(Op.i64ShrU);
  f.op(Op.i32WrapI64);
  f.i32(15);
  f.op(Op.i32And);
}

/** Stack [value i64, tag i32] -> value with its tag bits replaced (mte.ts withTag). */
function insertTag(g: Gen): void {
  const f = g.f;
  f.op(Op.i64ExtendI32U);
  f.i64(56n);
  f.op(Op.i64Shl);
  f.op(Op.i64Or);
}

/** Pushes X[field] with the tag bits cleared. */
function untagged(g: Gen, field: number): void {
  g.read(slot(field));
  g.f.i64(~TAG_BITS);
  g.f.op(Op.i64And);
}

/** Pushes the low 56 bits of X[field] sign-extended from bit 55 (SUBP's operands). */
function stripped(g: Gen, field: number): void {
  const f = g.f;
  g.read(slot(field));
  f.i64(8n);
  f.op(Op.i64Shl);
  f.i64(8n);
  f.op(Op.i64ShrS);
}

/** The tag instructions' address: g.wb = base + imm, g.addr = base (post-index) or g.wb. */
function tagAddress(g: Gen, insn: Insn, post: boolean): void {
  const f = g.f;
  g.read(slot(insn.n));
  f.i64(BigInt(insn.imm));
  f.op(Op.i64Add);
  f.set(g.wb);
  if (post) g.read(slot(insn.n));
  else f.get(g.wb);
  f.set(g.addr);
}

/** A tag store's address must be granule-aligned: otherwise the interpreter takes the alignment fault. */
function alignedOrExit(g: Gen, idx: number, j: number): void {
  const f = g.f;
  f.get(g.addr);
  f.op(Op.i32WrapI64);
  f.i32(15);
  f.op(Op.i32And);
  f.open(Op.if, 'unaligned');
  g.exitBefore(idx, j);
  f.end();
}

/**
 * The STG family's work for the entry emitTranslate found (tag on the stack): storeTagEntry
 * (isa/mte-insns.ts) written in wasm when the region needs no bookkeeping but the counter
 * (ST_TAG_PLAIN), else a call to storeTagEntry itself.
 */
function storeTags(g: Gen, granules: number, zero: boolean): void {
  const f = g.f;
  f.set(g.a32);
  f.get(g.tagPlain);
  f.open(Op.if, 'plain');
  for (let k = 0; zero && k < granules * 2; k++) {
    f.get(g.off);
    f.i64(0n);
    f.mem(Op.i64Store, k * 8);
  }
  f.get(g.e);
  f.mem(Op.i32Load, g.jitArea + TLB_TAGGED);
  f.open(Op.if, 'tagged');
  for (let k = 0; k < granules; k++) {
    // Granule index (off >> 4) + k: its nibble in byte tagBase + index / 2, the odd one high.
    f.get(g.off);
    f.i32(4);
    f.op(Op.i32ShrU);
    if (k !== 0) {
      f.i32(k);
      f.op(Op.i32Add);
    }
    f.tee(g.b32);
    f.i32(1);
    f.op(Op.i32And);
    f.i32(2);
    f.op(Op.i32Shl);
    f.set(g.r32);
    f.get(g.tagBase);
    f.get(g.b32);
    f.i32(1);
    f.op(Op.i32ShrU);
    f.op(Op.i32Add);
    f.tee(g.b32);
    f.get(g.b32);
    f.mem(Op.i32Load8U);
    f.i32(15);
    f.get(g.r32);
    f.op(Op.i32Shl);
    f.i32(-1);
    f.op(Op.i32Xor);
    f.op(Op.i32And);
    f.get(g.a32);
    f.get(g.r32);
    f.op(Op.i32Shl);
    f.op(Op.i32Or);
    f.mem(Op.i32Store8);
  }
  g.bumpState(ST_TAG_WRITES);
  f.end();
  f.else();
  f.get(g.e);
  f.i32(2);
  f.op(Op.i32ShrU);
  f.get(g.lo);
  f.i32(granules | (zero ? 0x100 : 0));
  f.get(g.a32);
  f.call(H_STG);
  f.op(Op.drop);
  f.end();
}

function stateLoad(g: Gen, word: number): void {
  g.f.i32(0);
  g.f.mem(Op.i32Load, g.jitArea + STATE_OFFSET + word * 4);
}

/**
 * IRG's tag into g.r32: mte.ts randomTag and chooseNonExcludedTag written in wasm (four LFSR
 * steps over RGSR_EL1.SEED give an offset from RGSR_EL1.TAG; the tag that many non-excluded
 * steps on), RGSR_EL1 updated in the state area (the engine writes it back at exit); 0 without
 * tag access. A second description of the interpreter's, held to it by test/jit/mte.test.ts: a
 * call out of wasm per IRG cost bench-mte 7%.
 */
function emitIrgTag(g: Gen, insn: Insn): void {
  const f = g.f;
  const [seed, offset, tag, exclude, rgsr, top] = [g.a32, g.b32, g.r32, g.lo, g.hi, g.e];
  f.i32(0);
  f.set(tag);
  stateLoad(g, ST_TAG_ACCESS);
  f.open(Op.if, 'ata');
  stateLoad(g, ST_RGSR);
  f.tee(rgsr);
  f.i32(8);
  f.op(Op.i32ShrU);
  f.i32(0xffff);
  f.op(Op.i32And);
  f.tee(seed);
  // A zero seed with GCR_EL1.RRND set starts from 1 (as randomTag does).
  f.op(Op.i32Eqz);
  stateLoad(g, ST_GCR);
  f.i32(16);
  f.op(Op.i32ShrU);
  f.op(Op.i32And);
  f.get(seed);
  f.op(Op.i32Or);
  f.set(seed);
  f.i32(0);
  f.set(offset);
  for (let i = 0; i < 4; i++) {
    f.get(seed);
    f.i32(5);
    f.op(Op.i32ShrU);
    f.get(seed);
    f.i32(3);
    f.op(Op.i32ShrU);
    f.op(Op.i32Xor);
    f.get(seed);
    f.i32(2);
    f.op(Op.i32ShrU);
    f.op(Op.i32Xor);
    f.get(seed);
    f.op(Op.i32Xor);
    f.i32(1);
    f.op(Op.i32And);
    f.tee(top);
    f.i32(i);
    f.op(Op.i32Shl);
    f.get(offset);
    f.op(Op.i32Or);
    f.set(offset);
    f.get(top);
    f.i32(15);
    f.op(Op.i32Shl);
    f.get(seed);
    f.i32(1);
    f.op(Op.i32ShrU);
    f.op(Op.i32Or);
    f.set(seed);
  }
  g.read32(slot(insn.m));
  stateLoad(g, ST_GCR);
  f.op(Op.i32Or);
  f.i32(0xffff);
  f.op(Op.i32And);
  f.tee(exclude);
  f.i32(0xffff);
  f.op(Op.i32Ne);
  f.open(Op.if, 'some');
  // Offset 0 means the first non-excluded tag at or after the start: one step from start - 1.
  f.get(rgsr);
  f.i32(15);
  f.op(Op.i32And);
  f.get(offset);
  f.op(Op.i32Eqz);
  f.op(Op.i32Sub);
  f.set(tag);
  f.get(offset);
  f.get(offset);
  f.op(Op.i32Eqz);
  f.op(Op.i32Or);
  f.set(offset);
  f.open(Op.loop, 'step');
  f.get(tag);
  f.i32(1);
  f.op(Op.i32Add);
  f.i32(15);
  f.op(Op.i32And);
  f.set(tag);
  f.get(exclude);
  f.get(tag);
  f.op(Op.i32ShrU);
  f.i32(1);
  f.op(Op.i32And);
  f.open(Op.if, 'excluded');
  f.br('step');
  f.end();
  f.get(offset);
  f.i32(1);
  f.op(Op.i32Sub);
  f.tee(offset);
  f.brIf('step');
  f.end();
  f.end();
  f.i32(0);
  f.get(tag);
  f.get(seed);
  f.i32(8);
  f.op(Op.i32Shl);
  f.op(Op.i32Or);
  f.mem(Op.i32Store, g.jitArea + STATE_OFFSET + ST_RGSR * 4);
  f.end();
}

/** Compiles the MTE instruction `insn` (the `j`-th of its block); false for anything else. */
export function emitMte(g: Gen, insn: Insn, idx: number, j: number): boolean {
  const f = g.f;
  const exec = insn.exec;
  if (exec === irg) {
    emitIrgTag(g, insn);
    untagged(g, insn.n);
    f.get(g.r32);
    insertTag(g);
    g.write(slot(insn.d));
  } else if (exec === addSubTag) {
    g.read(slot(insn.n));
    f.i64(BigInt(insn.imm));
    f.op(Op.i64Add);
    f.i64(~TAG_BITS);
    f.op(Op.i64And);
    g.read(slot(insn.n));
    tagOfTop(g);
    f.i32(insn.s);
    f.i32(0);
    f.i32(0);
    f.call(H_ADDG);
    insertTag(g);
    g.write(slot(insn.d));
  } else if (exec === gmi) {
    g.read(slot(insn.m));
    f.i64(1n);
    g.read(slot(insn.n));
    f.i64(56n);
    f.op(Op.i64ShrU);
    f.i64(15n);
    f.op(Op.i64And);
    f.op(Op.i64Shl);
    f.op(Op.i64Or);
    g.write(slot(insn.d));
  } else if (exec === subp || exec === subps) {
    stripped(g, insn.n);
    stripped(g, insn.m);
    finishAddSub(g, 0, true, exec === subps, slot(insn.d));
  } else if (exec === storeTag) {
    const granules = insn.s === KIND_ST2G || insn.s === KIND_STZ2G ? 2 : 1;
    tagAddress(g, insn, insn.t === 1);
    alignedOrExit(g, idx, j);
    emitTranslate(g, granules * 16, true, false, idx, j);
    g.read(slot(insn.d));
    tagOfTop(g);
    storeTags(g, granules, insn.s === KIND_STZG || insn.s === KIND_STZ2G);
    if (insn.t !== 2) {
      f.get(g.wb);
      g.write(slot(insn.n));
    }
  } else if (exec === stgp) {
    tagAddress(g, insn, insn.t === 1);
    alignedOrExit(g, idx, j);
    emitTranslate(g, 16, true, false, idx, j);
    storeFrom(g, slot(insn.d), 8, 0);
    storeFrom(g, slot(insn.a), 8, 8);
    f.get(g.hi);
    f.i32(24);
    f.op(Op.i32ShrU);
    f.i32(15);
    f.op(Op.i32And);
    storeTags(g, 1, false);
    if (insn.t !== 2) {
      f.get(g.wb);
      g.write(slot(insn.n));
    }
  } else if (exec === ldg) {
    tagAddress(g, insn, false);
    f.get(g.addr);
    f.i64(~15n);
    f.op(Op.i64And);
    f.set(g.addr);
    emitTranslate(g, 1, false, false, idx, j);
    untagged(g, insn.d);
    // The granule's tag where the entry holds tags, else 0 (as the interpreter's probe decides).
    emitAllocationTag(g);
    f.i32(15);
    f.op(Op.i32And);
    f.i32(0);
    f.get(g.e);
    f.mem(Op.i32Load, g.jitArea + TLB_TAGGED);
    f.op(Op.select);
    insertTag(g);
    g.write(slot(insn.d));
  } else {
    return false;
  }
  return true;
}
