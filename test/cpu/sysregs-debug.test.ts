import { describe, expect, it } from 'vitest';
import { ID_AA64DFR0 } from '../../src/cpu/sysregs-id.js';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { SysRegMachine, trapEsr, UNDEFINED, type Encoding } from './sysregs-run.js';

const bvr = (n: number): Encoding => [2, 0, 0, n, 4];
const bcr = (n: number): Encoding => [2, 0, 0, n, 5];
const wvr = (n: number): Encoding => [2, 0, 0, n, 6];
const wcr = (n: number): Encoding => [2, 0, 0, n, 7];
const MDSCR: Encoding = [2, 0, 0, 2, 2];
const OSLAR: Encoding = [2, 0, 1, 0, 4];
const OSLSR: Encoding = [2, 0, 1, 1, 4];
const OSDLR: Encoding = [2, 0, 1, 3, 4];
const CLAIMSET: Encoding = [2, 0, 7, 8, 6];
const CLAIMCLR: Encoding = [2, 0, 7, 9, 6];
const MDCCSR: Encoding = [2, 3, 0, 1, 0];
const DBGDTR: Encoding = [2, 3, 0, 4, 0];
const DBGDTRRX: Encoding = [2, 3, 0, 5, 0];
const ALL_ONES = (1n << 64n) - 1n;

/** A field of ID_AA64DFR0_EL1. */
const dfr0 = (shift: number): number => (ID_AA64DFR0 >>> shift) & 0xf;

describe('breakpoint and watchpoint registers', () => {
  it('exist exactly as ID_AA64DFR0_EL1 counts them (BRPs, WRPs, CTX_CMPs are counts minus one)', () => {
    const s = new SysRegMachine();
    const brps = dfr0(12) + 1;
    const wrps = dfr0(20) + 1;
    expect(dfr0(0)).toBe(6); // Armv8.0 debug
    expect(brps).toBe(6);
    expect(wrps).toBe(4);
    expect(dfr0(28) + 1).toBe(2);
    expect(dfr0(8)).toBe(0); // PMUVer: no PMU
    for (let n = 0; n < 16; n++) {
      expect(s.write(bvr(n), 0x1000n + BigInt(n) * 4n), `DBGBVR${n}_EL1`).toBe(n < brps ? '' : UNDEFINED);
      expect(s.read(bcr(n)), `DBGBCR${n}_EL1`).toBe(n < brps ? 0n : UNDEFINED);
      expect(s.write(wvr(n), 0x2000n), `DBGWVR${n}_EL1`).toBe(n < wrps ? '' : UNDEFINED);
      expect(s.read(wcr(n)), `DBGWCR${n}_EL1`).toBe(n < wrps ? 0n : UNDEFINED);
    }
    for (let n = 0; n < brps; n++) expect(s.read(bvr(n))).toBe(0x1000n + BigInt(n) * 4n);
  });

  it('store what is written, as QEMU does: BCR.BAS[1] and BAS[3] copy BAS[0] and BAS[2], WVR[1:0] are RES0', () => {
    const s = new SysRegMachine();
    s.write(bvr(2), ALL_ONES);
    s.write(bcr(2), 0x5555_5555_5555_5555n);
    s.write(wvr(3), ALL_ONES);
    s.write(wcr(3), 0xdead_beef_cafe_f00dn);
    expect(s.read(bvr(2))).toBe(ALL_ONES);
    expect(s.read(bcr(2))).toBe(0x5555_5555_5555_5415n);
    expect(s.read(wvr(3))).toBe(ALL_ONES - 3n);
    expect(s.read(wcr(3))).toBe(0xdead_beef_cafe_f00dn);
    s.write(bcr(0), 0xa0n); // BAS = 0b0101 -> 0b1111
    expect(s.read(bcr(0))).toBe(0x1e0n);
  });

  it('are vCPU state: reset clears them, and they are in the saved register set', () => {
    const s = new SysRegMachine();
    s.write(bvr(5), 0x4000_0000n);
    expect(s.cpu.sysLo(Sys.DBGBVR5_EL1)).toBe(0x4000_0000);
    s.cpu.reset();
    expect(s.cpu.sysLo(Sys.DBGBVR5_EL1)).toBe(0);
  });

  it('are UNDEFINED at EL0', () => {
    const s = new SysRegMachine();
    expect(s.read(bcr(0), 0)).toBe(UNDEFINED);
    expect(s.write(wvr(0), 0n, 0)).toBe(UNDEFINED);
    expect(s.read(MDSCR, 0)).toBe(UNDEFINED);
  });
});

describe('OS lock', () => {
  it('is locked out of reset; OSLAR_EL1 sets and clears OSLSR_EL1.OSLK, OSLM = 0b10', () => {
    const s = new SysRegMachine();
    expect(s.read(OSLSR)).toBe(0xan);
    expect(s.write(OSLAR, 0n)).toBe('');
    expect(s.read(OSLSR)).toBe(0x8n);
    s.write(OSLAR, 0xdeadn); // only bit 0 counts
    expect(s.read(OSLSR)).toBe(0xan);
  });

  it('OSLAR_EL1 is write-only and OSLSR_EL1 read-only; OSDLR_EL1 holds DLK', () => {
    const s = new SysRegMachine();
    expect(s.read(OSLAR)).toBe(UNDEFINED);
    expect(s.write(OSLSR, 0n)).toBe(UNDEFINED);
    s.write(OSDLR, ALL_ONES);
    expect(s.read(OSDLR)).toBe(1n);
  });
});

describe('MDSCR_EL1, claim tags and the debug communications channel', () => {
  it('MDSCR_EL1 keeps the Armv8.0 fields only', () => {
    const s = new SysRegMachine();
    s.write(MDSCR, ALL_ONES);
    expect(s.read(MDSCR)).toBe(0x6ce0f041n);
    s.write(MDSCR, 1n << 12n);
    expect(s.read(MDSCR)).toBe(0x1000n);
  });

  it('claim tags: DBGCLAIMSET_EL1 reads the 8 implemented bits, DBGCLAIMCLR_EL1 the current tags', () => {
    const s = new SysRegMachine();
    expect(s.read(CLAIMSET)).toBe(0xffn);
    expect(s.read(CLAIMCLR)).toBe(0n);
    s.write(CLAIMSET, 0x1_81n);
    s.write(CLAIMSET, 0x02n);
    expect(s.read(CLAIMCLR)).toBe(0x83n);
    s.write(CLAIMCLR, 0x81n);
    expect(s.read(CLAIMCLR)).toBe(0x02n);
  });

  it('MDRAR_EL1 (no ROM table) and DBGAUTHSTATUS_EL1 are read-only constants', () => {
    const s = new SysRegMachine();
    expect(s.read([2, 0, 1, 0, 0])).toBe(0n);
    expect(s.write([2, 0, 1, 0, 0], 1n)).toBe(UNDEFINED);
    expect(s.read([2, 0, 7, 14, 6])).toBe(0xan);
  });

  it('the channel is empty (RAZ/WI); EL0 may use it unless MDSCR_EL1.TDCC', () => {
    const s = new SysRegMachine();
    for (const e of [MDCCSR, DBGDTR, DBGDTRRX, [2, 0, 0, 2, 0] as Encoding, [2, 0, 0, 0, 2] as Encoding]) {
      s.write(e, ALL_ONES);
      expect(s.read(e)).toBe(0n);
    }
    expect(s.write(MDCCSR, 0n)).toBe(UNDEFINED);
    expect(s.read(MDCCSR, 0)).toBe(0n);
    expect(s.write(DBGDTRRX, 5n, 0)).toBe('');
    s.write(MDSCR, 1n << 12n);
    expect(s.read(MDCCSR, 0)).toBe(trapEsr(MDCCSR, 1, true));
    expect(s.write(DBGDTR, 0n, 0)).toBe(trapEsr(DBGDTR, 2, false));
    expect(s.read(DBGDTRRX, 0)).toBe(trapEsr(DBGDTRRX, 1, true));
  });
});
