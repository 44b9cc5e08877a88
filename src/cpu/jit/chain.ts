import { CHAIN_ENTRIES, CHAIN_OFFSET, ST_CHAIN_KEY, ST_CHAINED, ST_PC_HI, ST_PC_LO, STATE_OFFSET } from './layout.js';
import { assembleModule, FuncWriter, I32, Op } from './wasm.js';

/**
 * Chaining (docs/jit.md, "Chaining"): compiled regions are entered through one dispatcher
 * function, d(slot, pageLo, pageHi, block, budget), which calls region `slot` of a shared
 * function table and, when it leaves to a PC the jump cache knows, calls that region next
 * without returning to JS, while the budget lasts. QEMU's lookup_and_goto_ptr is the model.
 *
 * The jump cache lives in the JIT area: per entry the instruction's VA, the key
 * (generation << 1 | EL) under which it was filled and the region's table slot and block. The
 * engine fills it at every entry from JS (where the run loop fetched the page through the
 * instruction TLB) and writes the key in force at ST_CHAIN_KEY: a new generation (instruction
 * TLB flush, code dropped) or another EL misses. 0 there (an interrupt to take, a stop) turns
 * chaining off, so the run loop sees every page change, as without chaining.
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
  const state = (word: number): number => jitArea + STATE_OFFSET + word * 4;
  const cache = jitArea + CHAIN_OFFSET;
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
  f.op(Op.i32Eqz);
  f.brIf('done');
  f.get(total);
  f.get(ran);
  f.op(Op.i32Add);
  f.tee(total);
  f.get(P_BUDGET);
  f.op(Op.i32GeS);
  f.brIf('done');
  // The next PC's entry: VA lo, VA hi and key must all match.
  f.i32(0);
  f.mem(Op.i32Load, state(ST_PC_LO));
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
  for (const [field, word] of [[4, ST_PC_HI], [8, ST_CHAIN_KEY]] as const) {
    f.get(e);
    f.mem(Op.i32Load, cache + field);
    f.i32(0);
    f.mem(Op.i32Load, state(word));
    f.op(Op.i32Ne);
    f.brIf('done');
  }
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
  f.i32(0);
  f.mem(Op.i32Load, state(ST_PC_HI));
  f.set(P_HI);
  // Counted for --stats.
  f.i32(0);
  f.i32(0);
  f.mem(Op.i32Load, state(ST_CHAINED));
  f.i32(1);
  f.op(Op.i32Add);
  f.mem(Op.i32Store, state(ST_CHAINED));
  f.br('next');
  f.end();
  f.end();
  f.get(total);

  return assembleModule(f, [4, 5], 1, [{ module: 'm', field: 'mem', kind: 'memory', shared }, { module: 't', field: 'tab', kind: 'table' }], 'd');
}
