import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemblerAvailable } from '../support/asm.js';
import { TestMachine } from '../support/cpu-harness.js';
import { setV, vhex } from '../support/vregs.js';

/**
 * The saturation edges of the integer Advanced SIMD forms in simd-sat.ts and simd-elem.ts, each
 * with the Arm ARM's reason (DDI 0487, C7.2 and the shared pseudocode SignedSatQ/UnsignedSatQ).
 * The generated tests (test/random/simd-int-family.ts) compare every form with QEMU; these pin
 * the cases worth reading.
 */

const QC = 1 << 27;

function run(source: string, v: Record<number, string>): TestMachine {
  const m = new TestMachine();
  m.cpu.setSys(Sys.CPACR_EL1, 3 << 20, 0);
  for (const [n, hex] of Object.entries(v)) setV(m.cpu, Number(n), hex);
  m.load(`${source}\n hvc #0`);
  m.runToHvc();
  return m;
}

describe.runIf(assemblerAvailable())('saturating integer SIMD', () => {
  it('SQDMULH saturates only MIN * MIN, SQRDMULH rounds, and both set FPSR.QC', () => {
    const m = run('sqdmulh v0.8h, v1.8h, v2.8h\n mrs x1, fpsr\n msr fpsr, xzr\n sqrdmulh v3.4s, v4.4s, v4.4s\n mrs x2, fpsr', {
      1: '8000_8000_7fff_4000_0001_ffff_8000_0000',
      2: '8000_7fff_7fff_4000_7fff_ffff_0001_1234',
      4: '8000_0000_0000_c000_0000_0001_7fff_ffff',
    });
    // 2 * MIN * MIN = 2^31 does not fit: MAX. 2 * MIN * MAX >> 16 = -32767 (0x8001).
    expect(vhex(m.cpu, 0)).toBe('7fff80017ffe200000000000ffff0000');
    expect(m.x(1) & BigInt(QC)).toBe(BigInt(QC));
    // MIN * MIN saturates; (2 * 0xc000^2 + 2^31) >> 32 = 1; 1 * 1 rounds to 0; MAX^2 gives MAX - 1.
    expect(vhex(m.cpu, 3)).toBe('7fffffff00000001000000007ffffffe');
    expect(m.x(2) & BigInt(QC)).toBe(BigInt(QC));
  });

  it('SQXTUN clamps negative lanes to 0, UQXTN to the maximum; a narrow into the high half keeps the low', () => {
    const m = run('mov v0.16b, v5.16b\n sqxtun2 v0.16b, v1.8h\n uqxtn h2, s3', {
      1: 'ffff_0100_00ff_8000_7fff_0080_0001_0000',
      3: '0000_0000_0000_0000_0000_0000_0001_0000',
      5: '0000_0000_0000_0000_1111_2222_3333_4444',
    });
    expect(vhex(m.cpu, 0)).toBe('00ffff00ff8001001111222233334444');
    expect(vhex(m.cpu, 2)).toBe('0000000000000000000000000000ffff');
  });

  it('SQSHL by register: a negative count shifts right, SQRSHL rounds it, a large count saturates', () => {
    const m = run('sqshl v0.4s, v1.4s, v2.4s\n sqrshl v3.4s, v1.4s, v2.4s', {
      1: '0000_0003_ffff_fffd_4000_0000_0000_0005',
      2: '0000_00ff_0000_00ff_0000_0001_0000_0080',
    });
    // Counts: -1, -1, +1, -128. 3 >> 1 = 1 (rounded: 2); -3 >> 1 = -2 (rounded: -1);
    // 0x40000000 << 1 saturates; 5 >> 128 = 0.
    expect(vhex(m.cpu, 0)).toBe('00000001fffffffe7fffffff00000000');
    expect(vhex(m.cpu, 3)).toBe('00000002ffffffff7fffffff00000000');
  });

  it('SQDMLAL saturates the product and then the sum; SQRDMLAH by element', () => {
    const m = run('sqdmlal d0, s1, v2.s[1]\n sqrdmlah v3.8h, v4.8h, v5.h[0]', {
      0: '0000_0000_0000_0000_0000_0000_0000_0001',
      1: '0000_0000_0000_0000_0000_0000_8000_0000',
      2: '0000_0000_0000_0000_8000_0000_0000_0000',
      3: '0000_0000_0000_0000_0000_0000_7fff_0001',
      4: '0000_0000_0000_0000_0000_0000_7fff_4000',
      5: '0000_0000_0000_0000_0000_0000_0000_4000',
    });
    // 2 * MIN * MIN saturates to MAX64; + 1 saturates again.
    expect(vhex(m.cpu, 0)).toBe('00000000000000007fffffffffffffff');
    // (0x7fff << 16) + 2 * 0x7fff * 0x4000 + 0x8000 >> 16 = 0xbffe: over MAX, saturates; 1 + 0x2000.
    expect(vhex(m.cpu, 3)).toBe('0000000000000000000000007fff2001');
  });

  it('URECPE and URSQRTE: 9-bit estimates, all ones below their ranges', () => {
    const m = run('urecpe v0.4s, v1.4s\n ursqrte v2.4s, v1.4s', { 1: '8000_0000_ffff_ffff_4000_0000_3fff_ffff' });
    expect(vhex(m.cpu, 0)).toBe('ff80000080000000ffffffffffffffff');
    // 0x80000000: 9-bit index 256 -> a = 514, largest b with a (b + 1)^2 < 2^28 is 722 -> 361.
    expect(vhex(m.cpu, 2)).toBe('b480000080000000ff800000ffffffff');
  });

  it('SDOT and UDOT accumulate four byte products per 32-bit lane, modulo 2^32', () => {
    const m = run('sdot v0.2s, v1.8b, v2.8b\n udot v3.4s, v1.16b, v2.4b[1]', {
      0: '0000_0000_0000_0000_ffff_ffff_0000_0010',
      1: '0000_0000_0000_0000_8080_8080_0102_0304',
      2: '0000_0000_0000_0000_7f7f_7f7f_0101_0101',
    });
    // -1 + 4 * (-128 * 127) = 0xffff01ff; 0x10 + 4 + 3 + 2 + 1 = 0x1a.
    expect(vhex(m.cpu, 0)).toBe('0000000000000000ffff01ff0000001a');
    expect(m.cpu.vw[3 * 4 + 1]).toBe(0x80 * 4 * 0x7f);
  });
});
