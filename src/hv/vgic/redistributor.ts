/**
 * The GICv3 Redistributor of PE 0: RD_base (control, WAKER) and SGI_base (SGIs and PPIs), two
 * 64 KiB frames. GICR_TYPER.Last = 1: it is the only one in the region, as on QEMU virt with one
 * CPU. No LPIs (GICR_TYPER.PLPIS = 0, PROPBASER/PENDBASER RAZ/WI).
 */
import type { MmioHandler } from '../../memory/index.js';
import { readBitmap, readConfig, readPriority, REG, writeBitmap, writeConfig, writePriority } from './bits.js';
import { GIC_IIDR, GIC_PIDR2 } from './distributor.js';
import type { GicState } from './gic-state.js';

export const GICR_FRAME = 0x1_0000;
export const GICR_SIZE = 2 * GICR_FRAME;

const CTLR = 0x0000;
const IIDR = 0x0004;
const TYPER = 0x0008;
const WAKER = 0x0014;
const PIDR2 = 0xffe8;
/** GICR_CTLR.CES: GICR_CTLR.EnableLPIs can be cleared (QEMU 10 reports it). */
const CTLR_VALUE = 2;
/** Processor_Number 0, Last = 1, affinity 0.0.0.0. */
const TYPER_LO = 1 << 4;

export class GicRedistributor implements MmioHandler {
  constructor(private readonly state: GicState) {}

  read(offset: number, size: 1 | 2 | 4): number {
    const s = this.state;
    if (offset < GICR_FRAME) {
      if (size !== 4) return 0;
      switch (offset) {
        case CTLR:
          return CTLR_VALUE;
        case IIDR:
          return GIC_IIDR;
        case TYPER:
          return TYPER_LO;
        case WAKER:
          return s.processorSleep ? 6 : 0; // ProcessorSleep (1) and ChildrenAsleep (2)
        case PIDR2:
          return GIC_PIDR2;
        default:
          return 0; // TYPER high word (affinity 0), STATUSR, PROPBASER, PENDBASER...
      }
    }
    const off = offset - GICR_FRAME;
    if (off >= REG.IPRIORITYR && off < REG.IPRIORITYR + 32) return readPriority(s, off - REG.IPRIORITYR, size);
    if (size !== 4) return 0;
    if (off === REG.ICFGR || off === REG.ICFGR + 4) return readConfig(s, (off - REG.ICFGR) * 4);
    if (isBitmap(off)) return readBitmap(s, off, 0);
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const s = this.state;
    if (offset < GICR_FRAME) {
      if (offset === WAKER && size === 4) s.processorSleep = (value >>> 1) & 1;
      return;
    }
    const off = offset - GICR_FRAME;
    if (off >= REG.IPRIORITYR && off < REG.IPRIORITYR + 32) writePriority(s, off - REG.IPRIORITYR, size, value);
    else if (size !== 4) return;
    else if (off === REG.ICFGR + 4) writeConfig(s, 16, value); // PPIs; ICFGR0 (SGIs) is read-only
    else if (isBitmap(off)) writeBitmap(s, off, 0, value);
    else return;
    s.update();
  }
}

function isBitmap(off: number): boolean {
  return [REG.IGROUPR, REG.ISENABLER, REG.ICENABLER, REG.ISPENDR, REG.ICPENDR, REG.ISACTIVER, REG.ICACTIVER, REG.IGRPMODR].includes(off as never);
}
