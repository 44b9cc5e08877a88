import type { Cpu } from '../cpu.js';
import { ATTR_NORMAL_NC, isDeviceAttr, PERM_R0, PERM_R1, PERM_W0, PERM_W1, translate, type WalkResult } from '../mmu/translate.js';
import { Sys } from '../sysreg-state.js';

const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };

/**
 * AT S1E1R/W, S1E0R/W, S1E1RP/WP: translate without faulting and report in PAR_EL1. On success
 * PAR holds PA[47:12], NS and the MAIR attribute in [63:56]; on failure F=1 with the fault status in
 * FST[6:1].
 */
export function addressTranslate(cpu: Cpu, lo: number, hi: number, write: boolean, el: number, pan: boolean): void {
  const fsc = translate(cpu.regime, cpu.space, lo, cpu.canonHi(hi), false, walk);
  let failure = fsc;
  if (failure < 0) {
    const need = el === 0 ? (write ? PERM_W0 : PERM_R0) : write ? PERM_W1 : PERM_R1;
    const panBlocked = pan && cpu.pan !== 0 && (walk.perms & PERM_R0) !== 0;
    if ((walk.perms & need) === 0 || panBlocked) failure = 0x0c | walk.level;
  }
  if (failure >= 0) {
    cpu.setSys(Sys.PAR_EL1, (1 << 11) | (failure << 1) | 1, 0);
    return;
  }
  const pa = walk.pagePa;
  // Device and Normal Non-cacheable memory report Outer Shareable; otherwise the descriptor's SH.
  const nonCacheable = isDeviceAttr(walk.attr) || walk.attr === ATTR_NORMAL_NC;
  const sh = nonCacheable ? 2 : walk.sh;
  // Bit 11 is RES1 and NS (bit 9) is set: the virt board's EL1&0 regime is Non-secure.
  const parLo = ((pa % 2 ** 32) & ~0xfff) | (1 << 11) | (1 << 9) | (sh << 7);
  cpu.setSys(Sys.PAR_EL1, parLo, (Math.floor(pa / 2 ** 32) & 0xffff) | (walk.attr << 24));
}
