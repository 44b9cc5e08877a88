import { Exit, type Cpu } from '../cpu.js';
import { branchTo, exceptionReturn, takeException, undefinedInstruction } from '../exception-entry.js';
import { EC, VECTOR } from '../exceptions.js';
import { Insn, JUMP, NEXT } from '../insn.js';
import { rz } from '../regs.js';
import { conditionHolds } from './alu.js';
import { decodeSystem } from './system.js';

/**
 * Branches, exception generation and system instructions (DDI 0487, C4.1.87): B, BL, B.cond,
 * CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET/ERET, SVC/HVC/SMC/BRK/HLT; system instructions in system.ts.
 */
export function decodeBranchSystem(word: number, mte: boolean): Insn | null {
  const top = word >>> 24;
  if ((word >>> 26) === 0b000101 || (word >>> 26) === 0b100101) {
    const insn = new Insn(word >>> 31 ? bl : b, word);
    insn.imm = ((word & 0x3ffffff) << 6) >> 4; // imm26 * 4, sign-extended
    return insn;
  }
  if ((top & 0x7e) === 0x34) {
    const insn = new Insn(top & 0x80 ? (top & 1 ? cbnz64 : cbz64) : top & 1 ? cbnz32 : cbz32, word);
    insn.n = rz(word & 31);
    insn.imm = ((word >>> 5) & 0x7ffff) << 13 >> 11; // imm19 * 4
    return insn;
  }
  if ((top & 0x7e) === 0x36) {
    const bit = ((word >>> 31) << 5) | ((word >>> 19) & 31);
    const insn = new Insn(top & 1 ? tbnz : tbz, word);
    insn.n = rz(word & 31) + (bit >= 32 ? 1 : 0);
    insn.s = bit & 31;
    insn.imm = ((word >>> 5) & 0x3fff) << 18 >> 16; // imm14 * 4
    return insn;
  }
  if (top === 0x54) {
    if (word & 0x10) return null; // BC.cond (FEAT_HBC) is not implemented
    const insn = new Insn(bcond, word);
    insn.s = word & 15;
    insn.imm = ((word >>> 5) & 0x7ffff) << 13 >> 11;
    return insn;
  }
  if (top === 0xd4) return decodeExceptionGeneration(word);
  if ((word >>> 22) === 0x354) return decodeSystem(word, mte);
  if ((word >>> 25) === 0x6b) return decodeBranchRegister(word);
  return null;
}

function decodeBranchRegister(word: number): Insn | null {
  const opc = (word >>> 21) & 15;
  const op2 = (word >>> 16) & 31;
  const op3 = (word >>> 10) & 63;
  const rn = (word >>> 5) & 31;
  const op4 = word & 31;
  if (op2 !== 31 || op3 !== 0 || op4 !== 0) return null; // pointer-authenticated forms: no FEAT_PAuth
  let exec;
  switch (opc) {
    case 0:
      exec = br;
      break;
    case 1:
      exec = blr;
      break;
    case 2:
      exec = br; // RET: a BR with a hint
      break;
    case 4:
      if (rn !== 31) return null;
      exec = eret;
      break;
    default:
      return null;
  }
  const insn = new Insn(exec, word);
  insn.n = rz(rn);
  return insn;
}

function decodeExceptionGeneration(word: number): Insn | null {
  const opc = (word >>> 21) & 7;
  const op2 = (word >>> 2) & 7;
  const ll = word & 3;
  if (op2 !== 0) return null;
  let exec;
  if (opc === 0 && ll === 1) exec = svc;
  else if (opc === 0 && ll === 2) exec = hvc;
  else if (opc === 0 && ll === 3) exec = undefinedInstruction; // SMC: no EL3, as QEMU's virt without secure
  else if (opc === 1 && ll === 0) exec = brk;
  else if (opc === 2 && ll === 0) exec = hlt;
  else return null;
  const insn = new Insn(exec, word);
  insn.imm = (word >>> 5) & 0xffff;
  return insn;
}

/** PC += offset (offset a signed byte count that fits a double exactly). */
function jumpRelative(cpu: Cpu, offset: number): number {
  const sum = (cpu.pcLo >>> 0) + offset;
  cpu.pcLo = sum | 0;
  cpu.pcHi = (cpu.pcHi + Math.floor(sum / 2 ** 32)) | 0;
  return JUMP;
}

/** X30 = PC + 4. */
function link(cpu: Cpu): void {
  const sum = (cpu.pcLo >>> 0) + 4;
  cpu.x[60] = sum | 0;
  cpu.x[61] = sum > 0xffffffff ? (cpu.pcHi + 1) | 0 : cpu.pcHi;
}

function b(cpu: Cpu, i: Insn): number {
  return jumpRelative(cpu, i.imm);
}

function bl(cpu: Cpu, i: Insn): number {
  link(cpu);
  return jumpRelative(cpu, i.imm);
}

function bcond(cpu: Cpu, i: Insn): number {
  return conditionHolds(cpu, i.s) ? jumpRelative(cpu, i.imm) : NEXT;
}

function cbz64(cpu: Cpu, i: Insn): number {
  return (cpu.x[i.n]! | cpu.x[i.n + 1]!) === 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

function cbnz64(cpu: Cpu, i: Insn): number {
  return (cpu.x[i.n]! | cpu.x[i.n + 1]!) !== 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

function cbz32(cpu: Cpu, i: Insn): number {
  return cpu.x[i.n] === 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

function cbnz32(cpu: Cpu, i: Insn): number {
  return cpu.x[i.n] !== 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

/** TBZ/TBNZ: `n` already points at the word holding the bit, `s` is the bit within it. */
function tbz(cpu: Cpu, i: Insn): number {
  return ((cpu.x[i.n]! >>> i.s) & 1) === 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

function tbnz(cpu: Cpu, i: Insn): number {
  return ((cpu.x[i.n]! >>> i.s) & 1) !== 0 ? jumpRelative(cpu, i.imm) : NEXT;
}

function br(cpu: Cpu, i: Insn): number {
  branchTo(cpu, cpu.x[i.n]!, cpu.x[i.n + 1]!);
  return JUMP;
}

function blr(cpu: Cpu, i: Insn): number {
  const lo = cpu.x[i.n]!;
  const hi = cpu.x[i.n + 1]!;
  link(cpu);
  branchTo(cpu, lo, hi);
  return JUMP;
}

function eret(cpu: Cpu): number {
  if (cpu.el === 0) return undefinedInstruction(cpu);
  return exceptionReturn(cpu);
}

/** SVC, HVC and SMC return to the next instruction. */
function takeCall(cpu: Cpu, ec: number, imm: number): number {
  const sum = (cpu.pcLo >>> 0) + 4;
  const nextHi = sum > 0xffffffff ? (cpu.pcHi + 1) | 0 : cpu.pcHi;
  takeException(cpu, VECTOR.SYNC, (ec << 26) | (1 << 25) | imm, sum | 0, nextHi);
  return JUMP;
}

function svc(cpu: Cpu, i: Insn): number {
  return takeCall(cpu, EC.SVC64, i.imm);
}

/** HVC from EL1 is a call to the hypervisor: exit to the VMM after the instruction. */
function hvc(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) return undefinedInstruction(cpu);
  return exitAfter(cpu, Exit.HVC, i.imm);
}

function brk(cpu: Cpu, i: Insn): number {
  takeException(cpu, VECTOR.SYNC, (EC.BRK64 << 26) | (1 << 25) | i.imm, cpu.pcLo, cpu.pcHi);
  return JUMP;
}

/** HLT #0xF000 is the semihosting trap (at EL1, when enabled); any other HLT is UNDEFINED. */
function hlt(cpu: Cpu, i: Insn): number {
  if (i.imm !== 0xf000 || cpu.el === 0 || !cpu.semihosting) return undefinedInstruction(cpu);
  return exitAfter(cpu, Exit.SEMIHOSTING, i.imm);
}

export function exitAfter(cpu: Cpu, reason: number, imm: number): number {
  const sum = (cpu.pcLo >>> 0) + 4;
  if (sum > 0xffffffff) cpu.pcHi = (cpu.pcHi + 1) | 0;
  cpu.pcLo = sum | 0;
  cpu.exitReason = reason;
  cpu.exitImm = imm;
  return JUMP;
}
