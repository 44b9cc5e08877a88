/**
 * The system-register family of the generated tests (seeds >= SYSREG_SEEDS_FROM): MRS/MSR at EL1
 * with random values, the SCTLR_EL1 / CNTKCTL_EL1 / MDSCR_EL1 bits that open or close EL0 access,
 * and an EL0 tail (ERET to EL0 inside the payload, then EL0 accesses, then BRK: the run ends
 * with the harness's exception report, registers included).
 *
 * What QEMU -cpu max and Tagvisor do differently by design is not generated, or its value is
 * overwritten right after the read ("clobbered": the access and its trap behaviour are still
 * compared). Each case, with the Arm ARM reason (DDI 0487, section names):
 *  - ID register values (MIDR_EL1, ID_AA64*, AArch32 ID registers, CCSIDR/CLIDR): Tagvisor
 *    advertises only what it implements (docs/cpu.md) - clobbered; their traps are compared.
 *  - CNTFRQ_EL0, CNTVCT_EL0, CNTPCT_EL0: frequency and counter differ (deterministic instruction
 *    counter here) - clobbered.
 *  - PMU registers (PMCR_EL0...): ID_AA64DFR0_EL1.PMUVer = 0 here, so they are UNDEFINED
 *    (D13 "The Performance Monitors Extension"); QEMU implements PMUv3. Not generated.
 *  - ERRIDR_EL1/DISR_EL1 (RAS), LORSA_EL1.. (LOR), RNDR, ZCR_EL1, APIAKeyLo_EL1...: features QEMU
 *    has and Tagvisor does not advertise (ID_AA64PFR0.RAS, MMFR1.LO, ISAR0.RNDR...). Not generated.
 *  - DBGPRCR_EL1, DBGAUTHSTATUS_EL1, DBGDTR_EL0: present in every Armv8 debug implementation
 *    (D2 "AArch64 Self-hosted Debug", D19 register descriptions); QEMU 10 leaves them UNDEFINED.
 *    Not generated (tests/cpu/sysregs-debug.test.ts covers them).
 *  - RES0 bits: the Arm ARM lets an implementation store them or ignore them (Glossary, RES0);
 *    QEMU stores most, Tagvisor ignores them, so written values keep to the defined fields
 *    (CONTEXTIDR_EL1, ESR_EL1, SPSR_EL1: bits 31:0; CNTKCTL_EL1: bits 9:0; MDSCR_EL1, GCR_EL1,
 *    RGSR_EL1, TFSR*_EL1: their fields).
 *  - MDSCR_EL1.SS, KDE, MDE are never set: breakpoints, watchpoints and software step are not
 *    implemented here (docs/cpu.md), and with them clear no debug exception can occur.
 *  - MSR DAIFSet/DAIFClr at EL0 with SCTLR_EL1.UMA = 0: QEMU 10 swaps Op1 and Op2 in the ISS of
 *    the trap (ESR_ELx, ISS encoding for EC 0x18; see test/support/golden.ts). Not generated
 *    at EL0; the register form MSR DAIF, Xt is.
 *  - MSR CNTFRQ_EL0 at EL1 is generated (writable at the highest implemented EL, D11 "The
 *    Generic Timer"): both store bits 31:0.
 */
import * as E from './encode.js';
import type { Rng } from './rng.js';

/** Seeds from here on draw the system-register family (seeds 1..120 keep their old cases). */
export const SYSREG_SEEDS_FROM = 1000;

/** What the family needs from the generator. */
export interface SysregContext {
  readonly rng: Rng;
  /** Exceptions may end the run (UNDEFINED and trapping accesses at EL1). */
  readonly otherFaults: boolean;
  emit(...words: number[]): void;
  note(text: string): void;
  reg(): number;
  regExcept(...avoid: number[]): number;
  movImm64(r: number, value: bigint): void;
}

type Enc = readonly [op0: number, op1: number, crn: number, crm: number, op2: number];

/** How a read is compared: the value itself, or only whether it traps ("clobber"). */
type ReadKind = 'value' | 'clobber';

interface Reg {
  readonly name: string;
  readonly enc: Enc;
  readonly read?: ReadKind;
  /** Random value for an MSR; absent: not written (read-only, or writing it breaks the harness). */
  readonly write?: (rng: Rng) => bigint;
}

const MASK32 = 0xffff_ffffn;
const u64 = (rng: Rng): bigint => rng.u64();
const masked = (mask: bigint) => (rng: Rng): bigint => rng.u64() & mask;
const small = (rng: Rng): bigint => BigInt(rng.below(4));

const mrs = (e: Enc, rt: number): number => (0xd5300000 | ((e[0] & 1) << 19) | (e[1] << 16) | (e[2] << 12) | (e[3] << 8) | (e[4] << 5) | (rt & 31)) >>> 0;
const msr = (e: Enc, rt: number): number => (mrs(e, rt) & ~(1 << 21)) >>> 0;
const ERET = 0xd69f03e0;
/**
 * The EL0 tail ends with BRK #0xe10 (reported by the harness with the registers). Not SVC: the
 * guest runtime treats SVC #0 from EL0 as an EL0 task's return (guests/README.md).
 */
const EL0_TAIL_END = 0xe10;

/** MDSCR_EL1 fields except SS, KDE and MDE (see the header). */
const MDSCR_SAFE = 0x6ce05040n;

function debugRegs(): Reg[] {
  const regs: Reg[] = [];
  for (let n = 0; n < 6; n++) {
    regs.push({ name: `dbgbvr${n}_el1`, enc: [2, 0, 0, n, 4], read: 'value', write: u64 });
    regs.push({ name: `dbgbcr${n}_el1`, enc: [2, 0, 0, n, 5], read: 'value', write: u64 });
  }
  for (let n = 0; n < 4; n++) {
    regs.push({ name: `dbgwvr${n}_el1`, enc: [2, 0, 0, n, 6], read: 'value', write: u64 });
    regs.push({ name: `dbgwcr${n}_el1`, enc: [2, 0, 0, n, 7], read: 'value', write: u64 });
  }
  return regs;
}

/** Registers accessed at EL1 in every case (no exception). */
const EL1_REGS: readonly Reg[] = [
  { name: 'tpidr_el0', enc: [3, 3, 13, 0, 2], read: 'value', write: u64 },
  { name: 'tpidrro_el0', enc: [3, 3, 13, 0, 3], read: 'value', write: u64 },
  { name: 'tpidr_el1', enc: [3, 0, 13, 0, 4], read: 'value', write: u64 },
  { name: 'contextidr_el1', enc: [3, 0, 13, 0, 1], read: 'value', write: masked(MASK32) },
  { name: 'par_el1', enc: [3, 0, 7, 4, 0], read: 'value', write: u64 },
  { name: 'far_el1', enc: [3, 0, 6, 0, 0], read: 'value', write: u64 },
  { name: 'elr_el1', enc: [3, 0, 4, 0, 1], read: 'value', write: u64 },
  { name: 'esr_el1', enc: [3, 0, 5, 2, 0], read: 'value', write: masked(MASK32) },
  { name: 'spsr_el1', enc: [3, 0, 4, 0, 0], read: 'value', write: masked(MASK32) },
  { name: 'afsr0_el1', enc: [3, 0, 5, 1, 0], read: 'value', write: u64 },
  { name: 'afsr1_el1', enc: [3, 0, 5, 1, 1], read: 'value', write: u64 },
  { name: 'actlr_el1', enc: [3, 0, 1, 0, 1], read: 'value', write: u64 },
  { name: 'amair_el1', enc: [3, 0, 10, 3, 0], read: 'value', write: u64 },
  { name: 'scxtnum_el0', enc: [3, 3, 13, 0, 7], read: 'value', write: u64 },
  { name: 'scxtnum_el1', enc: [3, 0, 13, 0, 7], read: 'value', write: u64 },
  { name: 'csselr_el1', enc: [3, 2, 0, 0, 0], read: 'value', write: u64 },
  { name: 'cntkctl_el1', enc: [3, 0, 14, 1, 0], read: 'value', write: masked(0x3ffn) },
  { name: 'cntfrq_el0', enc: [3, 3, 14, 0, 0], read: 'clobber', write: masked(MASK32) },
  { name: 'mdscr_el1', enc: [2, 0, 0, 2, 2], read: 'value', write: masked(MDSCR_SAFE) },
  { name: 'oslar_el1', enc: [2, 0, 1, 0, 4], write: small },
  { name: 'oslsr_el1', enc: [2, 0, 1, 1, 4], read: 'value' },
  { name: 'osdlr_el1', enc: [2, 0, 1, 3, 4], read: 'value', write: u64 },
  { name: 'dbgclaimset_el1', enc: [2, 0, 7, 8, 6], read: 'value', write: u64 },
  { name: 'dbgclaimclr_el1', enc: [2, 0, 7, 9, 6], read: 'value', write: u64 },
  { name: 'mdccint_el1', enc: [2, 0, 0, 2, 0], read: 'value', write: u64 },
  { name: 'osdtrrx_el1', enc: [2, 0, 0, 0, 2], read: 'value', write: u64 },
  { name: 'osdtrtx_el1', enc: [2, 0, 0, 3, 2], read: 'value', write: u64 },
  { name: 'oseccr_el1', enc: [2, 0, 0, 6, 2], read: 'value', write: u64 },
  { name: 'mdccsr_el0', enc: [2, 3, 0, 1, 0], read: 'value' },
  { name: 'dbgdtrrx_el0', enc: [2, 3, 0, 5, 0], read: 'value', write: u64 },
  { name: 'mdrar_el1', enc: [2, 0, 1, 0, 0], read: 'value' },
  ...debugRegs(),
  { name: 'gcr_el1', enc: [3, 0, 1, 0, 6], read: 'value', write: masked(0xffffn) }, // RRND = 0 (QEMU's IRG is random with RRND = 1)
  { name: 'rgsr_el1', enc: [3, 0, 1, 0, 5], read: 'value', write: masked(0xffff0fn) },
  { name: 'tfsr_el1', enc: [3, 0, 5, 6, 0], read: 'value', write: masked(3n) },
  { name: 'tfsre0_el1', enc: [3, 0, 5, 6, 1], read: 'value', write: masked(3n) },
  // Read-only here (writing them would break the harness) with the same value on both.
  { name: 'sctlr_el1', enc: [3, 0, 1, 0, 0], read: 'value' },
  { name: 'tcr_el1', enc: [3, 0, 2, 0, 2], read: 'value' },
  { name: 'ttbr0_el1', enc: [3, 0, 2, 0, 0], read: 'value' },
  { name: 'mair_el1', enc: [3, 0, 10, 2, 0], read: 'value' },
  { name: 'vbar_el1', enc: [3, 0, 12, 0, 0], read: 'value' },
  { name: 'isr_el1', enc: [3, 0, 12, 1, 0], read: 'value' },
  { name: 'currentel', enc: [3, 0, 4, 2, 2], read: 'value' },
  { name: 'mpidr_el1', enc: [3, 0, 0, 0, 5], read: 'value' },
  { name: 'revidr_el1', enc: [3, 0, 0, 0, 6], read: 'value' },
  { name: 'ctr_el0', enc: [3, 3, 0, 0, 1], read: 'value' },
  { name: 'dczid_el0', enc: [3, 3, 0, 0, 7], read: 'value' },
  { name: 'gmid_el1', enc: [3, 1, 0, 0, 4], read: 'value' },
  { name: 'aidr_el1', enc: [3, 1, 0, 0, 7], read: 'value' },
  { name: 'id_aa64dfr1_el1', enc: [3, 0, 0, 5, 1], read: 'value' },
  { name: 'id_aa64afr0_el1', enc: [3, 0, 0, 5, 4], read: 'value' },
  { name: 'id_aa64afr1_el1', enc: [3, 0, 0, 5, 5], read: 'value' },
  // Values that differ by design: only the access is compared.
  { name: 'midr_el1', enc: [3, 0, 0, 0, 0], read: 'clobber' },
  { name: 'ccsidr_el1', enc: [3, 1, 0, 0, 0], read: 'clobber' },
  { name: 'clidr_el1', enc: [3, 1, 0, 0, 1], read: 'clobber' },
  { name: 'cntvct_el0', enc: [3, 3, 14, 0, 2], read: 'clobber' },
  { name: 'cntpct_el0', enc: [3, 3, 14, 0, 1], read: 'clobber' },
];

/** Registers in the ID space: values compared only where both agree (reserved ones read 0). */
function idSpaceRead(rng: Rng): { enc: Enc; kind: ReadKind } {
  const crm = rng.range(1, 7);
  const op2 = rng.below(8);
  const agree = (crm === 4 && [2, 3, 6, 7].includes(op2)) || (crm === 5 && [2, 3, 6, 7].includes(op2)) || (crm === 6 && op2 >= 3) || (crm === 7 && op2 >= 4);
  return { enc: [3, 0, 0, crm, op2], kind: agree ? 'value' : 'clobber' };
}

/** Encodings that are UNDEFINED on both at EL1 (features neither side advertises, or none). */
const UNDEFINED_EL1: readonly Enc[] = [
  [3, 0, 13, 0, 5], // ACCDATA_EL1 (FEAT_LS64_ACCDATA)
  [3, 0, 1, 2, 1], // TRFCR_EL1 (FEAT_TRF)
  [3, 0, 10, 5, 0], // MPAM1_EL1
  [3, 0, 10, 4, 4], // MPAMIDR_EL1
  [3, 0, 9, 9, 7], // PMSIDR_EL1 (SPE)
  [3, 3, 13, 2, 0], // AMCR_EL0 (AMU)
  [3, 0, 1, 0, 3],
  [3, 0, 5, 5, 0],
  [2, 0, 0, 6, 4], // DBGBVR6_EL1: only 6 breakpoints
  [2, 0, 0, 4, 7], // DBGWCR4_EL1: only 4 watchpoints
];

/** EL0-controlling SCTLR_EL1 bits the family toggles: UMA, DZE, UCT, TSCXT, UCI. */
const SCTLR_EL0_BITS = [9, 14, 15, 20, 26];

/** A clobbering MOVZ after a read whose value is not compared. */
function readInto(c: SysregContext, enc: Enc, kind: ReadKind, rt: number): void {
  c.emit(mrs(enc, rt));
  if (kind === 'clobber' && rt !== 31) c.emit(E.moveWide(1, 2, 0, 0x5a5a, rt));
}

/** One EL1 group: an access, an EL0-permission toggle, or (faulting cases) a trapping access. */
export function el1SysregGroup(c: SysregContext): void {
  const rng = c.rng;
  rng.weighted<() => void>([
    [10, () => {
      const reg = rng.pick(EL1_REGS);
      const rt = rng.chance(0.05) ? 31 : c.reg();
      if (reg.write && (!reg.read || rng.chance(0.6))) {
        c.movImm64(rt === 31 ? c.reg() : rt, reg.write(rng));
        const src = rt === 31 ? 31 : rt;
        c.emit(msr(reg.enc, src));
        c.note(`msr ${reg.name}`);
        if (reg.read && rng.chance(0.7)) readInto(c, reg.enc, reg.read, c.reg());
      } else if (reg.read) {
        readInto(c, reg.enc, reg.read, rt);
        c.note(`mrs ${reg.name}`);
      }
    }],
    [2, () => {
      const { enc, kind } = idSpaceRead(rng);
      readInto(c, enc, kind, c.reg());
      c.note(`mrs S3_0_C0_C${enc[3]}_${enc[4]}`);
    }],
    [4, () => {
      // Read-modify-write SCTLR_EL1 flipping one EL0 control bit.
      const r = c.reg();
      const bit = rng.pick(SCTLR_EL0_BITS);
      c.emit(E.mrsSctlr(r), E.logicalImm(1, 2, 1, (64 - bit) % 64, 0, r, r), E.msrSctlr(r), E.barrier(6, 15));
      c.note(`SCTLR_EL1 ^= 1 << ${bit}`);
    }],
    [c.otherFaults ? 2 : 0, () => {
      const what = rng.below(4);
      if (what === 0) c.emit(mrs(rng.pick(UNDEFINED_EL1), c.reg()));
      else if (what === 1) c.emit(msr(rng.pick(UNDEFINED_EL1), c.reg()));
      else if (what === 2) c.emit(msr([3, rng.pick([0, 1, 3]), 0, rng.below(8), rng.below(8)], c.reg())); // MSR to the ID space
      else c.emit(mrs([3, rng.pick([0, 1, 3]), 0, rng.chance(0.5) ? 0 : rng.below(8), rng.below(8)], c.reg()));
      c.note('may trap at EL1');
    }],
  ])();
}

/** Scratch through its untagged alias: the only scratch mapping EL0 may access. */
const UNTAGGED_SCRATCH = 0x8010_0000n;

/** What EL0 may try: reads and writes of EL0 and EL1 registers, PSTATE, cache operations. */
function el0Access(c: SysregContext): void {
  const rng = c.rng;
  const rt = c.reg();
  rng.weighted<() => void>([
    [3, () => readInto(c, [3, 3, 4, 2, 0], 'value', rt)], // NZCV
    [3, () => readInto(c, [3, 3, 4, 2, 1], 'value', rt)], // DAIF (SCTLR_EL1.UMA)
    [2, () => {
      c.movImm64(rt, rng.u64() & 0xf00003c0n);
      c.emit(msr(rng.pick([[3, 3, 4, 2, 0], [3, 3, 4, 2, 1]] as const), rt)); // NZCV, DAIF
    }],
    [3, () => {
      const enc = rng.pick([[3, 3, 4, 2, 5], [3, 3, 4, 2, 6], [3, 3, 4, 2, 7]] as const); // DIT, SSBS, TCO
      if (rng.chance(0.5)) readInto(c, enc, 'value', rt);
      else {
        c.movImm64(rt, rng.u64());
        c.emit(msr(enc, rt));
      }
    }],
    [1, () => c.emit(E.msrPstate(3, rng.pick([1, 2, 4]), rng.below(2)))], // MSR DIT/SSBS/TCO, #imm
    [4, () => {
      const reg = rng.pick<Reg>([
        { name: 'tpidr_el0', enc: [3, 3, 13, 0, 2], read: 'value', write: u64 },
        { name: 'tpidrro_el0', enc: [3, 3, 13, 0, 3], read: 'value', write: u64 },
        { name: 'scxtnum_el0', enc: [3, 3, 13, 0, 7], read: 'value', write: u64 },
        { name: 'dbgdtrrx_el0', enc: [2, 3, 0, 5, 0], read: 'value', write: u64 },
        { name: 'mdccsr_el0', enc: [2, 3, 0, 1, 0], read: 'value', write: u64 },
        { name: 'ctr_el0', enc: [3, 3, 0, 0, 1], read: 'value', write: u64 },
        { name: 'dczid_el0', enc: [3, 3, 0, 0, 7], read: 'value' },
        { name: 'cntfrq_el0', enc: [3, 3, 14, 0, 0], read: 'clobber', write: u64 },
        { name: 'cntvct_el0', enc: [3, 3, 14, 0, 2], read: 'clobber' },
        { name: 'cntpct_el0', enc: [3, 3, 14, 0, 1], read: 'clobber' },
      ]);
      if (reg.write && rng.chance(0.4)) {
        c.movImm64(rt, reg.write(rng));
        c.emit(msr(reg.enc, rt));
      } else {
        readInto(c, reg.enc, reg.read!, rt);
      }
    }],
    [2, () => {
      // EL1 registers and the ID space from EL0: UNDEFINED, or trapped (FEAT_IDST).
      const reg = rng.pick(EL1_REGS.filter((r) => r.enc[1] === 0 || r.enc[1] === 1));
      if (rng.chance(0.6)) readInto(c, reg.enc, reg.read ?? 'value', rt);
      else c.emit(msr(reg.enc, rt));
    }],
    [2, () => readInto(c, idSpaceRead(rng).enc, 'clobber', rt)],
    [2, () => {
      // DC ZVA (SCTLR_EL1.DZE), DC CVAU / DC CIVAC / IC IVAU (SCTLR_EL1.UCI) on EL0-accessible memory.
      c.movImm64(rt, UNTAGGED_SCRATCH + BigInt(rng.below(0x10000)));
      const op = rng.below(4);
      if (op === 0) c.emit(E.dcZero(1, rt));
      else c.emit((0xd50b0000 | ([0x7b20, 0x7e20, 0x7520][op - 1]!) | rt) >>> 0);
    }],
  ])();
}

/**
 * The EL0 tail: ERET to EL0 with a random SPSR (NZCV, DAIF, DIT, SSBS, TCO), EL0 accesses, then
 * BRK, in at most `room` words; false (nothing emitted) when it does not fit.
 */
export function el0Tail(c: SysregContext, room: number): boolean {
  const rng = c.rng;
  const a = c.reg();
  const b = c.regExcept(a);
  const spsr =
    (BigInt(rng.below(16)) << 28n) | (rng.chance(0.5) ? 0x3c0n : 0n) | (BigInt(rng.below(2)) << 24n) | (BigInt(rng.below(2)) << 12n) | (BigInt(rng.below(2)) << 25n);
  // The EL0 body is recorded first so that its size, and the ADR to it, are known.
  const recorded: number[] = [];
  const recorder: SysregContext = {
    rng,
    otherFaults: c.otherFaults,
    emit: (...w) => void recorded.push(...w.map((x) => x >>> 0)),
    note: () => {},
    reg: () => c.reg(),
    regExcept: (...avoid) => c.regExcept(...avoid),
    movImm64: (r, v) => recordMov(recorded, r, v),
  };
  for (let n = rng.range(1, 6); n > 0; n--) el0Access(recorder);
  const head: number[] = [];
  recordMov(head, b, spsr);
  const words = 1 + 1 + head.length + 1 + 1 + recorded.length + 1;
  if (words > room) return false;
  c.emit(E.adr(0, 4 * (words - recorded.length - 1), a)); // ADR Xa, <first EL0 instruction>
  c.emit(msr([3, 0, 4, 0, 1], a)); // ELR_EL1
  c.emit(...head);
  c.emit(msr([3, 0, 4, 0, 0], b)); // SPSR_EL1
  c.emit(ERET, ...recorded, E.brk(EL0_TAIL_END));
  c.note(`EL0 tail (SPSR ${spsr.toString(16)})`);
  return true;
}

/** MOVZ + MOVKs for a 64-bit value (the EL0 tail records its words before emitting them). */
function recordMov(out: number[], r: number, value: bigint): void {
  const halves = [0, 1, 2, 3].map((i) => Number((value >> BigInt(16 * i)) & 0xffffn));
  out.push(E.moveWide(1, 2, 0, halves[0]!, r));
  for (let i = 1; i < 4; i++) if (halves[i]) out.push(E.moveWide(1, 3, i, halves[i]!, r));
}
