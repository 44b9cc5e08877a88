import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { allSysRegs, sysKey } from '../../src/cpu/sysregs.js';
import { CTR_EL0, ID_AA64ISAR1, ID_AA64MMFR1, ID_AA64PFR0, MIDR } from '../../src/cpu/sysregs-id.js';
import { SysRegMachine, trapEsr, UNDEFINED, type Encoding } from './sysregs-run.js';

const field = (value: number, shift: number): number => (value >>> shift) & 0xf;
const names = (): string[] => [...allSysRegs().values()].map((r) => r.name);
const has = (e: Encoding): boolean => allSysRegs().has(sysKey(...e));

const ID_AA64PFR0_EL1: Encoding = [3, 0, 0, 4, 0];
const CTR: Encoding = [3, 3, 0, 0, 1];
const DCZID: Encoding = [3, 3, 0, 0, 7];
const DAIF: Encoding = [3, 3, 4, 2, 1];
const CNTPCT: Encoding = [3, 3, 14, 0, 1];
const CNTVCT: Encoding = [3, 3, 14, 0, 2];
const CNTFRQ: Encoding = [3, 3, 14, 0, 0];
const CNTKCTL: Encoding = [3, 0, 14, 1, 0];
const SCTLR: Encoding = [3, 0, 1, 0, 0];
const SCXTNUM_EL0: Encoding = [3, 3, 13, 0, 7];
const SCXTNUM_EL1: Encoding = [3, 0, 13, 0, 7];

describe('the system register table', () => {
  it('names every register once', () => {
    const list = names();
    expect(new Set(list).size).toBe(list.length);
  });

  it('advertises only what it implements', () => {
    // PMUVer = 0 (ID_AA64DFR0_EL1): no PMU register exists (PMCR_EL0 ... PMEVTYPER<n>_EL0).
    for (let crm = 12; crm <= 14; crm++) for (let op2 = 0; op2 < 8; op2++) expect(has([3, 3, 9, crm, op2])).toBe(false);
    for (let crm = 8; crm <= 15; crm++) for (let op2 = 0; op2 < 8; op2++) expect(has([3, 3, 14, crm, op2])).toBe(false);
    // RAS = 0: no ERRIDR_EL1/ERRSELR_EL1/ERX*/DISR_EL1; AMU = 0: no AMCR_EL0.
    expect(field(ID_AA64PFR0.lo, 28)).toBe(0);
    expect(has([3, 0, 5, 3, 0]) || has([3, 0, 5, 3, 1]) || has([3, 0, 12, 1, 1])).toBe(false);
    expect(field(ID_AA64PFR0.hi, 12)).toBe(0);
    expect(has([3, 3, 13, 2, 0])).toBe(false);
    // ID_AA64MMFR1_EL1.LO = 0: no LORegion registers.
    expect(field(ID_AA64MMFR1, 16)).toBe(0);
    for (const op2 of [0, 1, 2, 3, 7]) expect(has([3, 0, 10, 4, op2])).toBe(false);
    // CSV2 = 3 (FEAT_CSV2_2 and later): SCXTNUM_EL0/EL1 exist. CSV3 = 1. DIT = 1 (PSTATE.DIT).
    expect(field(ID_AA64PFR0.hi, 24)).toBe(3);
    expect(has(SCXTNUM_EL0) && has(SCXTNUM_EL1)).toBe(true);
    expect(field(ID_AA64PFR0.hi, 28)).toBe(1);
    expect(field(ID_AA64PFR0.hi, 16)).toBe(1);
    expect(has([3, 3, 4, 2, 5])).toBe(true);
    // ID_AA64ISAR1_EL1.SB = 1, DPB = 2; no FEAT_RNG (RNDR would be UNDEFINED): ISAR0.RNDR = 0.
    expect(field(ID_AA64ISAR1.hi, 4)).toBe(1);
    expect(field(ID_AA64ISAR1.lo, 0)).toBe(2);
    // FJCVTZS and FRINT32/64 are implemented (docs/fp-simd.md); FCMA (bits 19:16) is not.
    expect(field(ID_AA64ISAR1.lo, 12)).toBe(1);
    expect(field(ID_AA64ISAR1.hi, 0)).toBe(1);
    expect(field(ID_AA64ISAR1.lo, 16)).toBe(0);
    expect(has([3, 3, 2, 4, 0])).toBe(false);
  });

  it('reports MIDR_EL1 0x000f0000 and CTR_EL0 with DIC and IDC', () => {
    const s = new SysRegMachine();
    expect(s.read([3, 0, 0, 0, 0])).toBe(BigInt(MIDR));
    expect(s.read(CTR)).toBe(BigInt(CTR_EL0 >>> 0));
    expect((CTR_EL0 >>> 28) & 3).toBe(3);
    expect(s.read([3, 1, 0, 0, 1])).toBe(0n); // CLIDR_EL1: no caches
  });

  it('ID_AA64PFR0_EL1 shows GIC = 0 without system-register GIC access', () => {
    const s = new SysRegMachine();
    expect(s.read(ID_AA64PFR0_EL1)).toBe((BigInt(ID_AA64PFR0.hi >>> 0) << 32n) | BigInt(ID_AA64PFR0.lo));
  });
});

describe('the feature ID space (FEAT_IDST)', () => {
  const allocated = (op1: number, crm: number, op2: number): boolean => has([3, op1, 0, crm, op2]);

  it('at EL1: registers read, reserved op1 = 0 CRm = 1..7 read as zero, the rest trap with EC 0x18', () => {
    const s = new SysRegMachine();
    for (const op1 of [0, 1, 3]) {
      for (let crm = 0; crm < 8; crm++) {
        for (let op2 = 0; op2 < 8; op2++) {
          const e: Encoding = [3, op1, 0, crm, op2];
          const got = s.read(e);
          if (allocated(op1, crm, op2)) expect(typeof got, `S3_${op1}_C0_C${crm}_${op2}`).toBe('bigint');
          else if (op1 === 0 && crm >= 1) expect(got, `S3_${op1}_C0_C${crm}_${op2}`).toBe(0n);
          else expect(got, `S3_${op1}_C0_C${crm}_${op2}`).toBe(trapEsr(e, 1, true));
          expect(s.write(e, 0n), `MSR S3_${op1}_C0_C${crm}_${op2}`).toBe(UNDEFINED);
        }
      }
    }
  });

  it('at EL0: every read traps with EC 0x18 except CTR_EL0 (with UCT) and DCZID_EL0', () => {
    const s = new SysRegMachine();
    s.cpu.setSys(Sys.SCTLR_EL1, 1 << 15, 0); // UCT
    for (const op1 of [0, 1, 3]) {
      for (let crm = 0; crm < 8; crm++) {
        for (let op2 = 0; op2 < 8; op2++) {
          const e: Encoding = [3, op1, 0, crm, op2];
          const open = op1 === 3 && crm === 0 && (op2 === 1 || op2 === 7);
          const got = s.read(e, 0);
          if (open) expect(typeof got).toBe('bigint');
          else expect(got, `S3_${op1}_C0_C${crm}_${op2}`).toBe(trapEsr(e, 1, true));
          expect(s.write(e, 0n, 0)).toBe(UNDEFINED);
        }
      }
    }
  });

  it('GMID_EL1 on a VM without MTE traps like any unallocated ID register (QEMU mte=off agrees)', () => {
    const s = new SysRegMachine({ mte: false });
    expect(s.read([3, 1, 0, 0, 4])).toBe(trapEsr([3, 1, 0, 0, 4], 1, true));
  });
});

describe('EL0 permissions', () => {
  it('SCTLR_EL1.UCT: CTR_EL0; SCTLR_EL1.DZE: DCZID_EL0.DZP', () => {
    const s = new SysRegMachine();
    s.cpu.setSys(Sys.SCTLR_EL1, 0, 0);
    expect(s.read(CTR, 0)).toBe(trapEsr(CTR, 1, true));
    expect(s.read(DCZID, 0)).toBe(0x14n);
    s.cpu.setSys(Sys.SCTLR_EL1, (1 << 15) | (1 << 14), 0);
    expect(s.read(CTR, 0)).toBe(BigInt(CTR_EL0 >>> 0));
    expect(s.read(DCZID, 0)).toBe(4n);
    expect(s.read(DCZID, 1)).toBe(4n);
  });

  it('SCTLR_EL1.UMA: DAIF (MRS, MSR and MSR DAIFSet/DAIFClr)', () => {
    const s = new SysRegMachine();
    s.cpu.setSys(Sys.SCTLR_EL1, 0, 0);
    expect(s.read(DAIF, 0)).toBe(trapEsr(DAIF, 1, true));
    expect(s.write(DAIF, 0n, 0)).toBe(trapEsr(DAIF, 2, false));
    expect(s.run([0xd50346df], 0).esr).toBe(0x620cd3ec); // msr daifset, #6: op1 = 3, op2 = 6, CRm = 6
    s.cpu.setSys(Sys.SCTLR_EL1, 1 << 9, 0);
    s.cpu.daif = 0;
    expect(s.read(DAIF, 0)).toBe(0n);
    s.cpu.daif = 0;
    expect(s.run([0xd50346df, 0xd53b4221], 0).x(1)).toBe(0x180n); // msr daifset, #6; mrs x1, daif
  });

  it('CNTKCTL_EL1.EL0PCTEN / EL0VCTEN: the counters and CNTFRQ_EL0', () => {
    const s = new SysRegMachine();
    expect(s.read(CNTPCT, 0)).toBe(trapEsr(CNTPCT, 1, true));
    expect(s.read(CNTVCT, 0)).toBe(trapEsr(CNTVCT, 1, true));
    expect(s.read(CNTFRQ, 0)).toBe(trapEsr(CNTFRQ, 1, true));
    s.write(CNTKCTL, 1n);
    expect(typeof s.read(CNTPCT, 0)).toBe('bigint');
    expect(s.read(CNTVCT, 0)).toBe(trapEsr(CNTVCT, 1, true));
    expect(typeof s.read(CNTFRQ, 0)).toBe('bigint');
    s.write(CNTKCTL, 2n);
    expect(typeof s.read(CNTVCT, 0)).toBe('bigint');
    expect(s.read(CNTPCT, 0)).toBe(trapEsr(CNTPCT, 1, true));
  });

  it('SCTLR_EL1.TSCXT: SCXTNUM_EL0; SCXTNUM_EL1 is EL1 only', () => {
    const s = new SysRegMachine();
    s.cpu.setSys(Sys.SCTLR_EL1, 0, 0);
    expect(s.write(SCXTNUM_EL0, 0x1234_5678_9abc_def0n, 0)).toBe('');
    expect(s.read(SCXTNUM_EL0, 0)).toBe(0x1234_5678_9abc_def0n);
    expect(s.read(SCXTNUM_EL1, 0)).toBe(UNDEFINED);
    s.write(SCTLR, 1n << 20n);
    expect(s.read(SCXTNUM_EL0, 0)).toBe(trapEsr(SCXTNUM_EL0, 1, true));
    expect(s.read(SCXTNUM_EL0, 1)).toBe(0x1234_5678_9abc_def0n);
  });

  it('EL1-only registers are UNDEFINED at EL0', () => {
    const s = new SysRegMachine();
    for (const e of [SCTLR, CNTKCTL, SCXTNUM_EL1, [3, 0, 12, 1, 0], [3, 0, 4, 2, 2], [3, 0, 4, 2, 3]] as Encoding[]) {
      expect(s.read(e, 0)).toBe(UNDEFINED);
    }
  });
});
