import { undefinedInstruction } from './exception-entry.js';
import { Insn } from './insn.js';
import { decodeBranchSystem } from './isa/branch-system.js';
import { decodeDpImm } from './isa/dp-imm.js';
import { decodeDpReg } from './isa/dp-reg.js';
import { decodeLoadStore } from './isa/load-store.js';

/** Executor of every encoding this CPU does not implement: the UNDEFINED exception. */
export const undef = (cpu: Parameters<typeof undefinedInstruction>[0]): number => undefinedInstruction(cpu);

export function undefinedInsn(word: number): Insn {
  return new Insn(undef, word);
}

/**
 * Decodes one A64 instruction word (DDI 0487, C4.1 "A64 instruction set encoding") by its op0
 * field, bits [28:25]. SVE, SME and FP/SIMD are not implemented: the CPU reports no FP/AdvSIMD in
 * ID_AA64PFR0_EL1, so those encodings are UNDEFINED, as the architecture requires.
 */
export function decode(word: number, mte: boolean): Insn {
  switch ((word >>> 25) & 0xf) {
    case 0x8:
    case 0x9:
      return decodeDpImm(word, mte) ?? undefinedInsn(word);
    case 0xa:
    case 0xb:
      return decodeBranchSystem(word, mte) ?? undefinedInsn(word);
    case 0x4:
    case 0x6:
    case 0xc:
    case 0xe:
      return decodeLoadStore(word, mte) ?? undefinedInsn(word);
    case 0x5:
    case 0xd:
      return decodeDpReg(word, mte) ?? undefinedInsn(word);
    default:
      return undefinedInsn(word);
  }
}
