import { type Cpu, FPCR_MASK, FPSR_MASK, pstateToSpsr, PSR, R, toBig, SP_SLOT, allSysRegs, type SysRegDef, Sys } from '../../cpu/index.js';
import { DebugError } from './errors.js';

/** Which target-description feature a register belongs to (see gdb/target-xml.ts). */
export type RegisterFeature = 'core' | 'mte' | 'system' | 'fpu';

export interface RegisterInfo {
  /** Lower-case name, as gdb shows it ($x0, $sctlr_el1...). */
  readonly name: string;
  readonly bits: 32 | 64 | 128;
  readonly feature: RegisterFeature;
  /** gdb target-description type: int, code_ptr, data_ptr, uint64, cpsr_flags, aarch64v. */
  readonly type: string;
  readonly writable: boolean;
}

interface RegisterImpl extends RegisterInfo {
  get(cpu: Cpu): bigint;
  set?(cpu: Cpu, value: bigint): void;
}

const lo32 = (value: bigint): number => Number(BigInt.asIntN(32, value));
const hi32 = (value: bigint): number => Number(BigInt.asIntN(32, value >> 32n));

/** System registers worth seeing in a debugger, by the names sysregs.ts gives them. */
const SYSTEM_REGISTERS = [
  'SCTLR_EL1', 'TCR_EL1', 'MAIR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'VBAR_EL1',
  'ESR_EL1', 'FAR_EL1', 'ELR_EL1', 'SPSR_EL1', 'PAR_EL1', 'SP_EL0',
  'TPIDR_EL0', 'TPIDR_EL1', 'CONTEXTIDR_EL1', 'CurrentEL',
  'GCR_EL1', 'RGSR_EL1', 'TFSR_EL1', 'TFSRE0_EL1',
];

const POINTER_TYPES: Record<string, string> = { VBAR_EL1: 'code_ptr', ELR_EL1: 'code_ptr', FAR_EL1: 'data_ptr', SP_EL0: 'data_ptr', SP_EL1: 'data_ptr' };

function core(): RegisterImpl[] {
  const regs: RegisterImpl[] = [];
  for (let n = 0; n <= 30; n++) {
    regs.push({
      name: `x${n}`, bits: 64, feature: 'core', type: 'int', writable: true,
      get: (cpu) => toBig(cpu.x[n * 2]!, cpu.x[n * 2 + 1]!),
      set: (cpu, v) => {
        cpu.x[n * 2] = lo32(v);
        cpu.x[n * 2 + 1] = hi32(v);
      },
    });
  }
  regs.push({
    name: 'sp', bits: 64, feature: 'core', type: 'data_ptr', writable: true,
    get: (cpu) => toBig(cpu.x[SP_SLOT * 2]!, cpu.x[SP_SLOT * 2 + 1]!),
    set: (cpu, v) => {
      cpu.x[SP_SLOT * 2] = lo32(v);
      cpu.x[SP_SLOT * 2 + 1] = hi32(v);
    },
  });
  regs.push({
    name: 'pc', bits: 64, feature: 'core', type: 'code_ptr', writable: true,
    get: (cpu) => toBig(cpu.pcLo, cpu.pcHi),
    set: (cpu, v) => {
      cpu.pcLo = lo32(v);
      cpu.pcHi = hi32(v);
      cpu.refetch = true;
    },
  });
  regs.push({ name: 'cpsr', bits: 32, feature: 'core', type: 'cpsr_flags', writable: true, get: (cpu) => BigInt(pstateToSpsr(cpu) >>> 0), set: writeCpsr });
  return regs;
}

/** PSTATE from a cpsr value: flags, DAIF, TCO, PAN, UAO, DIT, SSBS, and EL/SPSel when legal. */
function writeCpsr(cpu: Cpu, value: bigint): void {
  const v = Number(value & 0xffff_ffffn);
  const mode = v & 0x1f;
  if (mode !== 0 && mode !== 4 && mode !== 5) throw new DebugError('read-only-register', `cpsr mode ${mode.toString(2)} is not EL0t, EL1t or EL1h`);
  cpu.nf = (v >>> PSR.N) & 1;
  cpu.zf = (v >>> PSR.Z) & 1;
  cpu.cf = (v >>> PSR.C) & 1;
  cpu.vf = (v >>> PSR.V) & 1;
  cpu.daif = v & 0x3c0;
  cpu.uao = (v >>> PSR.UAO) & 1;
  cpu.dit = (v >>> PSR.DIT) & 1;
  cpu.ssbs = (v >>> PSR.SSBS) & 1;
  cpu.setPan((v >>> PSR.PAN) & 1);
  if (cpu.mte) cpu.tco = (v >>> PSR.TCO) & 1;
  cpu.setElSp(mode >>> 2, mode & 1); // also recomputes derived state (TCO, EL)
  cpu.refetch = true;
}

/**
 * Linux's tagged-address control (prctl PR_SET_TAGGED_ADDR_CTRL), which gdb's MTE feature shows
 * as `tag_ctl`, synthesised from the EL0 controls: bit 0 TBI0, bits 2:1 the EL0 tag-check mode
 * (TCF0: sync 1, async 2, asymmetric 3), bits 18:3 the tags IRG may choose (~GCR_EL1.Exclude).
 * Read-only: a bare-metal guest has no prctl.
 */
function tagCtl(cpu: Cpu): bigint {
  const tbi0 = cpu.tbi0 ? 1 : 0;
  const tcf0 = cpu.tagCheckMode(0);
  const include = ~cpu.sysLo(Sys.GCR_EL1) & 0xffff;
  return BigInt(tbi0 | (tcf0 << 1) | (include << 3));
}

function system(mte: boolean): RegisterImpl[] {
  const byName = new Map<string, SysRegDef>();
  for (const def of allSysRegs().values()) byName.set(def.name, def);
  const regs: RegisterImpl[] = [];
  for (const name of SYSTEM_REGISTERS) {
    const def = byName.get(name);
    if (!def?.read || (def.mte && !mte)) continue;
    const read = def.read;
    const write = def.write;
    regs.push({
      name: name.toLowerCase(), bits: 64, feature: 'system', type: POINTER_TYPES[name] ?? 'uint64', writable: write !== undefined,
      get: (cpu) => {
        read(cpu);
        return toBig(R.lo, R.hi);
      },
      ...(write ? { set: (cpu: Cpu, v: bigint) => write(cpu, lo32(v), hi32(v)) } : {}),
    });
  }
  regs.push({
    name: 'sp_el1', bits: 64, feature: 'system', type: 'data_ptr', writable: true,
    get: (cpu) => {
      const [lo, hi] = cpu.bankedSp(Sys.SP_EL1);
      return toBig(lo, hi);
    },
    set: (cpu, v) => cpu.setBankedSp(Sys.SP_EL1, lo32(v), hi32(v)),
  });
  return regs;
}

/**
 * SIMD&FP registers (gdb's org.gnu.gdb.aarch64.fpu feature): v0..v31 as 128-bit values
 * (little-endian lanes), then fpsr and fpcr; writes keep only the bits the CPU implements.
 */
function fpu(): RegisterImpl[] {
  const regs: RegisterImpl[] = [];
  for (let n = 0; n < 32; n++) {
    regs.push({
      name: `v${n}`, bits: 128, feature: 'fpu', type: 'aarch64v', writable: true,
      get: (cpu) => {
        let value = 0n;
        for (let b = 15; b >= 0; b--) value = (value << 8n) | BigInt(cpu.vb[n * 16 + b]!);
        return value;
      },
      set: (cpu, v) => {
        for (let b = 0; b < 16; b++) cpu.vb[n * 16 + b] = Number((v >> BigInt(8 * b)) & 0xffn);
      },
    });
  }
  regs.push({ name: 'fpsr', bits: 32, feature: 'fpu', type: 'int', writable: true, get: (cpu) => BigInt(cpu.fpsr >>> 0), set: (cpu, v) => void (cpu.fpsr = Number(v) & FPSR_MASK) });
  regs.push({ name: 'fpcr', bits: 32, feature: 'fpu', type: 'int', writable: true, get: (cpu) => BigInt(cpu.fpcr >>> 0), set: (cpu, v) => void (cpu.fpcr = Number(v) & FPCR_MASK) });
  return regs;
}

/**
 * The registers a debugger sees, in gdb's numbering: x0..x30, sp, pc, cpsr (the
 * org.gnu.gdb.aarch64.core feature), then tag_ctl (org.gnu.gdb.aarch64.mte, when the VM has MTE),
 * then system registers, then v0..v31, fpsr, fpcr (org.gnu.gdb.aarch64.fpu; last, so the
 * numbers of the others did not move when they came).
 */
export class RegisterFile {
  private readonly regs: RegisterImpl[];
  readonly list: readonly RegisterInfo[];

  constructor(
    private readonly cpu: Cpu,
    /** Called after every register write (translation controls may have changed). */
    private readonly onWrite: () => void = () => {},
    /** Called before every access with what it is; throws to refuse (a protected VM, inspection.ts). */
    private readonly gate: (what: string) => void = () => {},
  ) {
    const mte: RegisterImpl[] = cpu.mte ? [{ name: 'tag_ctl', bits: 64, feature: 'mte', type: 'uint64', writable: false, get: tagCtl }] : [];
    this.regs = [...core(), ...mte, ...system(cpu.mte), ...fpu()];
    this.list = this.regs.map(({ name, bits, feature, type, writable }) => ({ name, bits, feature, type, writable }));
  }

  get count(): number {
    return this.regs.length;
  }

  indexOf(name: string): number {
    return this.regs.findIndex((r) => r.name === name);
  }

  read(index: number): bigint {
    const reg = this.impl(index);
    this.gate(`read of register ${reg.name}`);
    return reg.get(this.cpu);
  }

  /** Every register, in order (gdb's `g`): one access. */
  readAll(): bigint[] {
    this.gate('read of all registers');
    return this.regs.map((reg) => reg.get(this.cpu));
  }

  /** Writes a register (through the system-register model, so side effects apply). */
  write(index: number, value: bigint): void {
    const reg = this.impl(index);
    if (!reg.set) throw new DebugError('read-only-register', `${reg.name} is read-only`);
    this.gate(`write of register ${reg.name}`);
    reg.set(this.cpu, BigInt.asUintN(reg.bits, value));
    this.onWrite();
  }

  /** Every register by name (the monitor's query-cpus). */
  snapshot(): Record<string, bigint> {
    this.gate('read of all registers');
    const out: Record<string, bigint> = {};
    for (const reg of this.regs) out[reg.name] = reg.get(this.cpu);
    return out;
  }

  private impl(index: number): RegisterImpl {
    const reg = Number.isInteger(index) ? this.regs[index] : undefined;
    if (!reg) throw new DebugError('bad-register', `no register number ${index}`);
    return reg;
  }
}
