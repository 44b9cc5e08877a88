import type { Cpu } from '../cpu.js';
import { PERM_R0, PERM_R1, PERM_W0, PERM_W1, translate, type WalkResult } from '../mmu/translate.js';
import { Sys } from '../sysreg-state.js';

const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0 };

/**
 * AT S1E1R/W, S1E0R/W, S1E1RP/WP: translate without faulting and report in PAR_EL1. On success
 * PAR holds PA[47:12] and the MAIR attribute in [63:56]; on failure F=1 with the fault status in
 * FST[6:1]. Shareability is not modelled and reads as 0.
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
  cpu.setSys(Sys.PAR_EL1, ((pa % 2 ** 32) & ~0xfff) | (1 << 11), (Math.floor(pa / 2 ** 32) & 0xffff) | (walk.attr << 24));
}
