import type { PhysicalAddressSpace } from '../../memory/index.js';
import { FSC } from '../exceptions.js';

/** Permission bits of a translation, per exception level. */
export const PERM_R1 = 1;
export const PERM_W1 = 2;
export const PERM_X1 = 4;
export const PERM_R0 = 8;
export const PERM_W0 = 16;
export const PERM_X0 = 32;
export const PERM_ALL = 63;

/** MAIR attribute of Normal, Inner/Outer Write-Back, Tagged memory (FEAT_MTE2). */
export const ATTR_TAGGED = 0xf0;
/** Attribute used for data accesses with the MMU off: Device-nGnRnE. */
export const ATTR_DEVICE = 0x00;
/** Attribute used for instruction fetches with the MMU off: Normal, non-cacheable. */
export const ATTR_NORMAL_NC = 0x44;

export function isDeviceAttr(attr: number): boolean {
  return (attr & 0xf0) === 0;
}

/** The translation regime's controls, extracted from SCTLR_EL1/TCR_EL1/MAIR_EL1/TTBRn_EL1. */
export interface TranslationRegime {
  mmuOn: boolean;
  tcrLo: number;
  tcrHi: number;
  ttbr0Lo: number;
  ttbr0Hi: number;
  ttbr1Lo: number;
  ttbr1Hi: number;
  mairLo: number;
  mairHi: number;
  /** SCTLR_EL1.WXN */
  wxn: boolean;
}

/** Result of a successful walk (fields valid when translate returns -1). */
export interface WalkResult {
  /** Physical address of the 4 KiB page holding the input address. */
  pagePa: number;
  /** MAIR attribute byte. */
  attr: number;
  perms: number;
  level: number;
  /** Shareability field of the leaf descriptor (SH[1:0]). */
  sh: number;
}

const DESC_VALID = 1;
/** TCR_EL1.IPS -> output address limit, capped at the 48 bits this CPU implements (PARange). */
const PA_LIMITS = [32, 36, 40, 42, 44, 48, 48, 48].map((bits) => 2 ** bits);
const DESC_TABLE = 2;

/**
 * Stage-1 translation for the EL1&0 regime with a 4 KiB granule (DDI 0487, D8 "The AArch64
 * Virtual Memory System Architecture"). `hi` must already have the top byte replaced by bit 55's
 * value when TBI applies (the caller knows TBI). Returns -1 on success (result in `out`) or a
 * fault status code (FSC) with the level folded in. Descriptor reads go to RAM only; a walk that
 * leaves RAM is a synchronous external abort on the walk. With TCR_EL1.HA set the access flag is
 * set in memory instead of faulting (FEAT_HAFDBS, as QEMU -cpu max does).
 */
export function translate(
  regime: TranslationRegime,
  space: PhysicalAddressSpace,
  lo: number,
  hi: number,
  isFetch: boolean,
  out: WalkResult,
): number {
  if (!regime.mmuOn) {
    // Flat map: the address must fit the physical address space (48 bits here).
    if ((hi & 0xffff0000) !== 0) return FSC.ADDRESS_SIZE;
    out.pagePa = (hi >>> 0) * 2 ** 32 + ((lo & ~0xfff) >>> 0);
    out.attr = isFetch ? ATTR_NORMAL_NC : ATTR_DEVICE;
    out.perms = PERM_ALL;
    out.level = 3;
    out.sh = 2;
    return -1;
  }
  const upper = (hi & 0x00800000) !== 0;
  const tcrLo = regime.tcrLo;
  const tsz = upper ? (tcrLo >>> 16) & 0x3f : tcrLo & 0x3f;
  const epd = upper ? (tcrLo >>> 23) & 1 : (tcrLo >>> 7) & 1;
  const tg = upper ? (tcrLo >>> 30) & 3 : (tcrLo >>> 14) & 3;
  // Only the 4 KiB granule is implemented: TG0 = 0b00, TG1 = 0b10. Other encodings are
  // reserved or unimplemented sizes, which the architecture lets us treat as 4 KiB.
  void tg;
  const t = Math.min(Math.max(tsz, 16), 39);
  const vaBits = 64 - t;
  // Bits [63:vaBits] (top byte already canonical) must all equal bit 55's half.
  const topMask = vaBits >= 32 ? ~((1 << (vaBits - 32)) - 1) : -1;
  const topBits = hi & topMask;
  if ((upper ? topBits !== topMask : topBits !== 0) || (vaBits < 32 && (upper ? (lo | ((1 << vaBits) - 1)) !== -1 : lo >>> vaBits !== 0))) {
    return FSC.TRANSLATION | 0;
  }
  if (epd) return FSC.TRANSLATION | 0;
  const ttbrLo = upper ? regime.ttbr1Lo : regime.ttbr0Lo;
  const ttbrHi = upper ? regime.ttbr1Hi : regime.ttbr0Hi;
  const paLimit = PA_LIMITS[regime.tcrHi & 7]!;
  const levels = Math.ceil((vaBits - 12) / 9);
  let level = 4 - levels;
  // Table base: TTBR bits [47:1] aligned to the size of the start table.
  const startBits = vaBits - 12 - 9 * (levels - 1); // index bits at the start level
  let table = ((ttbrHi & 0xffff) >>> 0) * 2 ** 32 + ((ttbrLo & ~1) >>> 0);
  table -= table % (8 * 2 ** startBits);
  let apTable = 0;
  let pxnTable = 0;
  let uxnTable = 0;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const bits = level === 4 - levels ? startBits : 9;
    const index = vaIndex(lo, hi, shift, bits);
    const descAddr = table + index * 8;
    const region = space.findRam(descAddr);
    if (!region) return FSC.EXTERNAL_WALK | (level & 3);
    const descOffset = descAddr - region.base;
    region.ensurePresent(descOffset >>> 12); // post-copy: the table page must have arrived
    let dLo = region.view.getInt32(descOffset, true);
    const dHi = region.view.getInt32(descOffset + 4, true);
    if ((dLo & DESC_VALID) === 0) return FSC.TRANSLATION | level;
    const oa = ((dHi & 0xffff) >>> 0) * 2 ** 32 + ((dLo & ~0xfff) >>> 0);
    if (level < 3 && (dLo & DESC_TABLE) !== 0) {
      if (oa >= paLimit) return FSC.ADDRESS_SIZE | level;
      pxnTable |= (dHi >>> 27) & 1;
      uxnTable |= (dHi >>> 28) & 1;
      apTable |= (dHi >>> 29) & 3;
      table = oa;
      level++;
      continue;
    }
    // Block (level 1 or 2) or page (level 3). Level 0 blocks and level-3 "blocks" are invalid.
    if (level === 0 || (level === 3 && (dLo & DESC_TABLE) === 0)) return FSC.TRANSLATION | level;
    const blockSize = 2 ** shift;
    const blockBase = oa - (oa % blockSize);
    if (blockBase >= paLimit) return FSC.ADDRESS_SIZE | level;
    if ((dLo & 0x400) === 0) {
      const ha = (regime.tcrHi >>> 7) & 1; // TCR_EL1.HA is bit 39
      if (!ha) return FSC.ACCESS_FLAG | level;
      dLo |= 0x400;
      region.view.setInt32(descOffset, dLo, true);
      region.noteDataWrite(descOffset, 8);
    }
    const pageInBlock = vaOffsetInBlock(lo, shift);
    out.pagePa = blockBase + pageInBlock;
    const attrIndex = (dLo >>> 2) & 7;
    out.attr = attrIndex < 4 ? (regime.mairLo >>> (attrIndex * 8)) & 0xff : (regime.mairHi >>> ((attrIndex - 4) * 8)) & 0xff;
    out.perms = permissions((dLo >>> 6) & 3, apTable, (dHi >>> 21) & 1 | pxnTable, (dHi >>> 22) & 1 | uxnTable, regime.wxn);
    out.level = level;
    out.sh = (dLo >>> 8) & 3;
    return -1;
  }
}

/** `bits` (<= 9) index bits of the VA starting at bit `shift` (12, 21, 30 or 39). */
function vaIndex(lo: number, hi: number, shift: number, bits: number): number {
  const mask = (1 << bits) - 1;
  if (shift >= 32) return (hi >>> (shift - 32)) & mask;
  // The field may straddle bit 32 (level 1: VA[38:30]).
  return ((lo >>> shift) | (hi << (32 - shift))) & mask;
}

/**
 * Offset of the VA's 4 KiB page within a block of 2^shift bytes (shift 21 or 30). Blocks are at
 * most 1 GiB, so the offset is in the low word: never form the 64-bit VA as a float, which
 * loses the low bits of an upper-half (TTBR1) address above 2^53.
 */
function vaOffsetInBlock(lo: number, shift: number): number {
  if (shift === 12) return 0;
  return (lo & (2 ** shift - 1) & ~0xfff) >>> 0;
}

function permissions(ap: number, apTable: number, pxn: number, uxn: number, wxn: boolean): number {
  // AP[2:1]: 00 EL1 RW; 01 EL1 RW, EL0 RW; 10 EL1 RO; 11 EL1 RO, EL0 RO.
  // APTable[0] removes EL0 access, APTable[1] removes write access, at every level below.
  const el0 = (ap & 1) !== 0 && (apTable & 1) === 0;
  const write = (ap & 2) === 0 && (apTable & 2) === 0;
  let perms = PERM_R1;
  if (write) perms |= PERM_W1;
  if (el0) perms |= write ? PERM_R0 | PERM_W0 : PERM_R0;
  // Execute rights come from PXN/UXN alone, except that memory writable at EL0 is never
  // executable at EL1, and with SCTLR_EL1.WXN writable memory executes at no level.
  const xnAll = wxn && write;
  if (!pxn && !xnAll && (perms & PERM_W0) === 0) perms |= PERM_X1;
  if (!uxn && !xnAll) perms |= PERM_X0;
  return perms;
}
