import { TLB_SIZE } from '../mmu/tlb.js';
import { emitCanonHi, emitTlbMiss } from './emit-memory.js';
import { CHAIN_ENTRIES, CHAIN_OFFSET, ITLB_KEY_HI, ITLB_KEY_LO, ITLB_PAGE, ST_CHAIN_KEY, ST_CHAINED, ST_PC_HI, ST_PC_LO, ST_TBI_AND0, ST_TBI_OR1, STATE_OFFSET } from './layout.js';
import { assembleModule, FuncWriter, I32, Op } from './wasm.js';

/**
 * Chaining (docs/jit.md, "Chaining"): compiled regions are entered through one dispatcher
 * function, d(slot, pageLo, pageHi, block, budget), which calls region `slot` of a shared
 * function table and, when it leaves to a PC the jump cache knows, calls that region next
 * without returning to JS, while the budget lasts. QEMU's lookup_and_goto_ptr is the model.
 *
 * The jump cache lives in the JIT area: per entry an instruction's VA, the physical page it was
 * fetched from, and the region's table slot and block there. The engine fills it at entries from
 * JS (where the run loop fetched the page through the instruction TLB). A hit counts only if the
 * instruction TLB, whose columns live in the JIT area too (FetchTlb.moveInto), maps the VA's
 * page at the current EL to that physical page now: exactly the page fetchCodePage would return,
 * so TLB maintenance needs no flush of the cache (compiled code is physical and EL-independent).
 * Dropped code empties it (Cpu.codeGeneration). ST_CHAIN_KEY is 2 | EL, or 0 while an interrupt
 * is takeable, which turns chaining off so the run loop sees every page change.
 */

/** The jump cache entry of a VA (lo word): instruction bits, with higher page bits mixed in. */
export const chainIndex = (vaLo: number): number => ((vaLo >>> 2) ^ (vaLo >>> 13)) & (CHAIN_ENTRIES - 1);

/** A block number fits in 11 bits (regions of one page); the slot takes the rest. */
export const SLOT_SHIFT = 11;

/** The dispatcher's signature. */
export type DispatchFn = (slot: number, pageLo: number, pageHi: number, block: number, budget: number) => number;

const P_SLOT = 0;
const P_LO = 1;
const P_HI = 2;
const P_BLOCK = 3;
const P_BUDGET = 4;

/**
 * The dispatcher module: imports memory "m"."mem" and the region table "t"."tab", exports "d".
 * A call that runs nothing (the budget, or an instruction the interpreter must run at a block
 * start) ends the dispatch, so it never spins.
 */
export function buildDispatcher(jitArea: number, shared: boolean): Uint8Array<ArrayBuffer> {
  const f = new FuncWriter(5);
  const total = f.local(I32);
  const ran = f.local(I32);
  const pcLo = f.local(I32);
  const e = f.local(I32);
  const v = f.local(I32);
  const key = f.local(I32);
  const h = f.local(I32);
  const state = (word: number): number => jitArea + STATE_OFFSET + word * 4;
  const cache = jitArea + CHAIN_OFFSET;
  const loadState = (word: number): void => {
    f.i32(0);
    f.mem(Op.i32Load, state(word));
  };
  loadState(ST_CHAIN_KEY);
  f.set(key);
  f.open(Op.block, 'done');
  f.open(Op.loop, 'next');
  f.get(P_LO);
  f.get(P_HI);
  f.get(P_BLOCK);
  f.get(P_BUDGET);
  f.get(total);
  f.op(Op.i32Sub);
  f.get(P_SLOT);
  f.op(Op.callIndirect);
  f.code.u32(0); // type 0: a region function
  f.code.u32(0); // table 0
  f.tee(ran);
  f.get(total);
  f.op(Op.i32Add);
  f.set(total);
  // Counted first: a region that ran, then no chaining (key 0), still returns its count.
  f.get(ran);
  f.op(Op.i32Eqz);
  f.get(key);
  f.op(Op.i32Eqz);
  f.op(Op.i32Or);
  f.brIf('done');
  f.get(total);
  f.get(P_BUDGET);
  f.op(Op.i32GeS);
  f.brIf('done');
  // The next PC's entry: its VA (lo, hi).
  loadState(ST_PC_LO);
  f.tee(pcLo);
  f.i32(2);
  f.op(Op.i32ShrU);
  f.get(pcLo);
  f.i32(13);
  f.op(Op.i32ShrU);
  f.op(Op.i32Xor);
  f.i32(CHAIN_ENTRIES - 1);
  f.op(Op.i32And);
  f.i32(4);
  f.op(Op.i32Shl);
  f.tee(e);
  f.mem(Op.i32Load, cache);
  f.get(pcLo);
  f.op(Op.i32Ne);
  f.brIf('done');
  f.get(e);
  f.mem(Op.i32Load, cache + 4);
  loadState(ST_PC_HI);
  f.tee(P_HI);
  f.op(Op.i32Ne);
  f.brIf('done');
  // The instruction TLB entry of the page at this EL, as fetchCodePage looks it up: the canonical
  // high word (TBI), then keyLo, keyHi and the physical page the cache entry was filled from.
  emitCanonHi(f, P_HI, () => loadState(ST_TBI_OR1), () => loadState(ST_TBI_AND0));
  f.set(h);
  const elSet = (): void => {
    f.get(key);
    f.i32(1);
    f.op(Op.i32And);
    f.i32(TLB_SIZE);
    f.op(Op.i32Mul);
  };
  emitTlbMiss(f, pcLo, h, v, elSet, jitArea + ITLB_KEY_LO, jitArea + ITLB_KEY_HI);
  f.brIf('done');
  f.get(v);
  f.mem(Op.i32Load, jitArea + ITLB_PAGE);
  f.get(e);
  f.mem(Op.i32Load, cache + 8);
  f.op(Op.i32Ne);
  f.brIf('done');
  f.get(e);
  f.mem(Op.i32Load, cache + 12);
  f.tee(v);
  f.i32(SLOT_SHIFT);
  f.op(Op.i32ShrU);
  f.set(P_SLOT);
  f.get(v);
  f.i32((1 << SLOT_SHIFT) - 1);
  f.op(Op.i32And);
  f.set(P_BLOCK);
  f.get(pcLo);
  f.i32(-4096);
  f.op(Op.i32And);
  f.set(P_LO);
  // Counted for --stats.
  f.i32(0);
  loadState(ST_CHAINED);
  f.i32(1);
  f.op(Op.i32Add);
  f.mem(Op.i32Store, state(ST_CHAINED));
  f.br('next');
  f.end();
  f.end();
  f.get(total);
  return assembleModule([f], [4, 5], 1, [{ module: 'm', field: 'mem', kind: 'memory', shared }, { module: 't', field: 'tab', kind: 'table' }], ['d']);
}
