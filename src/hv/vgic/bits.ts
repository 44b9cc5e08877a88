/**
 * The GIC's banked bitmap registers (IGROUPR, ISENABLER/ICENABLER, ISPENDR/ICPENDR,
 * ISACTIVER/ICACTIVER), ICFGR and IPRIORITYR, over the per-INTID arrays of GicState. The
 * distributor (SPIs) and the redistributor's SGI frame (SGIs and PPIs) share them.
 */
import { GIC_NR_IRQS, type GicState } from './gic-state.js';

/** Register blocks, by their offset within the distributor / the SGI_base frame. */
export const REG = {
  IGROUPR: 0x0080,
  ISENABLER: 0x0100,
  ICENABLER: 0x0180,
  ISPENDR: 0x0200,
  ICPENDR: 0x0280,
  ISACTIVER: 0x0300,
  ICACTIVER: 0x0380,
  IPRIORITYR: 0x0400,
  ICFGR: 0x0c00,
  IGRPMODR: 0x0d00,
} as const;

/** Reads a 32-INTID bitmap word starting at `first`. */
export function readBitmap(state: GicState, block: number, first: number): number {
  let value = 0;
  for (let i = 0; i < 32; i++) {
    const intid = first + i;
    if (intid >= GIC_NR_IRQS) break;
    let bit: boolean;
    switch (block) {
      case REG.IGROUPR:
        bit = state.group[intid] === 1;
        break;
      case REG.ISENABLER:
      case REG.ICENABLER:
        bit = state.enabled[intid] === 1;
        break;
      case REG.ISPENDR:
      case REG.ICPENDR:
        bit = state.isPending(intid);
        break;
      case REG.ISACTIVER:
      case REG.ICACTIVER:
        bit = state.active[intid] === 1;
        break;
      default:
        bit = false; // IGRPMODR: RAZ/WI with GICD_CTLR.DS = 1
    }
    if (bit) value |= 1 << i;
  }
  return value >>> 0;
}

/** Writes a 32-INTID bitmap word (set/clear semantics per block). Caller calls state.update(). */
export function writeBitmap(state: GicState, block: number, first: number, value: number): void {
  if (block === REG.ISENABLER || block === REG.ICENABLER) state.enabledChanged();
  for (let i = 0; i < 32; i++) {
    const intid = first + i;
    if (intid >= GIC_NR_IRQS) break;
    const bit = (value >>> i) & 1;
    switch (block) {
      case REG.IGROUPR:
        state.group[intid] = bit;
        break;
      case REG.ISENABLER:
        if (bit) state.enabled[intid] = 1;
        break;
      case REG.ICENABLER:
        if (bit) state.enabled[intid] = 0;
        break;
      case REG.ISPENDR:
        if (bit) state.pending[intid] = 1;
        break;
      case REG.ICPENDR:
        if (bit) state.pending[intid] = 0;
        break;
      case REG.ISACTIVER:
        if (bit) state.active[intid] = 1;
        break;
      case REG.ICACTIVER:
        if (bit) state.active[intid] = 0;
        break;
    }
  }
}

/** ICFGR word for INTIDs first..first+15: bit 2n+1 = edge-triggered. */
export function readConfig(state: GicState, first: number): number {
  let value = 0;
  for (let i = 0; i < 16; i++) if (first + i < GIC_NR_IRQS && state.edge[first + i] === 1) value |= 2 << (2 * i);
  return value >>> 0;
}

export function writeConfig(state: GicState, first: number, value: number): void {
  for (let i = 0; i < 16; i++) {
    const intid = first + i;
    if (intid < 16 || intid >= GIC_NR_IRQS) continue; // SGI configuration is read-only
    state.edge[intid] = (value >>> (2 * i + 1)) & 1;
  }
}

/** IPRIORITYR: one byte per INTID, all 8 bits kept (as QEMU's distributor does). */
export function readPriority(state: GicState, first: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value |= (state.priority[first + i] ?? 0) << (8 * i);
  return value >>> 0;
}

export function writePriority(state: GicState, first: number, size: number, value: number): void {
  for (let i = 0; i < size; i++) if (first + i < GIC_NR_IRQS) state.priority[first + i] = (value >>> (8 * i)) & 0xff;
}
