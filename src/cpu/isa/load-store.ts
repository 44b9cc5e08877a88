import type { Insn } from '../insn.js';
import { decodeAtomic } from './ldst-atomic.js';
import { decodeExclusiveOrdered, decodeOrderedUnscaled } from './ldst-exclusive.js';
import { decodeLoadStorePair } from './ldst-pair.js';
import { decodeLoadLiteral, decodeLoadStoreRegister } from './ldst-single.js';
import { decodeMemoryTags } from './mte-insns.js';

/**
 * Loads and stores (DDI 0487, C4.1.88), general-purpose register forms. The decoder sends words
 * with op0 = x1x0 here, so bit 27 is 1 and bit 25 is 0; bits [29:28] and 24 pick the class:
 *
 *   29:28  24   class                                                  file
 *   00     0    exclusive, ordered, compare-and-swap (bits 29:24 = 001000)   ldst-exclusive.ts
 *   01     0    load register (literal), PRFM (literal)                ldst-single.ts
 *   01     1    bits 31:24 = 0xD9, bit 21 = 1: load/store memory tags  mte-insns.ts
 *   01     1    bit 21 = 0, bits 11:10 = 00: LDAPUR/STLUR (FEAT_LRCPC2) ldst-exclusive.ts
 *   10     x    load/store pair, STGP                                  ldst-pair.ts
 *   11     x    load/store register; atomics when bit 24 = 0, bit 21 = 1, bits 11:10 = 00
 *                                                                      ldst-single.ts, ldst-atomic.ts
 *
 * UNDEFINED (null): every SIMD&FP form (V = 1; this CPU has no FP), SIMD structure loads, and the
 * features this CPU does not report: FEAT_LRCPC2 (LDAPUR/STLUR, see FEAT_LRCPC2), FEAT_LRCPC3, FEAT_MOPS, FEAT_PAuth
 * (LDRAA/LDRAB), FEAT_THE (RCW), FEAT_LS64, FEAT_LSE128, FEAT_GCS, FEAT_LOR (LDLAR/STLLR).
 */
export function decodeLoadStore(word: number, mte: boolean): Insn | null {
  const bit24 = (word >>> 24) & 1;
  switch ((word >>> 28) & 3) {
    case 0:
      if (bit24 || (word >>> 26) & 1) return null; // LRCPC3/LSE128 space; SIMD structures
      return decodeExclusiveOrdered(word);
    case 1:
      if (!bit24) return decodeLoadLiteral(word);
      if ((word >>> 24) === 0xd9 && (word >>> 21) & 1) return decodeMemoryTags(word, mte);
      if ((word >>> 26) & 1) return null; // FEAT_MOPS SET*, SIMD&FP LDAPUR/STLUR
      return decodeOrderedUnscaled(word); // LDAPUR/STLUR (FEAT_LRCPC2); MOPS CPY*, GCSSTR: null
    case 2:
      return decodeLoadStorePair(word, mte);
    default:
      if (!bit24 && (word >>> 21) & 1 && ((word >>> 10) & 3) === 0) return decodeAtomic(word);
      return decodeLoadStoreRegister(word);
  }
}
