import { expectState, since, StateError, type Shape, type Stateful } from '../common/persist.js';
import { type Cpu, FPCR_MASK, FPSR_MASK, SP_SLOT, Sys, SYS_NAMES, type SysName } from '../cpu/index.js';

/** Everything architectural about a vCPU that a snapshot or migration must carry. */
export interface VcpuState {
  /** x0..x30, 8 bytes each, little-endian. */
  readonly x: Uint8Array;
  readonly pc: Uint8Array;
  /** PSTATE fields, including TCO (MTE). */
  readonly pstate: {
    readonly nzcv: number;
    readonly el: number;
    readonly spsel: number;
    readonly daif: number;
    readonly tco: number;
    readonly pan: number;
    readonly uao: number;
    readonly dit: number;
    readonly ssbs: number;
    readonly il: number;
  };
  /** Every value-holding system register by name (SCTLR_EL1, GCR_EL1, RGSR_EL1, TFSR_EL1, ...). */
  readonly sysregs: Readonly<Record<string, Uint8Array>>;
  /** Instructions executed and idle ticks: the virtual counter must not jump across a migration. */
  readonly counter: { readonly instructions: number; readonly idleTicks: number };
  readonly tagCheckFaults: number;
  /** SIMD&FP state (version 3 on): V0..V31 (16 bytes each, little-endian), FPCR, FPSR. */
  readonly fp?: { readonly v: Uint8Array; readonly fpcr: number; readonly fpsr: number };
}

/** The state version that added `fp`. */
const FP_SINCE = 3;

function pack(lo: number, hi: number, out: Uint8Array, at: number): void {
  const view = new DataView(out.buffer, out.byteOffset);
  view.setInt32(at, lo, true);
  view.setInt32(at + 4, hi, true);
}

function unpack(bytes: Uint8Array, at: number): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [view.getInt32(at, true), view.getInt32(at + 4, true)];
}

/**
 * The system registers of state version 1. A register added later is listed in SYSREG_ADDED
 * with the version that added it (and stateVersion goes up), so that older files, which lack
 * it, still load (it keeps its reset value) while newer ones must carry it.
 */
export const SYSREGS_V1: readonly SysName[] = [
  'SCTLR_EL1', 'ACTLR_EL1', 'CPACR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'TCR_EL1', 'SPSR_EL1', 'ELR_EL1', 'SP_EL0', 'SP_EL1',
  'AFSR0_EL1', 'AFSR1_EL1', 'ESR_EL1', 'FAR_EL1', 'PAR_EL1', 'MAIR_EL1', 'AMAIR_EL1', 'VBAR_EL1', 'CONTEXTIDR_EL1',
  'TPIDR_EL1', 'TPIDR_EL0', 'TPIDRRO_EL0', 'CNTKCTL_EL1', 'GCR_EL1', 'RGSR_EL1', 'TFSR_EL1', 'TFSRE0_EL1', 'MDSCR_EL1',
  'CSSELR_EL1', 'OSDLR_EL1', 'OSLSR_EL1',
];
/** Version 2: the Armv8.0 debug registers and SCXTNUM_ELx. */
const SYSREGS_V2: readonly SysName[] = [
  'DBGBVR0_EL1', 'DBGBVR1_EL1', 'DBGBVR2_EL1', 'DBGBVR3_EL1', 'DBGBVR4_EL1', 'DBGBVR5_EL1',
  'DBGBCR0_EL1', 'DBGBCR1_EL1', 'DBGBCR2_EL1', 'DBGBCR3_EL1', 'DBGBCR4_EL1', 'DBGBCR5_EL1',
  'DBGWVR0_EL1', 'DBGWVR1_EL1', 'DBGWVR2_EL1', 'DBGWVR3_EL1', 'DBGWCR0_EL1', 'DBGWCR1_EL1', 'DBGWCR2_EL1', 'DBGWCR3_EL1',
  'DBGCLAIM_EL1', 'DBGPRCR_EL1', 'SCXTNUM_EL0', 'SCXTNUM_EL1',
];
/** Version 3 (with the SIMD&FP state): CNTFRQ_EL0, writable at EL1 as on hardware. */
const SYSREGS_V3: readonly SysName[] = ['CNTFRQ_EL0'];
export const SYSREG_ADDED: Partial<Record<SysName, number>> = Object.fromEntries([
  ...SYSREGS_V2.map((name) => [name, 2]),
  ...SYSREGS_V3.map((name) => [name, 3]),
]);

/** The version of the vCPU state that first carries register `name`. */
export function sysregSince(name: SysName): number {
  return SYSREGS_V1.includes(name) ? 1 : (SYSREG_ADDED[name] ?? Infinity);
}

const PSTATE_FIELDS = ['nzcv', 'el', 'spsel', 'daif', 'tco', 'pan', 'uao', 'dit', 'ssbs', 'il'] as const;

/** Save/restore of one vCPU (section name "vcpu<id>"). */
export class VcpuPersistence implements Stateful<VcpuState> {
  readonly stateVersion = 3;

  constructor(
    private readonly cpu: Cpu,
    readonly stateName: string,
  ) {}

  save(): VcpuState {
    const cpu = this.cpu;
    const x = new Uint8Array(31 * 8);
    for (let n = 0; n < 31; n++) pack(cpu.x[n * 2]!, cpu.x[n * 2 + 1]!, x, n * 8);
    const pc = new Uint8Array(8);
    pack(cpu.pcLo, cpu.pcHi, pc, 0);
    const sysregs: Record<string, Uint8Array> = {};
    for (const name of SYS_NAMES.filter((n) => sysregSince(n) <= this.stateVersion)) {
      const value = new Uint8Array(8);
      const index = Sys[name];
      const [lo, hi] = index === Sys.SP_EL0 || index === Sys.SP_EL1 ? cpu.bankedSp(index) : [cpu.sysLo(index), cpu.sysHi(index)];
      pack(lo, hi, value, 0);
      sysregs[name] = value;
    }
    return {
      x,
      pc,
      pstate: {
        nzcv: (cpu.nf << 3) | (cpu.zf << 2) | (cpu.cf << 1) | cpu.vf,
        el: cpu.el,
        spsel: cpu.spsel,
        daif: cpu.daif,
        tco: cpu.tco,
        pan: cpu.pan,
        uao: cpu.uao,
        dit: cpu.dit,
        ssbs: cpu.ssbs,
        il: cpu.il,
      },
      sysregs,
      counter: { instructions: cpu.icount, idleTicks: cpu.idleTicks },
      tagCheckFaults: cpu.tagFaultCount,
      fp: { v: cpu.vb.slice(), fpcr: cpu.fpcr >>> 0, fpsr: cpu.fpsr >>> 0 },
    };
  }

  stateShape(): Shape {
    return {
      fields: {
        x: 'bytes',
        pc: 'bytes',
        pstate: { fields: Object.fromEntries(PSTATE_FIELDS.map((n) => [n, 'integer' as const])) },
        sysregs: { fields: Object.fromEntries(SYS_NAMES.map((n) => [n, since(sysregSince(n), 'bytes')])) },
        counter: { fields: { instructions: 'integer', idleTicks: 'integer' } },
        tagCheckFaults: 'integer',
        fp: since(FP_SINCE, { fields: { v: 'bytes', fpcr: 'integer', fpsr: 'integer' } }),
      },
    };
  }

  check(untrusted: unknown, version: number): VcpuState {
    const path = this.stateName;
    if (version < 1 || version > this.stateVersion) throw new StateError(path, `unsupported state version ${version}`);
    const s = expectState.object(untrusted, path);
    expectState.bytes(s.x, `${path}.x`, 31 * 8);
    expectState.bytes(s.pc, `${path}.pc`, 8);
    const p = expectState.object(s.pstate, `${path}.pstate`);
    expectState.integer(p.nzcv, `${path}.pstate.nzcv`, 0, 15);
    expectState.integer(p.el, `${path}.pstate.el`, 0, 1);
    expectState.integer(p.spsel, `${path}.pstate.spsel`, 0, 1);
    const daif = expectState.integer(p.daif, `${path}.pstate.daif`, 0, 0x3c0);
    if ((daif & ~0x3c0) !== 0) throw new StateError(`${path}.pstate.daif`, 'bits outside D, A, I, F');
    for (const bit of ['tco', 'pan', 'uao', 'dit', 'ssbs', 'il'] as const) expectState.integer(p[bit], `${path}.pstate.${bit}`, 0, 1);
    if (p.tco === 1 && !this.cpu.mte) throw new StateError(`${path}.pstate.tco`, 'TCO set on a vCPU without MTE');
    const regs = expectState.object(s.sysregs, `${path}.sysregs`);
    for (const [name, value] of Object.entries(regs)) {
      if (!(SYS_NAMES as readonly string[]).includes(name)) throw new StateError(`${path}.sysregs`, `unknown register ${name}`);
      expectState.bytes(value, `${path}.sysregs.${name}`, 8);
    }
    const counter = expectState.object(s.counter, `${path}.counter`);
    expectState.integer(counter.instructions, `${path}.counter.instructions`, 0, Number.MAX_SAFE_INTEGER);
    expectState.integer(counter.idleTicks, `${path}.counter.idleTicks`, 0, Number.MAX_SAFE_INTEGER);
    expectState.integer(s.tagCheckFaults, `${path}.tagCheckFaults`, 0, Number.MAX_SAFE_INTEGER);
    if (version >= FP_SINCE) {
      const fp = expectState.object(s.fp, `${path}.fp`);
      expectState.bytes(fp.v, `${path}.fp.v`, 32 * 16);
      const fpcr = expectState.integer(fp.fpcr, `${path}.fp.fpcr`, 0, 0xffffffff);
      const fpsr = expectState.integer(fp.fpsr, `${path}.fp.fpsr`, 0, 0xffffffff);
      if ((fpcr & ~FPCR_MASK) !== 0) throw new StateError(`${path}.fp.fpcr`, 'bits this CPU does not implement');
      if ((fpsr & ~FPSR_MASK) !== 0) throw new StateError(`${path}.fp.fpsr`, 'bits this CPU does not implement');
    }
    return untrusted as VcpuState;
  }

  load(state: VcpuState): void {
    const cpu = this.cpu;
    cpu.reset();
    for (let n = 0; n < 31; n++) [cpu.x[n * 2], cpu.x[n * 2 + 1]] = unpack(state.x, n * 8);
    [cpu.pcLo, cpu.pcHi] = unpack(state.pc, 0);
    for (const [name, value] of Object.entries(state.sysregs)) {
      const [lo, hi] = unpack(value, 0);
      cpu.setSys(Sys[name as SysName], lo, hi);
    }
    const p = state.pstate;
    cpu.nf = (p.nzcv >>> 3) & 1;
    cpu.zf = (p.nzcv >>> 2) & 1;
    cpu.cf = (p.nzcv >>> 1) & 1;
    cpu.vf = p.nzcv & 1;
    cpu.el = p.el;
    cpu.spsel = p.spsel;
    cpu.daif = p.daif;
    cpu.tco = p.tco;
    cpu.pan = p.pan;
    cpu.uao = p.uao;
    cpu.dit = p.dit;
    cpu.ssbs = p.ssbs;
    cpu.il = p.il;
    // The live SP comes from the bank that (el, spsel) selects.
    const bank = p.el === 0 || p.spsel === 0 ? Sys.SP_EL0 : Sys.SP_EL1;
    cpu.x[SP_SLOT * 2] = cpu.sysLo(bank);
    cpu.x[SP_SLOT * 2 + 1] = cpu.sysHi(bank);
    cpu.icount = state.counter.instructions;
    cpu.idleTicks = state.counter.idleTicks;
    cpu.tagFaultCount = state.tagCheckFaults;
    if (state.fp) {
      cpu.vb.set(state.fp.v);
      cpu.fpcr = state.fp.fpcr;
      cpu.fpsr = state.fp.fpsr;
    }
    cpu.flushTlb();
    cpu.updateControl();
    cpu.refetch = true;
  }
}
