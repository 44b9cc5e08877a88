import type { Cpu } from './cpu.js';
import { Sys } from './sysreg-state.js';

/**
 * ChooseNonExcludedTag (Arm ARM): the tag `offset` non-excluded steps after `start`, or the first
 * non-excluded tag at or after `start` when offset is 0; 0 when every tag is excluded.
 */
export function chooseNonExcludedTag(start: number, offset: number, exclude: number): number {
  if ((exclude & 0xffff) === 0xffff) return 0;
  let tag = start & 0xf;
  if (offset === 0) {
    while ((exclude & (1 << tag)) !== 0) tag = (tag + 1) & 0xf;
    return tag;
  }
  for (; offset > 0; offset--) {
    do tag = (tag + 1) & 0xf;
    while ((exclude & (1 << tag)) !== 0);
  }
  return tag;
}

/**
 * IRG's tag choice. GCR_EL1.RRND = 0 selects the architected pseudo-random generator: four LFSR
 * steps over RGSR_EL1.SEED give an offset from RGSR_EL1.TAG. With RRND = 1 the choice is
 * IMPLEMENTATION DEFINED; like QEMU we keep the same generator (deterministic runs), seeding a
 * zero SEED with a fixed non-zero value where QEMU would draw a random one.
 */
export function randomTag(cpu: Cpu, exclude: number): number {
  const gcr = cpu.sysLo(Sys.GCR_EL1);
  const rgsr = cpu.sysLo(Sys.RGSR_EL1);
  const start = rgsr & 0xf;
  let seed = (rgsr >>> 8) & 0xffff;
  if (seed === 0 && (gcr & 0x10000) !== 0) seed = 1;
  let offset = 0;
  for (let i = 0; i < 4; i++) {
    const top = ((seed >>> 5) ^ (seed >>> 3) ^ (seed >>> 2) ^ seed) & 1;
    seed = (top << 15) | (seed >>> 1);
    offset |= top << i;
  }
  const tag = chooseNonExcludedTag(start, offset, exclude | gcr);
  cpu.setSys(Sys.RGSR_EL1, tag | (seed << 8), 0);
  return tag;
}

/**
 * IRG's tag (Xm[15:0] extra excluded tags), 0 when tag access is disabled at the current EL: the
 * one description the interpreter (isa/mte-insns.ts) and the JIT's helper (jit/engine.ts) call.
 */
export function irgTag(cpu: Cpu, exclude: number): number {
  return cpu.tagAccessEnabled(cpu.el) ? randomTag(cpu, exclude & 0xffff) : 0;
}

/** ADDG/SUBG's tag: `offset` non-excluded steps after the source tag (interpreter and JIT helper). */
export function addgTag(cpu: Cpu, start: number, offset: number): number {
  return cpu.tagAccessEnabled(cpu.el) ? chooseNonExcludedTag(start, offset, cpu.sysLo(Sys.GCR_EL1)) : 0;
}

/** The high word of an address with its allocation tag (bits 59:56) replaced. */
export function withTag(hi: number, tag: number): number {
  return (hi & ~0x0f000000) | ((tag & 0xf) << 24);
}

export function tagOf(hi: number): number {
  return (hi >>> 24) & 0xf;
}
