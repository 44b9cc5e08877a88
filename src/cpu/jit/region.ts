import type { Insn } from '../insn.js';

/** How an instruction ends a block, from its word alone (region discovery and code generation). */
export const FLOW_NONE = 0;
/** B.cond, CBZ/CBNZ, TBZ/TBNZ: to `target` or on to the next instruction. */
export const FLOW_COND = 1;
/** B: always to `target`. */
export const FLOW_JUMP = 2;
/** BL: X30 = PC + 4, then to `target` (usually another function: leaves the region). */
export const FLOW_CALL = 3;
/** BR, BLR, RET: to a register. */
export const FLOW_INDIRECT = 4;

export interface Flow {
  kind: number;
  /** Branch offset in instructions, for COND/JUMP/CALL. */
  delta: number;
}

const signed = (value: number, bits: number): number => (value << (32 - bits)) >> (32 - bits);

export function flowOf(word: number): Flow {
  if ((word & 0x7c000000) === 0x14000000) return { kind: word >>> 31 ? FLOW_CALL : FLOW_JUMP, delta: signed(word & 0x3ffffff, 26) };
  if ((word & 0xff000010) === 0x54000000) return { kind: FLOW_COND, delta: signed((word >>> 5) & 0x7ffff, 19) };
  if ((word & 0x7e000000) === 0x34000000) return { kind: FLOW_COND, delta: signed((word >>> 5) & 0x7ffff, 19) };
  if ((word & 0x7e000000) === 0x36000000) return { kind: FLOW_COND, delta: signed((word >>> 5) & 0x3fff, 14) };
  if ((word & 0xff9ffc1f) >>> 0 === 0xd61f0000 || (word & 0xfffffc1f) >>> 0 === 0xd63f0000) return { kind: FLOW_INDIRECT, delta: 0 };
  return { kind: FLOW_NONE, delta: 0 };
}

/** A basic block of a region: instructions [start, start + length) of the page. */
export interface Block {
  readonly start: number;
  /** Instructions the region compiles (the block ends before an uncompiled one or at a branch). */
  length: number;
  /** How the block ends: a branch (its flow) or falling into `start + length`. */
  flow: Flow;
}

/** Largest region, in instructions: bounds compile time and code size. */
export const MAX_REGION_INSNS = 400;

/**
 * Region selection: the blocks reachable from `entry` through direct branches that stay in the
 * page (a loop nest inside one function, typically), stopping at instructions `compilable`
 * refuses (the instruction after one is an entry too: the interpreter runs the refused one and
 * re-enters there), at calls and indirect branches, and at MAX_REGION_INSNS. Blocks are split at
 * every branch target so each target is a block start.
 */
export function findBlocks(entry: number, insnAt: (idx: number) => Insn, compilable: (insn: Insn) => boolean): Block[] {
  const leaders = new Set<number>([entry]);
  const scanned = new Set<number>();
  const queue = [entry];
  let total = 0;
  while (queue.length > 0) {
    const start = queue.pop()!;
    if (scanned.has(start)) continue;
    scanned.add(start);
    for (let idx = start; idx < 1024 && total < MAX_REGION_INSNS; idx++) {
      const insn = insnAt(idx);
      if (!compilable(insn)) {
        // The interpreter runs it and comes back at the next instruction: make that an entry.
        if (idx > start && idx + 1 < 1024 && !leaders.has(idx + 1)) {
          leaders.add(idx + 1);
          queue.push(idx + 1);
        }
        break;
      }
      total++;
      const flow = flowOf(insn.word);
      if (flow.kind === FLOW_NONE) continue;
      if (flow.kind === FLOW_COND || flow.kind === FLOW_JUMP) {
        const target = idx + flow.delta;
        if (target >= 0 && target < 1024 && !leaders.has(target)) {
          leaders.add(target);
          queue.push(target);
        }
        if (flow.kind === FLOW_COND && idx + 1 < 1024 && !leaders.has(idx + 1)) {
          leaders.add(idx + 1);
          queue.push(idx + 1);
        }
      }
      break;
    }
  }
  const starts = [...leaders].sort((a, b) => a - b);
  const blocks: Block[] = [];
  for (const start of starts) {
    let idx = start;
    let flow: Flow = { kind: FLOW_NONE, delta: 0 };
    while (idx < 1024 && (idx === start || !leaders.has(idx))) {
      const insn = insnAt(idx);
      if (!compilable(insn)) break;
      idx++;
      flow = flowOf(insn.word);
      if (flow.kind !== FLOW_NONE) break;
    }
    blocks.push({ start, length: idx - start, flow: idx - start === 0 ? { kind: FLOW_NONE, delta: 0 } : flow });
  }
  return blocks;
}
