import type { Cpu } from './cpu.js';
import { ATTR_TAGGED, translate, type WalkResult } from './mmu/translate.js';

const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };

export interface DebugTranslation {
  /** Physical address of the byte. */
  readonly pa: number;
  /** The page's MAIR attribute is Normal-Tagged (tag checks apply to it). */
  readonly tagged: boolean;
  /** Permission bits (PERM_* in mmu/translate.ts). */
  readonly perms: number;
}

/**
 * Translates a virtual address in the current regime the way a debugger or the VMM needs it:
 * no permission checks, no faults, no side effects (the access flag is never set).
 * Returns null when the address is not mapped.
 */
export function debugTranslate(cpu: Cpu, va: bigint): DebugTranslation | null {
  const lo = Number(BigInt.asIntN(32, va));
  const hi = cpu.canonHi(Number(BigInt.asIntN(32, va >> 32n)));
  const regime = { ...cpu.regime, tcrHi: cpu.regime.tcrHi & ~(1 << 7) }; // HA off: never write the AF
  const fsc = translate(regime, cpu.space, lo, hi, false, walk);
  if (fsc >= 0) return null;
  return { pa: walk.pagePa + (lo & 0xfff), tagged: walk.attr === ATTR_TAGGED, perms: walk.perms };
}
