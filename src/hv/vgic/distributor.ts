/**
 * The GICv3 Distributor frame (GICD_*, 64 KiB) for SPIs. With affinity routing on, the SGI/PPI
 * words of the bitmap registers are RAZ/WI here (they live in the redistributor), ITARGETSR and
 * GICD_SGIR are RAZ/WI, and SPIs are routed with GICD_IROUTER<n>. Register values that the
 * architecture leaves to the implementation are QEMU's (IIDR 0x43B, PIDR2 ArchRev 3).
 */
import type { MmioHandler } from '../../memory/index.js';
import { readBitmap, readConfig, readPriority, REG, writeBitmap, writeConfig, writePriority } from './bits.js';
import { GIC_INTERNAL, GIC_NR_IRQS, GICD_CTLR_EN_GRP0, GICD_CTLR_EN_GRP1, GICD_CTLR_FIXED, type GicState } from './gic-state.js';

export const GICD_SIZE = 0x1_0000;

const CTLR = 0x0000;
const TYPER = 0x0004;
const IIDR = 0x0008;
const IROUTER = 0x6000;
const PIDR2 = 0xffe8;
/** ITLinesNumber = 8 (288 INTIDs), IDbits = 15 (16-bit INTIDs), A3V, No1N; no LPIs, no MBIS. */
const TYPER_VALUE = ((GIC_NR_IRQS / 32 - 1) | (15 << 19) | (1 << 24) | (1 << 25)) >>> 0;
export const GIC_IIDR = 0x43b;
export const GIC_PIDR2 = 0x3b;

export class GicDistributor implements MmioHandler {
  constructor(private readonly state: GicState) {}

  read(offset: number, size: 1 | 2 | 4): number {
    const s = this.state;
    if (offset >= REG.IPRIORITYR && offset < REG.IPRIORITYR + GIC_NR_IRQS) {
      const first = offset - REG.IPRIORITYR;
      return first < GIC_INTERNAL ? 0 : readPriority(s, first, size);
    }
    if (size !== 4) return 0; // other registers are word-accessible only (RAZ otherwise)
    if (offset >= IROUTER && offset < IROUTER + 8 * GIC_NR_IRQS) {
      const intid = (offset - IROUTER) >>> 3;
      if (intid < GIC_INTERNAL) return 0;
      return (offset & 4) === 0 ? s.routeLo[intid]! : s.routeHi[intid]!;
    }
    switch (offset) {
      case CTLR:
        return s.gicdCtlr;
      case TYPER:
        return TYPER_VALUE;
      case IIDR:
        return GIC_IIDR;
      case PIDR2:
        return GIC_PIDR2;
    }
    const bitmap = this.bitmapBlock(offset);
    if (bitmap >= 0) {
      const first = (offset - bitmap) * 8;
      return first < GIC_INTERNAL ? 0 : readBitmap(s, bitmap, first);
    }
    if (offset >= REG.ICFGR && offset < REG.ICFGR + GIC_NR_IRQS / 4) {
      const first = (offset - REG.ICFGR) * 4;
      return first < GIC_INTERNAL ? 0 : readConfig(s, first);
    }
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const s = this.state;
    if (offset >= REG.IPRIORITYR && offset < REG.IPRIORITYR + GIC_NR_IRQS) {
      const first = offset - REG.IPRIORITYR;
      if (first >= GIC_INTERNAL) writePriority(s, first, size, value);
      s.update();
      return;
    }
    if (size !== 4) return;
    if (offset >= IROUTER && offset < IROUTER + 8 * GIC_NR_IRQS) {
      const intid = (offset - IROUTER) >>> 3;
      if (intid < GIC_INTERNAL) return;
      // Aff2.Aff1.Aff0 and IRM in the low word, Aff3 in the high word.
      if ((offset & 4) === 0) s.routeLo[intid] = value & 0x80ff_ffff;
      else s.routeHi[intid] = value & 0xff;
      s.update();
      return;
    }
    if (offset === CTLR) {
      s.gicdCtlr = GICD_CTLR_FIXED | (value & (GICD_CTLR_EN_GRP0 | GICD_CTLR_EN_GRP1));
      s.update();
      return;
    }
    const bitmap = this.bitmapBlock(offset);
    if (bitmap >= 0) {
      const first = (offset - bitmap) * 8;
      if (first >= GIC_INTERNAL) writeBitmap(s, bitmap, first, value);
      s.update();
      return;
    }
    if (offset >= REG.ICFGR && offset < REG.ICFGR + GIC_NR_IRQS / 4) {
      const first = (offset - REG.ICFGR) * 4;
      if (first >= GIC_INTERNAL) writeConfig(s, first, value);
      s.update();
    }
  }

  /** The bitmap block (IGROUPR...ICACTIVER, IGRPMODR) an offset falls in, or -1. */
  private bitmapBlock(offset: number): number {
    for (const block of [REG.IGROUPR, REG.ISENABLER, REG.ICENABLER, REG.ISPENDR, REG.ICPENDR, REG.ISACTIVER, REG.ICACTIVER, REG.IGRPMODR]) {
      if (offset >= block && offset < block + GIC_NR_IRQS / 8) return block;
    }
    return -1;
  }
}
