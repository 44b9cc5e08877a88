import type { Insn } from '../insn.js';
import { DCZ_BLOCK } from '../isa/cache-ops.js';
import { daifAccess, isCacheMaintenance, isDcZva, isIsb, mrsRegister, type DaifAccess } from '../isa/system.js';
import { emitTranslate } from './emit-memory.js';
import type { Gen } from './gen.js';
import { ST_CHAIN_KEY, ST_DAIF, ST_DATA_WRITES, ST_EL1H, ST_IRQ_PENDING, STATE_OFFSET, SYS_OFFSET } from './layout.js';
import { Op } from './wasm.js';

/** Leaves the region before instruction `idx` (the `j`-th of its block) when state word `word` is 0. */
function exitUnless(g: Gen, word: number, idx: number, j: number): void {
  const f = g.f;
  f.i32(0);
  f.mem(Op.i32Load, g.jitArea + STATE_OFFSET + word * 4);
  f.op(Op.i32Eqz);
  f.open(Op.if, 'unless');
  g.exitBefore(idx, j);
  f.end();
}

/** Leaves the region before instruction `idx` unless at EL1 with SPSel = 1. */
const requireEl1h = (g: Gen, idx: number, j: number): void => exitUnless(g, ST_EL1H, idx, j);

/**
 * DC ZVA at EL1 while tag checks are off at this EL (mteActive 0: the kernel's usual TCF = 0):
 * the 64-byte block through the write TLB, as cache-ops.ts dcZeroBlock's fast case — the entry
 * proves a RAM page of the JIT's region that is neither a code page nor clean under dirty logging,
 * so of its noteDataWrite only the live viewer's counter remains (ST_DATA_WRITES). Anything else
 * (a miss, EL0's DZE rule, tag checks, Device memory, faults) is left to the interpreter.
 */
function emitDcZva(g: Gen, insn: Insn, idx: number, j: number): void {
  const f = g.f;
  requireEl1h(g, idx, j);
  f.get(g.mteActive);
  f.open(Op.if, 'mte');
  g.exitBefore(idx, j);
  f.end();
  g.read(insn.d >> 1);
  f.i64(BigInt(-DCZ_BLOCK));
  f.op(Op.i64And);
  f.set(g.addr);
  emitTranslate(g, DCZ_BLOCK, true, false, idx, j);
  for (let at = 0; at < DCZ_BLOCK; at += 8) {
    f.get(g.off);
    f.i64(0n);
    f.mem(Op.i64Store, at);
  }
  g.bumpState(ST_DATA_WRITES);
}

/**
 * PSTATE.DAIF at EL1h, in the state area (ST_DAIF, which the engine syncs with Cpu.daif): MRS
 * reads it, MSR and DAIFSet/DAIFClr write it as the interpreter's do. The interpreter's MSR then
 * refetches, so the run loop takes an interrupt the write unmasked (or honours a stop) before the
 * next instruction: when the write would leave an asserted line unmasked (ST_IRQ_PENDING), or the
 * chaining key says a stop or interrupt was due at entry, compiled code leaves the region before
 * the instruction and the interpreter runs it. Masking (DAIFSet, Linux's local_irq_disable) never
 * needs to leave.
 */
function emitDaif(g: Gen, insn: Insn, access: DaifAccess, idx: number, j: number): void {
  const f = g.f;
  const word = (w: number): number => g.jitArea + STATE_OFFSET + w * 4;
  requireEl1h(g, idx, j);
  if (access.kind === 'read') {
    f.i32(0);
    f.mem(Op.i32Load, word(ST_DAIF));
    f.op(Op.i64ExtendI32U);
    g.write(insn.d >> 1);
    return;
  }
  if (access.kind === 'write') {
    g.read32(insn.d >> 1);
    f.i32(0x3c0);
    f.op(Op.i32And);
  } else if (access.kind === 'set' || access.kind === 'clear') {
    f.i32(0);
    f.mem(Op.i32Load, word(ST_DAIF));
    f.i32(access.kind === 'set' ? access.bits : ~access.bits);
    f.op(access.kind === 'set' ? Op.i32Or : Op.i32And);
  }
  f.set(g.r32);
  if (access.kind !== 'set') {
    // Unmasking an asserted line: the interpreter runs this one and the run loop takes it.
    f.i32(0);
    f.mem(Op.i32Load, word(ST_IRQ_PENDING));
    f.get(g.r32);
    f.i32(-1);
    f.op(Op.i32Xor);
    f.op(Op.i32And);
    f.i32(0);
    f.mem(Op.i32Load, word(ST_CHAIN_KEY));
    f.op(Op.i32Eqz);
    f.op(Op.i32Or);
    f.open(Op.if, 'unmasks');
    g.exitBefore(idx, j);
    f.end();
  }
  f.i32(0);
  f.get(g.r32);
  f.mem(Op.i32Store, word(ST_DAIF));
}

/**
 * MRS of a register read as stored (SysRegDef.storage: the plain registers such as TPIDR_EL1,
 * and SP_EL0, Linux's `current`): a load from Cpu.sys, which lives in the JIT area; of a
 * constant one (SysRegDef.value: CTR_EL0, the cache ID registers; el1Value: DCZID_EL0), that value. Only at EL1
 * with SPSel = 1, where the interpreter's `mrs` allows them and reads exactly that storage (the
 * same def's `read`); elsewhere the region is left before the instruction and the interpreter
 * runs it. MTE registers stay interpreted (RGSR_EL1 has a copy in the state area while IRG runs).
 * Also ISB, DC ZVA, cache maintenance by VA and DAIF (above). Returns false for any other instruction.
 */
export function emitSys(g: Gen, insn: Insn, idx: number, j: number): boolean {
  if (isIsb(insn)) {
    // The interpreter's ISB makes the run loop refetch: check for a stop and a takeable interrupt,
    // and translate the PC again. Translation changes already refetch at their own instruction
    // (which ends the region), so only the first two can matter: the chaining key says neither is
    // due (0: one is), and then ISB does nothing.
    exitUnless(g, ST_CHAIN_KEY, idx, j);
    return true;
  }
  if (isDcZva(insn)) {
    emitDcZva(g, insn, idx, j);
    return true;
  }
  if (isCacheMaintenance(insn)) {
    // The emulated caches are coherent: only EL0's permission check is left to the interpreter.
    requireEl1h(g, idx, j);
    return true;
  }
  const daif = daifAccess(insn);
  if (daif !== null) {
    emitDaif(g, insn, daif, idx, j);
    return true;
  }
  const def = mrsRegister(insn);
  if (def === null || (def.storage === undefined && def.value === undefined && def.el1Value === undefined) || def.el1 !== undefined || def.mte === true) return false;
  const f = g.f;
  requireEl1h(g, idx, j);
  const value = def.value ?? def.el1Value;
  if (value !== undefined) {
    f.i64((BigInt(value[1] >>> 0) << 32n) | BigInt(value[0] >>> 0));
  } else {
    f.i32(0);
    f.mem(Op.i64Load, g.jitArea + SYS_OFFSET + def.storage! * 8);
  }
  g.write(insn.d >> 1);
  return true;
}
