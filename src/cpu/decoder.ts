import { undefinedInstruction } from './exception-entry.js';
import { Insn } from './insn.js';
import { decodeBranchSystem } from './isa/branch-system.js';
import { decodeDpImm } from './isa/dp-imm.js';
import { decodeDpReg } from './isa/dp-reg.js';
import { decodeLoadStore } from './isa/load-store.js';
import { decodeFpSysReg } from './isa/fp-move.js';
import { decodeSimdDataProcessing, decodeSimdLoadStore } from './isa/simd-decode.js';

/** Executor of every encoding this CPU does not implement: the UNDEFINED exception. */
export const undef = (cpu: Parameters<typeof undefinedInstruction>[0]): number => undefinedInstruction(cpu);

export function undefinedInsn(word: number): Insn {
  return new Insn(undef, word);
}

/**
 * Decodes one A64 instruction word (DDI 0487, C4.1 "A64 instruction set encoding") by its op0
 * field, bits [28:25]. SVE and SME are not implemented (UNDEFINED). FP/SIMD is implemented in part
 * (docs/fp-simd.md): the register file, loads and stores, moves and integer Advanced SIMD; the
 * rest of the FP/SIMD space is UNDEFINED until it lands.
 */
export function decode(word: number, mte: boolean): Insn {
  switch ((word >>> 25) & 0xf) {
    case 0x8:
    case 0x9:
      return decodeDpImm(word, mte) ?? undefinedInsn(word);
    case 0xa:
    case 0xb:
      // MRS/MSR FPCR, FPSR: SIMD&FP state, behind CPACR_EL1.FPEN like the instructions.
      if (((word & 0xffdfffc0) >>> 0) === 0xd51b4400) return decodeFpSysReg(word);
      return decodeBranchSystem(word, mte) ?? undefinedInsn(word);
    case 0x4:
    case 0x6:
    case 0xc:
    case 0xe:
      if ((word >>> 26) & 1) return decodeSimdLoadStore(word) ?? undefinedInsn(word);
      return decodeLoadStore(word, mte) ?? undefinedInsn(word);
    case 0x7:
    case 0xf:
      return decodeSimdDataProcessing(word) ?? undefinedInsn(word);
    case 0x5:
    case 0xd:
      return decodeDpReg(word, mte) ?? undefinedInsn(word);
    default:
      return undefinedInsn(word);
  }
}
