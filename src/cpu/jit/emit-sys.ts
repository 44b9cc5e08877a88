import type { Insn } from '../insn.js';
import { mrsRegister } from '../isa/system.js';
import type { Gen } from './gen.js';
import { ST_EL1H, STATE_OFFSET, SYS_OFFSET } from './layout.js';
import { Op } from './wasm.js';

/**
 * MRS of a register read as stored (SysRegDef.storage: the plain registers such as TPIDR_EL1,
 * and SP_EL0, Linux's `current`): a load from Cpu.sys, which lives in the JIT area. Only at EL1
 * with SPSel = 1, where the interpreter's `mrs` allows them and reads exactly that storage (the
 * same def's `read`); elsewhere the region is left before the instruction and the interpreter
 * runs it. MTE registers stay interpreted (RGSR_EL1 has a copy in the state area while IRG runs).
 * Returns false when the instruction is not such an MRS.
 */
export function emitSys(g: Gen, insn: Insn, idx: number, j: number): boolean {
  const def = mrsRegister(insn);
  if (def === null || def.storage === undefined || def.el1 !== undefined || def.mte === true) return false;
  const f = g.f;
  f.i32(0);
  f.mem(Op.i32Load, g.jitArea + STATE_OFFSET + ST_EL1H * 4);
  f.op(Op.i32Eqz);
  f.open(Op.if, 'el');
  g.exitBefore(idx, j);
  f.end();
  f.i32(0);
  f.mem(Op.i64Load, g.jitArea + SYS_OFFSET + def.storage * 8);
  g.write(insn.d >> 1);
  return true;
}
