/**
 * GICv3 interrupt state for one PE (the vGIC of a single-vCPU VM): per-INTID configuration and
 * pending/active state for SGIs, PPIs (redistributor) and SPIs (distributor), the CPU interface's
 * active priorities, and the highest-priority-pending computation that drives the PE's IRQ and
 * FIQ lines. The MMIO frames (distributor.ts, redistributor.ts) and the ICC_* system registers
 * (cpu-interface.ts) are views onto this one state.
 *
 * Configuration as QEMU `virt,gic-version=3` without EL3 presents it (the differential reference):
 * GICD_CTLR.DS = 1 (one Security state: Group 0 is signalled as FIQ, Group 1 as IRQ), affinity
 * routing always on (ARE RAO/WI), 256 SPIs (INTIDs 32..287), 5 priority bits (PMR and priority
 * grouping as ICC_CTLR_EL1.PRIbits = 4), no LPIs. Behaviour that the GICv3 architecture leaves
 * open follows QEMU's hw/intc/arm_gicv3*.c: ties go to the lower INTID, EOI drops the highest
 * active priority whatever INTID is written, and group enables in GICD_CTLR gate SGIs and PPIs too.
 */
import { FIQ_LINE, IRQ_LINE, type Cpu } from '../../cpu/index.js';

/** Number of INTIDs: 16 SGIs, 16 PPIs, 256 SPIs (QEMU virt's NUM_IRQS). */
export const GIC_NR_IRQS = 288;
export const GIC_NR_SPIS = GIC_NR_IRQS - 32;
export const GIC_INTERNAL = 32;
export const INTID_SPURIOUS = 1023;
/** Priority bits implemented (QEMU -cpu max: 5), and the preemption bits that follow. */
export const PRI_BITS = 5;
export const PRI_MASK = (0xff << (8 - PRI_BITS)) & 0xff;
/** Minimum BPR values (QEMU icc_min_bpr / icc_min_bpr_ns for 5 preemption bits). */
export const MIN_BPR0 = 7 - PRI_BITS;
export const MIN_BPR1 = MIN_BPR0 + 1;

export const GICD_CTLR_EN_GRP0 = 1;
export const GICD_CTLR_EN_GRP1 = 2;
/** ARE (bit 4) and DS (bit 6) read as one: affinity routing, single Security state. */
export const GICD_CTLR_FIXED = 0x50;

/** Group of an interrupt: 0 (signalled as FIQ) or 1 (IRQ). */
export type Group = 0 | 1;

export class GicState {
  // ---- per INTID (index = INTID) ----
  readonly group = new Uint8Array(GIC_NR_IRQS);
  readonly enabled = new Uint8Array(GIC_NR_IRQS);
  /** The pending latch (edge, ISPENDR, SGI generation). */
  readonly pending = new Uint8Array(GIC_NR_IRQS);
  readonly active = new Uint8Array(GIC_NR_IRQS);
  /** Input line level (devices, timer). */
  readonly level = new Uint8Array(GIC_NR_IRQS);
  /** 1 = edge-triggered (ICFGR bit 2n+1). SGIs are always edge. */
  readonly edge = new Uint8Array(GIC_NR_IRQS);
  readonly priority = new Uint8Array(GIC_NR_IRQS);
  /** GICD_IROUTER<n> low and high words (SPIs only). */
  readonly routeLo = new Uint32Array(GIC_NR_IRQS);
  readonly routeHi = new Uint32Array(GIC_NR_IRQS);

  // ---- distributor / redistributor ----
  gicdCtlr = GICD_CTLR_FIXED;
  /** GICR_WAKER.ProcessorSleep (ChildrenAsleep follows it at once). */
  processorSleep = 1;

  // ---- CPU interface ----
  pmr = 0;
  bpr0 = MIN_BPR0;
  bpr1 = MIN_BPR1;
  /** ICC_CTLR_EL1.CBPR (bit 0) and EOImode (bit 1). */
  iccCtlr = 0;
  igrpen0 = 0;
  igrpen1 = 0;
  /** Active priorities (ICC_AP0R0_EL1 / ICC_AP1R0_EL1): bit n = group priority n << 3 active. */
  apr0 = 0;
  apr1 = 0;

  // ---- derived ----
  hppiIrq = INTID_SPURIOUS;
  hppiPrio = 0xff;
  hppiGroup: Group = 0;

  private cpu: Cpu | null = null;
  /** INTIDs whose enable bit is set, rebuilt after `enabledChanged` (update() scans only these). */
  private enabledList: number[] | null = null;

  constructor() {
    this.reset();
  }

  /** Connects the PE whose IRQ/FIQ lines this GIC drives. */
  attach(cpu: Cpu): void {
    this.cpu = cpu;
    this.update();
  }

  reset(): void {
    for (const a of [this.group, this.enabled, this.pending, this.active, this.edge, this.priority, this.routeLo, this.routeHi]) a.fill(0);
    // Line levels are wired inputs: a device keeps driving its line across a GIC reset.
    this.edge.fill(1, 0, 16); // SGIs are edge-triggered (GICR_ICFGR0 reads 0xAAAAAAAA)
    this.gicdCtlr = GICD_CTLR_FIXED;
    this.processorSleep = 1;
    this.pmr = 0;
    this.bpr0 = MIN_BPR0;
    this.bpr1 = MIN_BPR1;
    this.iccCtlr = 0;
    this.igrpen0 = this.igrpen1 = 0;
    this.apr0 = this.apr1 = 0;
    this.enabledChanged();
    this.update();
  }

  /** Call when `enabled` changes (ISENABLER/ICENABLER, reset, restore), before the next update(). */
  enabledChanged(): void {
    this.enabledList = null;
  }

  /** Pending as software sees it: the latch, or a level-sensitive input that is high. */
  isPending(intid: number): boolean {
    return this.pending[intid] === 1 || (this.edge[intid] === 0 && this.level[intid] === 1);
  }

  /** Drives an input line (PPI from the timer, SPI from a device). Edge-triggered inputs latch on a rising edge. */
  setLevel(intid: number, level: boolean): void {
    const value = level ? 1 : 0;
    if (this.level[intid] === value) return;
    this.level[intid] = value;
    if (value === 1 && this.edge[intid] === 1) this.pending[intid] = 1;
    this.update();
  }

  /** True when an SPI is routed to PE 0 (IRM = 1, or affinity 0.0.0.0): the only PE there is. */
  private routedHere(intid: number): boolean {
    if (intid < GIC_INTERNAL) return true;
    const lo = this.routeLo[intid]!;
    return (lo & 0x8000_0000) !== 0 || ((lo & 0x00ff_ffff) === 0 && (this.routeHi[intid]! & 0xff) === 0);
  }

  /** Group priority mask for `group` (GroupBits(): the BPR, or BPR0 for Group 1 when CBPR). */
  groupPriorityMask(group: Group): number {
    let bpr: number;
    if (group === 0 || (this.iccCtlr & 1) !== 0) bpr = this.bpr0;
    else bpr = this.bpr1 - 1;
    return (0xff << (bpr + 1)) & 0xff;
  }

  /** Running priority: the highest (lowest value) active group priority, 0xff when idle. */
  runningPriority(): number {
    const apr = (this.apr0 | this.apr1) >>> 0;
    if (apr === 0) return 0xff;
    return (31 - Math.clz32(apr & -apr)) << (8 - PRI_BITS);
  }

  /** Recomputes the highest-priority pending interrupt and the PE's IRQ/FIQ lines. */
  update(): void {
    let bestIrq = INTID_SPURIOUS;
    let bestPrio = 0xff;
    const ctlr = this.gicdCtlr;
    let list = this.enabledList;
    if (list === null) {
      list = [];
      for (let intid = 0; intid < GIC_NR_IRQS; intid++) if (this.enabled[intid] === 1) list.push(intid);
      this.enabledList = list;
    }
    // Ascending INTIDs: at equal priority the lower INTID wins (strict < below).
    for (const intid of list) {
      if (this.active[intid] === 1 || !this.isPending(intid)) continue;
      const group = this.group[intid]!;
      if ((ctlr & (group === 0 ? GICD_CTLR_EN_GRP0 : GICD_CTLR_EN_GRP1)) === 0) continue;
      if (!this.routedHere(intid)) continue;
      const prio = this.priority[intid]!;
      if (prio < bestPrio) {
        bestPrio = prio;
        bestIrq = intid;
      }
    }
    this.hppiIrq = bestIrq;
    this.hppiPrio = bestPrio;
    this.hppiGroup = bestIrq === INTID_SPURIOUS ? 0 : (this.group[bestIrq] as Group);
    this.signal();
  }

  /** No pending interrupt, or the best one's group is disabled at the CPU interface. */
  noEnabledHppi(): boolean {
    return this.hppiPrio === 0xff || (this.hppiGroup === 0 ? this.igrpen0 : this.igrpen1) === 0;
  }

  /** The best pending interrupt may preempt: above the priority mask and the running priority. */
  hppiCanPreempt(): boolean {
    if (this.noEnabledHppi()) return false;
    if (this.hppiPrio >= this.pmr) return false;
    const running = this.runningPriority();
    if (running === 0xff) return true;
    const mask = this.groupPriorityMask(this.hppiGroup);
    return (this.hppiPrio & mask) < (running & mask);
  }

  /** Acknowledge (ICC_IAR*): the interrupt becomes active and its group priority is recorded. */
  activate(intid: number): void {
    const prio = this.hppiPrio & this.groupPriorityMask(this.hppiGroup);
    const bit = 1 << (prio >> (8 - PRI_BITS));
    if (this.hppiGroup === 0) this.apr0 = (this.apr0 | bit) >>> 0;
    else this.apr1 = (this.apr1 | bit) >>> 0;
    this.active[intid] = 1;
    this.pending[intid] = 0;
    this.update();
  }

  /** The group of the highest active priority, or -1 when nothing is active. */
  highestActiveGroup(): -1 | Group {
    const lowest = (x: number): number => (x === 0 ? 99 : 31 - Math.clz32(x & -x));
    const g0 = lowest(this.apr0);
    const g1 = lowest(this.apr1);
    if (g0 === 99 && g1 === 99) return -1;
    return g0 <= g1 ? 0 : 1;
  }

  /** Priority drop: clears the lowest set bit of the group's active priorities. */
  dropPriority(group: Group, update = true): void {
    if (group === 0) this.apr0 = (this.apr0 & (this.apr0 - 1)) >>> 0;
    else this.apr1 = (this.apr1 & (this.apr1 - 1)) >>> 0;
    if (update) this.update();
  }

  deactivate(intid: number): void {
    this.active[intid] = 0;
    this.update();
  }

  private signal(): void {
    const cpu = this.cpu;
    if (!cpu) return;
    let lines = 0;
    if (this.hppiCanPreempt()) lines = this.hppiGroup === 0 ? FIQ_LINE : IRQ_LINE;
    const next = (cpu.irqLines & ~(IRQ_LINE | FIQ_LINE)) | lines;
    if (next !== cpu.irqLines) {
      cpu.irqLines = next;
      // The interpreter checks the lines between blocks; ending the current block makes a line
      // raised by an MMIO store or a system register write visible at the next branch.
      cpu.refetch = true;
    }
  }
}
