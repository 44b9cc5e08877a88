import type { Insn } from '../insn.js';

/**
 * The integer Advanced SIMD the first step left out (docs/fp-simd.md, "Missing"): saturating
 * shifts and narrows, by-element multiplies, polynomial multiplies, and the crypto classes.
 * Called after simd-int/simd-move declined the word; null passes it on to the floating-point decoders.
 */
export function decodeSimdIntExtra(_word: number, _scalar: boolean): Insn | null {
  return null;
}
