import { Exit, type Cpu } from '../cpu.js';
import { takeSyncException, undefinedInstruction } from '../exception-entry.js';
import { EC } from '../exceptions.js';
import { Insn, JUMP, NEXT, nop } from '../insn.js';
import { R } from '../int64.js';
import { rz, wz } from '../regs.js';
import { Sys } from '../sysreg-state.js';
import { EL0_OK, EL0_TRAP, EL0_UNDEF, lookupSysReg, type SysRegDef } from '../sysregs.js';
import { exitAfter } from './branch-system.js';
import { addressTranslate } from './address-translate.js';
import { dcZeroBlock } from './cache-ops.js';
import { decodeFlagPstate } from './flagm.js';

/**
 * System instructions (C5.2, C6.2.xxx): hints, barriers, MSR (immediate), SYS (cache, address
 * translation and TLB maintenance) and MSR/MRS (register).
 */
export function decodeSystem(word: number, mte: boolean): Insn | null {
  const l = (word >>> 21) & 1;
  const op0 = (word >>> 19) & 3;
  const op1 = (word >>> 16) & 7;
  const crn = (word >>> 12) & 15;
  const crm = (word >>> 8) & 15;
  const op2 = (word >>> 5) & 7;
  const rt = word & 31;
  if (op0 === 0) {
    if (l) return null;
    if (crn === 2 && rt === 31) return decodeHint(word, crm, op2);
    if (crn === 3 && rt === 31) return decodeBarrier(word, crm, op2);
    if (crn === 4 && rt === 31) return decodeFlagPstate(word) ?? decodeMsrImmediate(word, op1, crm, op2, mte);
    return null;
  }
  if (op0 === 1) return l ? null : decodeSys(word, op1, crn, crm, op2, rt, mte);
  const key = (word >>> 5) & 0xffff;
  const def = lookupSysReg(key, mte);
  if (!def) {
    // Unknown to the core: maybe a device's register (GIC CPU interface, timer), decided at run time.
    const insn = new Insn(l ? mrsExternal : msrExternal, word);
    insn.d = l ? wz(rt) : rz(rt);
    insn.s = key;
    return insn;
  }
  if (l ? !def.read : !def.write) return null;
  const insn = new Insn(l ? mrs : msr, word);
  insn.d = l ? wz(rt) : rz(rt); // MRS XZR, ... discards the value
  sysRegDefs[insn.s = registerDef(def)] = def;
  return insn;
}

/** The register an MRS instruction reads (jit/emit-sys.ts compiles some); null for any other instruction. */
export function mrsRegister(insn: Insn): SysRegDef | null {
  return insn.exec === mrs ? sysRegDefs[insn.s]! : null;
}

/** Decoded MRS/MSR instructions refer to their register by index into this list. */
const sysRegDefs: SysRegDef[] = [];
const defIndex = new Map<SysRegDef, number>();

function registerDef(def: SysRegDef): number {
  let index = defIndex.get(def);
  if (index === undefined) {
    index = sysRegDefs.length;
    sysRegDefs.push(def);
    defIndex.set(def, index);
  }
  return index;
}

/** ESR ISS of a trapped MSR/MRS/SYS (EC 0x18). */
function sysTrapIss(word: number, isRead: boolean): number {
  const op0 = (word >>> 19) & 3;
  const op1 = (word >>> 16) & 7;
  const crn = (word >>> 12) & 15;
  const crm = (word >>> 8) & 15;
  const op2 = (word >>> 5) & 7;
  const rt = word & 31;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (isRead ? 1 : 0);
}

/**
 * Access check: UNDEFINED at EL0 unless the register allows it; at EL1 allowed unless its `el1`
 * rule says otherwise. Returns an exception status or -1.
 */
function checkAccess(cpu: Cpu, def: SysRegDef, insn: Insn, isRead: boolean): number {
  let rule: number;
  if (cpu.el !== 0) {
    if (!def.el1) return -1;
    rule = def.el1(cpu, isRead);
  } else {
    rule = def.el0 ? def.el0(cpu, isRead) : EL0_UNDEF;
  }
  if (rule === EL0_OK) return -1;
  if (rule === EL0_TRAP) return takeSyncException(cpu, EC.SYSREG, sysTrapIss(insn.word, isRead));
  return undefinedInstruction(cpu);
}

function mrs(cpu: Cpu, i: Insn): number {
  const def = sysRegDefs[i.s]!;
  const denied = checkAccess(cpu, def, i, true);
  if (denied >= 0) return denied;
  if (def.name === 'SP_EL0' && cpu.spsel === 0) return undefinedInstruction(cpu);
  def.read!(cpu);
  cpu.x[i.d] = R.lo;
  cpu.x[i.d + 1] = R.hi;
  return NEXT;
}

function msr(cpu: Cpu, i: Insn): number {
  const def = sysRegDefs[i.s]!;
  const denied = checkAccess(cpu, def, i, false);
  if (denied >= 0) return denied;
  if (def.name === 'SP_EL0' && cpu.spsel === 0) return undefinedInstruction(cpu);
  def.write!(cpu, cpu.x[i.d]!, cpu.x[i.d + 1]!);
  // Writes may change translation, EL or tag checking: resume through the fetch path.
  return nextAndRefetch(cpu);
}

/** MRS/MSR of a register outside the core: the VMM's hooks decide, UNDEFINED without them. */
function mrsExternal(cpu: Cpu, i: Insn): number {
  const hooks = cpu.sysregHooks;
  const rule = hooks ? hooks.access(cpu, i.s, true) : EL0_UNDEF;
  if (rule === EL0_TRAP) return takeSyncException(cpu, EC.SYSREG, sysTrapIss(i.word, true));
  if (rule !== EL0_OK) return undefinedInstruction(cpu);
  hooks!.read(cpu, i.s);
  cpu.x[i.d] = R.lo;
  cpu.x[i.d + 1] = R.hi;
  return NEXT;
}

function msrExternal(cpu: Cpu, i: Insn): number {
  const hooks = cpu.sysregHooks;
  const rule = hooks ? hooks.access(cpu, i.s, false) : EL0_UNDEF;
  if (rule === EL0_TRAP) return takeSyncException(cpu, EC.SYSREG, sysTrapIss(i.word, false));
  if (rule !== EL0_OK) return undefinedInstruction(cpu);
  hooks!.write(cpu, i.s, cpu.x[i.d]!, cpu.x[i.d + 1]!);
  return nextAndRefetch(cpu);
}

function nextAndRefetch(cpu: Cpu): number {
  const sum = (cpu.pcLo >>> 0) + 4;
  if (sum > 0xffffffff) cpu.pcHi = (cpu.pcHi + 1) | 0;
  cpu.pcLo = sum | 0;
  cpu.refetch = true;
  return JUMP;
}

// ---- hints and barriers ----

function decodeHint(word: number, crm: number, op2: number): Insn {
  if (crm === 0 && op2 === 3) return new Insn(wfi, word);
  if (crm === 0 && op2 === 2) return new Insn(wfe, word);
  // NOP, YIELD, SEV, SEVL, DGH, ESB, PSB, TSB, CSDB, BTI, and (without FEAT_PAuth) the PAC hints:
  // every other hint executes as a NOP, as the architecture requires for unallocated hints.
  return new Insn(nop, word);
}

/** WFI at EL0 traps unless SCTLR_EL1.nTWI; otherwise the VMM decides how long to idle. */
function wfi(cpu: Cpu): number {
  if (cpu.el === 0 && (cpu.sysLo(Sys.SCTLR_EL1) & (1 << 16)) === 0) return takeSyncException(cpu, EC.WFX, (1 << 24) | (0xe << 20));
  return exitAfter(cpu, Exit.WFI, 0);
}

/** WFE may complete at any time; without other PEs sending events it is a NOP (after the EL0 trap check). */
function wfe(cpu: Cpu): number {
  if (cpu.el === 0 && (cpu.sysLo(Sys.SCTLR_EL1) & (1 << 18)) === 0) return takeSyncException(cpu, EC.WFX, (1 << 24) | (0xe << 20) | 1);
  return NEXT;
}

function decodeBarrier(word: number, crm: number, op2: number): Insn | null {
  switch (op2) {
    case 2:
      return new Insn(clrex, word);
    case 4:
    case 5:
    case 7:
      return new Insn(nop, word); // DSB, DMB, SB: a single in-order PE needs no ordering work
    case 6:
      return new Insn(isb, word);
    default:
      void crm;
      return null;
  }
}

function clrex(cpu: Cpu): number {
  cpu.exclusivePa = -1;
  return NEXT;
}

/** ISB (jit/emit-sys.ts compiles it while the run loop's refetch would find nothing to do). */
export function isIsb(insn: Insn): boolean {
  return insn.exec === isb;
}

/** The PSTATE.DAIF accesses the JIT compiles (jit/emit-sys.ts), with the bits DAIFSet/DAIFClr name. */
export type DaifAccess = { readonly kind: 'read' | 'write' } | { readonly kind: 'set' | 'clear'; readonly bits: number };

/** MRS/MSR DAIF and MSR DAIFSet/DAIFClr as the interpreter runs them (mrs, msr, msrImmediate); null otherwise. */
export function daifAccess(insn: Insn): DaifAccess | null {
  if ((insn.exec === mrs || insn.exec === msr) && sysRegDefs[insn.s]!.name === 'DAIF') return { kind: insn.exec === mrs ? 'read' : 'write' };
  if (insn.exec === msrImmediate && (insn.s === PSTATE_DAIFSET || insn.s === PSTATE_DAIFCLR)) return { kind: insn.s === PSTATE_DAIFSET ? 'set' : 'clear', bits: (insn.t << 6) & 0x3c0 };
  return null;
}

/** Cache maintenance by VA (DC CVAC/CVAU/CIVAC..., IC IVAU): nothing to do above EL0 (el0CacheNop). */
export function isCacheMaintenance(insn: Insn): boolean {
  return insn.exec === el0CacheNop;
}

function isb(cpu: Cpu): number {
  return nextAndRefetch(cpu);
}

// ---- MSR (immediate) ----

const PSTATE_SPSEL = 0x05;
const PSTATE_DAIFSET = 0x1e;
const PSTATE_DAIFCLR = 0x1f;
const PSTATE_UAO = 0x03;
const PSTATE_PAN = 0x04;
const PSTATE_DIT = 0x1a;
const PSTATE_SSBS = 0x19;
const PSTATE_TCO = 0x1c;

function decodeMsrImmediate(word: number, op1: number, crm: number, op2: number, mte: boolean): Insn | null {
  const field = (op1 << 3) | op2;
  const known = [PSTATE_SPSEL, PSTATE_DAIFSET, PSTATE_DAIFCLR, PSTATE_UAO, PSTATE_PAN, PSTATE_DIT, PSTATE_SSBS];
  if (mte) known.push(PSTATE_TCO);
  if (!known.includes(field)) return null;
  const insn = new Insn(msrImmediate, word);
  insn.s = field;
  insn.t = crm;
  return insn;
}

function msrImmediate(cpu: Cpu, i: Insn): number {
  const crm = i.t;
  if (cpu.el === 0) {
    switch (i.s) {
      case PSTATE_DAIFSET:
      case PSTATE_DAIFCLR:
        if ((cpu.sysLo(Sys.SCTLR_EL1) & (1 << 9)) === 0) return takeSyncException(cpu, EC.SYSREG, sysTrapIss(i.word, false));
        break;
      case PSTATE_SPSEL:
      case PSTATE_UAO:
      case PSTATE_PAN:
        return undefinedInstruction(cpu);
    }
  }
  switch (i.s) {
    case PSTATE_SPSEL:
      cpu.setElSp(cpu.el, crm & 1);
      break;
    case PSTATE_DAIFSET:
      cpu.daif |= (crm << 6) & 0x3c0;
      break;
    case PSTATE_DAIFCLR:
      cpu.daif &= ~((crm << 6) & 0x3c0);
      break;
    case PSTATE_UAO:
      cpu.uao = crm & 1;
      break;
    case PSTATE_PAN:
      cpu.setPan(crm & 1);
      break;
    case PSTATE_DIT:
      cpu.dit = crm & 1;
      break;
    case PSTATE_SSBS:
      cpu.ssbs = crm & 1;
      break;
    case PSTATE_TCO:
      cpu.setTco(crm & 1);
      break;
  }
  return nextAndRefetch(cpu);
}

// ---- SYS: cache maintenance, address translation, TLB maintenance ----

const UCI = 1 << 26; // SCTLR_EL1.UCI: EL0 cache maintenance by VA
const DZE = 1 << 14; // SCTLR_EL1.DZE: EL0 DC ZVA / GVA / GZVA

function decodeSys(word: number, op1: number, crn: number, crm: number, op2: number, rt: number, mte: boolean): Insn | null {
  const make = (exec: (cpu: Cpu, i: Insn) => number, el0Bit = 0): Insn => {
    const insn = new Insn(exec, word);
    insn.d = rz(rt);
    insn.t = el0Bit;
    return insn;
  };
  if (crn === 8 && op1 === 0) return make(tlbi);
  if (crn !== 7) return null;
  if (op1 === 0) {
    if ((crm === 1 || crm === 5) && op2 === 0) return make(el1Nop); // IC IALLUIS, IC IALLU
    if (crm === 8 && op2 <= 3) return make(addressTranslateInsn);
    if (crm === 9 && op2 <= 1) return make(addressTranslateInsn); // AT S1E1RP/WP (FEAT_PAN2)
    if (crm === 6 && (op2 === 1 || op2 === 2)) return make(el1Nop); // DC IVAC, DC ISW
    if ((crm === 10 || crm === 14) && op2 === 2) return make(el1Nop); // DC CSW, DC CISW
    // FEAT_MTE: DC IGVAC/IGSW/IGDVAC/IGDSW, DC CGSW/CGDSW, DC CIGSW/CIGDSW.
    if (mte && ((crm === 6 && op2 >= 3 && op2 <= 6) || ((crm === 10 || crm === 14) && (op2 === 4 || op2 === 6)))) return make(el1Nop);
    return null;
  }
  if (op1 !== 3) return null;
  if (crm === 5 && op2 === 1) return make(el0CacheNop, UCI); // IC IVAU
  if (crm === 4 && op2 === 1) return make(dcZva, DZE);
  if (mte && crm === 4 && (op2 === 3 || op2 === 4)) {
    const insn = make(dcZva, DZE);
    insn.s = op2 === 3 ? 1 : 2; // DC GVA: tags only; DC GZVA: tags and data
    return insn;
  }
  const cleanOps = [10, 11, 12, 13, 14];
  if (cleanOps.includes(crm) && op2 === 1) return make(el0CacheNop, UCI); // DC CVAC/CVAU/CVAP/CVADP/CIVAC
  if (mte && [10, 12, 13, 14].includes(crm) && (op2 === 3 || op2 === 5)) return make(el0CacheNop, UCI); // DC C*GVA*
  return null;
}

function trapOrUndefAtEl0(cpu: Cpu, i: Insn): number {
  if (i.t !== 0 && (cpu.sysLo(Sys.SCTLR_EL1) & i.t) === 0) return takeSyncException(cpu, EC.SYSREG, sysTrapIss(i.word, false));
  return -1;
}

function tlbi(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) return undefinedInstruction(cpu);
  const crm = (i.word >>> 8) & 15;
  // VAE1, VAAE1, VALE1, VAALE1 (odd op2) and their IS/OS forms act on one VA; the rest (by ASID, all, ranges) flush everything.
  if ((crm === 1 || crm === 3 || crm === 7) && ((i.word >>> 5) & 1) === 1) cpu.flushTlbVa(cpu.x[i.d]!, cpu.x[i.d + 1]!);
  else cpu.flushTlb();
  return nextAndRefetch(cpu);
}

function el1Nop(cpu: Cpu): number {
  return cpu.el === 0 ? undefinedInstruction(cpu) : NEXT;
}

/** Cache maintenance by VA: the emulated caches are coherent, so only the EL0 permission matters. */
function el0CacheNop(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) {
    const trapped = trapOrUndefAtEl0(cpu, i);
    if (trapped >= 0) return trapped;
  }
  return NEXT;
}

/** DC ZVA (not GVA/GZVA): jit/emit-sys.ts compiles its untagged-page case. */
export function isDcZva(insn: Insn): boolean {
  return insn.exec === dcZva && insn.s === 0;
}

function dcZva(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) {
    const trapped = trapOrUndefAtEl0(cpu, i);
    if (trapped >= 0) return trapped;
  }
  return dcZeroBlock(cpu, cpu.x[i.d]!, cpu.x[i.d + 1]!, i.s);
}

function addressTranslateInsn(cpu: Cpu, i: Insn): number {
  if (cpu.el === 0) return undefinedInstruction(cpu);
  const op2 = (i.word >>> 5) & 7;
  const pan = ((i.word >>> 8) & 15) === 9;
  addressTranslate(cpu, cpu.x[i.d]!, cpu.x[i.d + 1]!, (op2 & 1) !== 0, op2 >= 2 && !pan ? 0 : 1, pan);
  return NEXT;
}
