/**
 * The in-kernel GICv3 of a VM (KVM_DEV_TYPE_ARM_VGIC_V3): distributor and redistributor MMIO
 * frames in the guest physical address space, the ICC_* registers on the vCPU, and the
 * KVM_IRQ_LINE entry point for devices. Created by `Vm.createDevice('arm-vgic-v3')`.
 *
 * Save/restore (section "gicv3") carries everything guest-visible: per-INTID configuration and
 * state, line levels, distributor/redistributor control, and the CPU interface registers.
 */
import { expectState, StateError, type Shape, type Stateful } from '../../common/persist.js';
import type { Cpu } from '../../cpu/index.js';
import type { PhysicalAddressSpace } from '../../memory/index.js';
import { iccRegisters, type ExternalReg } from './cpu-interface.js';
import { GicDistributor, GICD_SIZE } from './distributor.js';
import { GIC_NR_IRQS, GicState, GICD_CTLR_FIXED, MIN_BPR0, MIN_BPR1, PRI_MASK } from './gic-state.js';
import { GicRedistributor, GICR_SIZE } from './redistributor.js';

/** QEMU virt's GICv3 frames (hw/arm/virt.c: VIRT_GIC_DIST, VIRT_GIC_REDIST). */
export const GICD_BASE = 0x0800_0000;
export const GICR_BASE = 0x080a_0000;

export interface VgicV3Options {
  /** KVM_VGIC_V3_ADDR_TYPE_DIST. */
  readonly distBase?: number;
  /** KVM_VGIC_V3_ADDR_TYPE_REDIST. */
  readonly redistBase?: number;
}

export interface GicV3SavedState {
  /** One byte per INTID (0..287) for each of these. */
  readonly group: Uint8Array;
  readonly enabled: Uint8Array;
  readonly pending: Uint8Array;
  readonly active: Uint8Array;
  readonly level: Uint8Array;
  readonly edge: Uint8Array;
  readonly priority: Uint8Array;
  /** GICD_IROUTER<n>, 8 bytes per INTID, little-endian (zero for SGIs and PPIs). */
  readonly route: Uint8Array;
  readonly gicdCtlr: number;
  readonly processorSleep: number;
  readonly cpuInterface: {
    readonly pmr: number;
    readonly bpr0: number;
    readonly bpr1: number;
    readonly ctlr: number;
    readonly igrpen0: number;
    readonly igrpen1: number;
    readonly apr0: number;
    readonly apr1: number;
  };
}

const PER_IRQ = ['group', 'enabled', 'pending', 'active', 'level', 'edge', 'priority'] as const;

export class VgicV3 implements Stateful<GicV3SavedState> {
  readonly stateName = 'gicv3';
  readonly stateVersion = 1;
  readonly state = new GicState();
  readonly distBase: number;
  readonly redistBase: number;

  constructor(space: PhysicalAddressSpace, options: VgicV3Options = {}) {
    this.distBase = options.distBase ?? GICD_BASE;
    this.redistBase = options.redistBase ?? GICR_BASE;
    space.addMmio(this.distBase, GICD_SIZE, 'gicv3-distributor', new GicDistributor(this.state));
    space.addMmio(this.redistBase, GICR_SIZE, 'gicv3-redistributor', new GicRedistributor(this.state));
  }

  /** Connects vCPU 0's core: its IRQ/FIQ lines; returns its ICC_* registers. */
  attachCpu(cpu: Cpu): Map<number, ExternalReg> {
    this.state.attach(cpu);
    return iccRegisters(this.state);
  }

  /** Drives an interrupt input: PPIs (16..31) of the vCPU, SPIs (32..287). */
  setLine(intid: number, level: boolean): void {
    this.state.setLevel(intid, level);
  }

  reset(): void {
    this.state.reset();
  }

  save(): GicV3SavedState {
    const s = this.state;
    const route = new Uint8Array(8 * GIC_NR_IRQS);
    const view = new DataView(route.buffer);
    for (let i = 0; i < GIC_NR_IRQS; i++) {
      view.setUint32(8 * i, s.routeLo[i]!, true);
      view.setUint32(8 * i + 4, s.routeHi[i]!, true);
    }
    return {
      group: s.group.slice(),
      enabled: s.enabled.slice(),
      pending: s.pending.slice(),
      active: s.active.slice(),
      level: s.level.slice(),
      edge: s.edge.slice(),
      priority: s.priority.slice(),
      route,
      gicdCtlr: s.gicdCtlr,
      processorSleep: s.processorSleep,
      cpuInterface: { pmr: s.pmr, bpr0: s.bpr0, bpr1: s.bpr1, ctlr: s.iccCtlr, igrpen0: s.igrpen0, igrpen1: s.igrpen1, apr0: s.apr0, apr1: s.apr1 },
    };
  }

  stateShape(): Shape {
    const integers = (names: readonly string[]): Shape => ({ fields: Object.fromEntries(names.map((n) => [n, 'integer' as const])) });
    return {
      fields: {
        ...Object.fromEntries(PER_IRQ.map((n) => [n, 'bytes' as const])),
        route: 'bytes',
        gicdCtlr: 'integer',
        processorSleep: 'integer',
        cpuInterface: integers(['pmr', 'bpr0', 'bpr1', 'ctlr', 'igrpen0', 'igrpen1', 'apr0', 'apr1']),
      },
    };
  }

  check(untrusted: unknown, version: number): GicV3SavedState {
    const p = this.stateName;
    expectState.integer(version, `${p}.version`, this.stateVersion, this.stateVersion);
    const o = expectState.object(untrusted, p);
    const perIrq = {} as Record<(typeof PER_IRQ)[number], Uint8Array>;
    for (const name of PER_IRQ) {
      const bytes = expectState.bytes(o[name], `${p}.${name}`, GIC_NR_IRQS);
      if (name !== 'priority') {
        const bad = bytes.findIndex((b) => b > 1);
        if (bad >= 0) throw new StateError(`${p}.${name}[${bad}]`, 'expected 0 or 1');
      }
      perIrq[name] = bytes;
    }
    const sgiLevel = perIrq.edge.subarray(0, 16).findIndex((b) => b !== 1);
    if (sgiLevel >= 0) throw new StateError(`${p}.edge[${sgiLevel}]`, 'SGIs are always edge-triggered');
    const route = expectState.bytes(o.route, `${p}.route`, 8 * GIC_NR_IRQS);
    const view = new DataView(route.buffer, route.byteOffset, route.length);
    for (let i = 0; i < GIC_NR_IRQS; i++) {
      const lo = view.getUint32(8 * i, true);
      const hi = view.getUint32(8 * i + 4, true);
      if ((lo & ~0x80ff_ffff) !== 0 || (hi & ~0xff) !== 0 || (i < 32 && (lo | hi) !== 0)) throw new StateError(`${p}.route[${i}]`, 'invalid GICD_IROUTER value');
    }
    const gicdCtlr = expectState.integer(o.gicdCtlr, `${p}.gicdCtlr`, 0, 0xff);
    if ((gicdCtlr & ~3) !== GICD_CTLR_FIXED) throw new StateError(`${p}.gicdCtlr`, 'only EnableGrp0/EnableGrp1 may vary');
    const ci = expectState.object(o.cpuInterface, `${p}.cpuInterface`);
    const c = `${p}.cpuInterface`;
    const pmr = expectState.integer(ci.pmr, `${c}.pmr`, 0, 0xff);
    if ((pmr & ~PRI_MASK) !== 0) throw new StateError(`${c}.pmr`, 'unimplemented priority bits set');
    return {
      ...perIrq,
      route,
      gicdCtlr,
      processorSleep: expectState.integer(o.processorSleep, `${p}.processorSleep`, 0, 1),
      cpuInterface: {
        pmr,
        bpr0: expectState.integer(ci.bpr0, `${c}.bpr0`, MIN_BPR0, 7),
        bpr1: expectState.integer(ci.bpr1, `${c}.bpr1`, MIN_BPR1, 7),
        ctlr: expectState.integer(ci.ctlr, `${c}.ctlr`, 0, 3),
        igrpen0: expectState.integer(ci.igrpen0, `${c}.igrpen0`, 0, 1),
        igrpen1: expectState.integer(ci.igrpen1, `${c}.igrpen1`, 0, 1),
        apr0: expectState.integer(ci.apr0, `${c}.apr0`, 0, 0xffff_ffff),
        apr1: expectState.integer(ci.apr1, `${c}.apr1`, 0, 0xffff_ffff),
      },
    };
  }

  load(state: GicV3SavedState): void {
    const s = this.state;
    for (const name of PER_IRQ) s[name].set(state[name]);
    const view = new DataView(state.route.buffer, state.route.byteOffset, state.route.length);
    for (let i = 0; i < GIC_NR_IRQS; i++) {
      s.routeLo[i] = view.getUint32(8 * i, true);
      s.routeHi[i] = view.getUint32(8 * i + 4, true);
    }
    s.gicdCtlr = state.gicdCtlr;
    s.processorSleep = state.processorSleep;
    const ci = state.cpuInterface;
    s.pmr = ci.pmr;
    s.bpr0 = ci.bpr0;
    s.bpr1 = ci.bpr1;
    s.iccCtlr = ci.ctlr;
    s.igrpen0 = ci.igrpen0;
    s.igrpen1 = ci.igrpen1;
    s.apr0 = ci.apr0;
    s.apr1 = ci.apr1;
    s.enabledChanged();
    s.update();
  }
}
