import type { Cpu } from '../cpu.js';
import { dataAbort } from '../exception-entry.js';
import { FSC } from '../exceptions.js';
import { NEXT } from '../insn.js';
import { ATTR_TAGGED, isDeviceAttr } from '../mmu/translate.js';
import { ACC_NOCHECK, part0, probe } from '../slow-access.js';

/** DCZID_EL0.BS = 4: the DC ZVA block is 64 bytes (as on QEMU -cpu max). */
export const DCZ_BLOCK = 64;

/**
 * DC ZVA (mode 0), DC GVA (1: tags only) and DC GZVA (2: tags and zeros) on the 64-byte block
 * containing the address. DC ZVA is a tag-checked store; the tag forms write the address's tag to
 * every granule of the block when the page is Normal-Tagged and tag access is enabled. A fault
 * reports the original address, not the aligned block (as QEMU does).
 */
export function dcZeroBlock(cpu: Cpu, lo: number, hi: number, mode: number): number {
  const alignedLo = lo & ~(DCZ_BLOCK - 1);
  if (!probe(cpu, alignedLo, hi, DCZ_BLOCK, true, mode === 0 ? 0 : ACC_NOCHECK)) {
    if ((cpu.fault & 0xff) !== FSC.TAG_CHECK) {
      cpu.faultLo = lo;
      cpu.faultHi = hi;
    }
    return dataAbort(cpu);
  }
  if (isDeviceAttr(part0.attr)) {
    cpu.setFault(FSC.ALIGNMENT, lo, hi, true);
    return dataAbort(cpu);
  }
  const region = part0.region;
  if (!region) {
    cpu.setFault(FSC.EXTERNAL, lo, hi, true);
    return dataAbort(cpu);
  }
  const offset = part0.pa - region.base;
  if (mode !== 1) {
    region.bytes.fill(0, offset, offset + DCZ_BLOCK);
    region.noteDataWrite(offset, DCZ_BLOCK);
  }
  if (mode !== 0 && part0.attr === ATTR_TAGGED && region.tags && cpu.tagAccessEnabled(cpu.el)) {
    region.tags.fillTags(offset, DCZ_BLOCK / 16, (hi >>> 24) & 0xf);
    region.noteTagWrite(offset, DCZ_BLOCK);
  }
  return NEXT;
}
