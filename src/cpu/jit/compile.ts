import { undef } from '../decoder.js';
import { nop, type Insn } from '../insn.js';
import { emitAlu } from './emit-alu.js';
import { emitAtomic } from './emit-atomic.js';
import { emitMemory } from './emit-memory.js';
import { emitMte } from './emit-mte.js';
import { emitSys } from './emit-sys.js';
import { DISPATCH, DONE, Gen, P_BLOCK, P_BUDGET, P_PAGE_HI, P_PAGE_LO } from './gen.js';
import {
  ST_CF, ST_MTE_ACTIVE, ST_NF, ST_PC_LO, ST_RD_BASE, ST_SP_ALIGN, ST_TAG_BASE, ST_TAG_PLAIN, ST_TBI_AND0, ST_TBI_OR1, ST_VF, ST_WR_BASE, ST_X, ST_ZF, STATE_OFFSET,
} from './layout.js';
import { FLOW_CALL, FLOW_COND, FLOW_INDIRECT, FLOW_JUMP, FLOW_NONE, findBlocks, flowOf, type Block } from './region.js';
import { Op, type FuncWriter } from './wasm.js';

/** A compiled region: its wasm function (buildModule makes modules of them) and, per entry instruction index, its block number. */
export interface CompiledRegion {
  readonly func: FuncWriter;
  readonly entries: Map<number, number>;
  readonly instructions: number;
  /** A branch of the region goes back to an earlier instruction: it may loop inside wasm. */
  readonly loops: boolean;
}

/** Instructions the JIT compiles: the data processing and memory forms it knows, and branches. */
export function compilable(insn: Insn): boolean {
  if (insn.exec === undef) return false;
  if (flowOf(insn.word).kind !== FLOW_NONE) return true;
  if (insn.exec === nop) return true; // hints (PACIASP/AUTIASP and BTI without FEAT_PAuth/BTI), barriers, PRFM
  // Emitting into a throwaway writer answers "does an emitter take it" with the emitters' own tests.
  return probe(insn);
}

const probeGen = new Gen(0);
probeGen.f.open(Op.block, DONE);
probeGen.f.open(Op.loop, DISPATCH);
function probe(insn: Insn): boolean {
  probeGen.f.code.length = 0;
  probeGen.blockLength = 1;
  return emitAlu(probeGen, insn, 0) || emitMemory(probeGen, insn, 0, 0) || emitAtomic(probeGen, insn, 0, 0) || emitMte(probeGen, insn, 0, 0) || emitSys(probeGen, insn, 0, 0);
}

const stateByte = (word: number): number => STATE_OFFSET + word * 4;

function loadState(g: Gen): void {
  const f = g.f;
  const base = g.jitArea;
  for (let slot = 0; slot < g.x.length; slot++) {
    if (g.usedX[slot] !== true) continue;
    f.i32(0);
    f.mem(Op.i64Load, base + stateByte(ST_X + slot * 2));
    f.set(g.x[slot]!);
  }
  const words: [number, number][] = [
    [g.nf, ST_NF], [g.zf, ST_ZF], [g.cf, ST_CF], [g.vf, ST_VF], [g.tbiAnd0, ST_TBI_AND0], [g.tbiOr1, ST_TBI_OR1],
    [g.rdBase, ST_RD_BASE], [g.wrBase, ST_WR_BASE], [g.mteActive, ST_MTE_ACTIVE], [g.spAlign, ST_SP_ALIGN], [g.tagBase, ST_TAG_BASE], [g.tagPlain, ST_TAG_PLAIN],
  ];
  for (const [local, word] of words) {
    f.i32(0);
    f.mem(Op.i32Load, base + stateByte(word));
    f.set(local);
  }
}

function storeState(g: Gen): void {
  const f = g.f;
  const base = g.jitArea;
  for (let slot = 0; slot < g.x.length; slot++) {
    if (g.writtenX[slot] !== true) continue;
    f.i32(0);
    f.get(g.x[slot]!);
    f.mem(Op.i64Store, base + stateByte(ST_X + slot * 2));
  }
  for (const [local, word] of [[g.nf, ST_NF], [g.zf, ST_ZF], [g.cf, ST_CF], [g.vf, ST_VF]] as const) {
    f.i32(0);
    f.get(local);
    f.mem(Op.i32Store, base + stateByte(word));
  }
  f.i32(0);
  f.get(g.pc);
  f.mem(Op.i64Store, base + stateByte(ST_PC_LO)); // and ST_PC_HI
}

/** Emits the end of a block: its branch, or the step into the next instruction. */
function emitFlow(g: Gen, block: Block, blockOf: Map<number, number>, insnAt: (idx: number) => Insn): void {
  const f = g.f;
  const last = block.start + block.length - 1;
  const next = block.start + block.length;
  const toIdx = (idx: number): void => {
    const target = blockOf.get(idx);
    if (target !== undefined && idx >= 0 && idx < 1024) {
      g.goto(target);
    } else {
      g.insnVa(idx);
      g.exitTo();
    }
  };
  if (block.length === 0) {
    g.exitBefore(block.start, 0);
    return;
  }
  const flow = block.flow;
  const word = insnAt(last).word;
  switch (flow.kind) {
    case FLOW_NONE:
      if (next < 1024 && blockOf.has(next)) toIdx(next);
      else g.exitBefore(next, block.length); // an uncompiled instruction or the page end
      return;
    case FLOW_JUMP:
      toIdx(last + flow.delta);
      return;
    case FLOW_CALL:
      g.insnVa(last + 1);
      g.write(30);
      g.insnVa(last + flow.delta);
      g.exitTo();
      return;
    case FLOW_INDIRECT: {
      g.read((word >>> 5) & 31);
      g.f.set(g.wb);
      if ((word >>> 21) & 1 && !((word >>> 22) & 1)) {
        g.insnVa(last + 1); // BLR: the link is written after the target register is read
        g.write(30);
      }
      f.get(g.wb);
      g.exitTo();
      return;
    }
    case FLOW_COND:
      emitCondition(g, word);
      f.open(Op.if, 'taken');
      toIdx(last + flow.delta);
      f.end();
      toIdx(last + 1);
      return;
  }
}

/** Pushes i32 1 when the conditional branch `word` is taken. */
function emitCondition(g: Gen, word: number): void {
  const f = g.f;
  const rt = word & 31;
  if ((word & 0xff000010) === 0x54000000) {
    g.condition(word & 15);
    return;
  }
  if ((word & 0x7e000000) === 0x34000000) {
    if (word >>> 31) g.read(rt);
    else g.read32(rt);
    f.op(word >>> 31 ? Op.i64Eqz : Op.i32Eqz);
  } else {
    const bit = ((word >>> 31) << 5) | ((word >>> 19) & 31);
    g.read(rt);
    f.i64(BigInt(bit));
    f.op(Op.i64ShrU);
    f.i64(1n);
    f.op(Op.i64And);
    f.op(Op.i64Eqz);
  }
  if ((word >>> 24) & 1) f.op(Op.i32Eqz); // CBNZ, TBNZ
}

/**
 * Compiles the region entered at instruction `entry` of a page into a wasm function
 * f(pageLo, pageHi, block, budget), with the imports buildModule gives (emit-mte.ts HELPERS, then
 * the memory), that runs guest code from `block` until it leaves the region or
 * the next block would exceed `budget` instructions; it returns the instructions executed and
 * leaves the state (registers, NZCV, PC) in the JIT area. Null when the entry is not compilable.
 */
export function compileRegion(entry: number, insnAt: (idx: number) => Insn, jitArea: number): CompiledRegion | null {
  const blocks = findBlocks(entry, insnAt, compilable);
  if (blocks.length === 0 || blocks.find((b) => b.start === entry)!.length === 0) return null;
  const blockOf = new Map<number, number>();
  blocks.forEach((b, i) => {
    if (b.length > 0) blockOf.set(b.start, i);
  });
  const g = new Gen(jitArea);
  const f = g.f;
  f.get(P_PAGE_HI);
  f.op(Op.i64ExtendI32U);
  f.i64(32n);
  f.op(Op.i64Shl);
  f.get(P_PAGE_LO);
  f.op(Op.i64ExtendI32U);
  f.op(Op.i64Or);
  f.set(g.pageVa);
  f.get(P_BLOCK);
  f.set(g.block);
  f.open(Op.block, DONE);
  f.open(Op.loop, DISPATCH);
  const names = blocks.map((_, i) => `b${i}`);
  for (let i = blocks.length - 1; i >= 0; i--) f.open(Op.block, names[i]!);
  f.get(g.block);
  f.brTable(names, DONE);
  let instructions = 0;
  for (let i = 0; i < blocks.length; i++) {
    f.end(); // closes block b<i>: its code follows
    const block = blocks[i]!;
    g.blockLength = 0; // the budget exit below comes before the block's count is added
    instructions += block.length;
    if (block.length > 0) {
      // Budget: enter the block only if all of it fits; the interpreter runs the rest.
      f.get(g.count);
      f.i32(block.length);
      f.op(Op.i32Add);
      f.tee(g.r32);
      f.get(P_BUDGET);
      f.op(Op.i32GtS);
      f.open(Op.if, 'budget');
      g.exitBefore(block.start, 0);
      f.end();
      f.get(g.r32);
      f.set(g.count);
    }
    g.blockLength = block.length;
    const bodyEnd = block.start + block.length - (block.flow.kind === FLOW_NONE ? 0 : 1);
    for (let idx = block.start; idx < bodyEnd; idx++) {
      const insn = insnAt(idx);
      if (insn.exec === nop) continue;
      if (!emitAlu(g, insn, idx) && !emitMemory(g, insn, idx, idx - block.start) && !emitAtomic(g, insn, idx, idx - block.start) && !emitMte(g, insn, idx, idx - block.start) && !emitSys(g, insn, idx, idx - block.start)) throw new Error(`jit: cannot emit ${insn.word >>> 0}`);
    }
    emitFlow(g, block, blockOf, insnAt);
  }
  f.end(); // loop
  f.end(); // done
  storeState(g);
  f.get(g.count);
  // Registers are loaded only if the region touches them: known once the body is written.
  f.prepend(() => loadState(g));
  const entries = new Map<number, number>();
  for (const [start, i] of blockOf) entries.set(start, i);
  const loops = blocks.some((b) => (b.flow.kind === FLOW_JUMP || b.flow.kind === FLOW_COND) && b.length > 0 && b.flow.delta <= 0 && blockOf.has(b.start + b.length - 1 + b.flow.delta));
  return { func: f, entries, instructions, loops };
}
