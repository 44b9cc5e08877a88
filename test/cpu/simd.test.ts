import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';
import { setV, vhex } from '../support/vregs.js';

const DATA = RAM_BASE + 0x10000;

function machine(): TestMachine {
  const m = new TestMachine();
  m.cpu.setSys(Sys.CPACR_EL1, 3 << 20, 0);
  for (let i = 0; i < 256; i++) m.ram.bytes[DATA - RAM_BASE + i] = i;
  return m;
}

function run(m: TestMachine, source: string, regs: Record<number, bigint | number> = {}): void {
  m.load(`${source}\n hvc #0`);
  for (const [r, v] of Object.entries(regs)) m.setX(Number(r), BigInt(v));
  m.runToHvc();
}

describe.runIf(assemblerAvailable())('SIMD&FP', () => {
  it('loads and stores Q, D, S, H, B registers, zeroing the rest on loads', () => {
    const m = machine();
    setV(m.cpu, 1, 'ffffffffffffffffffffffffffffffff');
    run(m, 'ldr q0, [x0]\n ldr d1, [x0, #8]\n ldr s2, [x0, #4]\n ldr h3, [x0, #2]\n ldr b4, [x0, #1]\n str q0, [x0, #32]', { 0: DATA });
    expect(vhex(m.cpu, 0)).toBe('0f0e0d0c0b0a09080706050403020100');
    expect(vhex(m.cpu, 1)).toBe('00000000000000000f0e0d0c0b0a0908');
    expect(vhex(m.cpu, 2)).toBe('00000000000000000000000007060504');
    expect(vhex(m.cpu, 3)).toBe('00000000000000000000000000000302');
    expect(vhex(m.cpu, 4)).toBe('00000000000000000000000000000001');
    expect([...m.ram.bytes.subarray(DATA - RAM_BASE + 32, DATA - RAM_BASE + 48)]).toEqual([...Array(16).keys()]);
  });

  it('LDP/STP of Q registers with writeback, LD1 of four registers with post-index', () => {
    const m = machine();
    run(m, 'ldp q0, q1, [x0], #32\n ld1 {v2.16b-v5.16b}, [x1], #64\n ld1 {v6.8b}, [x2]', { 0: DATA, 1: DATA, 2: DATA + 8 });
    expect(vhex(m.cpu, 1)).toBe('1f1e1d1c1b1a19181716151413121110');
    expect(vhex(m.cpu, 5)).toBe('3f3e3d3c3b3a39383736353433323130');
    expect(vhex(m.cpu, 6)).toBe('00000000000000000f0e0d0c0b0a0908');
    expect(m.x(0)).toBe(BigInt(DATA + 32));
    expect(m.x(1)).toBe(BigInt(DATA + 64));
  });

  it('LD2/LD3/LD4 de-interleave, ST2 interleaves, LD1R replicates, LD1 lane keeps the rest', () => {
    const m = machine();
    run(m, 'ld2 {v0.8b, v1.8b}, [x0]\n ld4 {v2.4h-v5.4h}, [x0]\n ld1r {v6.4s}, [x0]\n movi v7.16b, #0xaa\n ld1 {v7.h}[3], [x0]\n st2 {v0.8b, v1.8b}, [x1]', { 0: DATA, 1: DATA + 128 });
    expect(vhex(m.cpu, 0)).toBe('00000000000000000e0c0a0806040200');
    expect(vhex(m.cpu, 1)).toBe('00000000000000000f0d0b0907050301');
    expect(vhex(m.cpu, 2)).toBe('00000000000000001918111009080100');
    expect(vhex(m.cpu, 6)).toBe('03020100030201000302010003020100');
    expect(vhex(m.cpu, 7)).toBe('aaaaaaaaaaaaaaaa0100aaaaaaaaaaaa');
    expect([...m.ram.bytes.subarray(DATA - RAM_BASE + 128, DATA - RAM_BASE + 144)]).toEqual([...Array(16).keys()]);
  });

  it('runs the strlen idiom: cmeq, shrn, fmov, umaxp, addp', () => {
    const m = machine();
    m.ram.bytes[DATA - RAM_BASE + 5] = 0;
    m.ram.bytes[DATA - RAM_BASE] = 0xff;
    run(m, 'ld1 {v0.16b}, [x0]\n cmeq v0.16b, v0.16b, #0\n shrn v1.8b, v0.8h, #4\n fmov x1, d1\n umaxp v2.16b, v0.16b, v0.16b\n fmov x2, d2\n addp v3.16b, v0.16b, v0.16b', { 0: DATA });
    expect(m.x(1)).toBe(0x0000000000f00000n);
    expect(m.x(2)).toBe(0x0000000000ff0000n);
  });

  it('moves: dup, ins, umov, smov, movi, mvni, fmov immediate', () => {
    const m = machine();
    run(m, 'dup v0.8h, w1\n ins v0.s[3], w2\n umov w3, v0.h[1]\n smov x4, v0.b[14]\n movi v1.4s, #0x12, lsl #8\n mvni v2.8h, #0x34\n fmov v3.4s, #1.0\n fmov d4, #-2.5\n mov v5.d[1], x2\n bic v1.4s, #0x2, lsl #8', { 1: 0x1234abcd, 2: 0x80ff0000 });
    expect(vhex(m.cpu, 0)).toBe('80ff0000abcdabcdabcdabcdabcdabcd');
    expect(m.x(3)).toBe(0xabcdn);
    expect(m.x(4)).toBe(-1n & 0xffffffffffffffffn);
    expect(vhex(m.cpu, 1)).toBe('00001000000010000000100000001000');
    expect(vhex(m.cpu, 2)).toBe('ffcbffcbffcbffcbffcbffcbffcbffcb');
    expect(vhex(m.cpu, 3)).toBe('3f8000003f8000003f8000003f800000');
    expect(vhex(m.cpu, 4)).toBe('0000000000000000c004000000000000');
  });

  it('permutes and tables: zip, uzp, trn, ext, tbl, rev, cnt', () => {
    const m = machine();
    run(m, 'ldp q0, q1, [x0]\n zip1 v2.16b, v0.16b, v1.16b\n uzp2 v3.8h, v0.8h, v1.8h\n trn1 v4.4s, v0.4s, v1.4s\n ext v5.16b, v0.16b, v1.16b, #3\n tbl v6.16b, {v0.16b, v1.16b}, v4.16b\n rev64 v7.16b, v0.16b\n cnt v8.16b, v1.16b\n addv b9, v8.16b', { 0: DATA });
    expect(vhex(m.cpu, 2)).toBe('17071606150514041303120211011000');
    expect(vhex(m.cpu, 3)).toBe('1f1e1b1a171613120f0e0b0a07060302');
    expect(vhex(m.cpu, 4)).toBe('1b1a19180b0a09081312111003020100');
    expect(vhex(m.cpu, 5)).toBe('1211100f0e0d0c0b0a09080706050403');
    expect(vhex(m.cpu, 6)).toBe('1b1a19180b0a09081312111003020100');
    expect(vhex(m.cpu, 7)).toBe('08090a0b0c0d0e0f0001020304050607');
    expect(m.cpu.vb[9 * 16]).toBe(16 + 32); // 0x10..0x1f: one bit each plus popcount(0..15)
  });

  it('traps on CPACR_EL1.FPEN with EC 0x07 and leaves the register file alone', () => {
    const m = machine();
    m.cpu.setSys(Sys.CPACR_EL1, 0, 0);
    m.cpu.setSys(Sys.VBAR_EL1, RAM_BASE + 0x8000, 0);
    m.load('hvc #0', RAM_BASE + 0x8200);
    m.load('fmov d0, x1');
    m.setX(1, 5n);
    m.runToHvc();
    expect(m.cpu.sysLo(Sys.ESR_EL1) >>> 0).toBe(0x1e000000 | (1 << 25));
    expect(vhex(m.cpu, 0)).toBe('0'.repeat(32));
  });

  it('FPEN = 01 traps EL0 only; MRS/MSR FPCR/FPSR trap like the instructions and keep only implemented bits', () => {
    const m = machine();
    m.cpu.setSys(Sys.CPACR_EL1, 1 << 20, 0);
    run(m, 'msr fpcr, x1\n msr fpsr, x1\n mrs x2, fpcr\n mrs x3, fpsr', { 1: 0xffffffffffffffffn });
    expect(m.x(2)).toBe(0x07c00000n); // AHP, DN, FZ, RMode (QEMU -cpu max also keeps the FEAT_AFP/FP16/EBF16 and AArch32 bits)
    expect(m.x(3)).toBe(0xf800009fn);
    m.cpu.setSys(Sys.CPACR_EL1, 2 << 20, 0);
    m.cpu.setSys(Sys.VBAR_EL1, RAM_BASE + 0x8000, 0);
    m.load('hvc #0', RAM_BASE + 0x8200);
    run(m, 'mrs x2, fpsr');
    expect(m.cpu.sysLo(Sys.ESR_EL1) >>> 0).toBe(0x1e000000 | (1 << 25));
  });

  it('leaves unallocated SIMD&FP load/store and data-processing encodings UNDEFINED', () => {
    const m = machine();
    m.cpu.setSys(Sys.VBAR_EL1, RAM_BASE + 0x8000, 0);
    m.load('hvc #0', RAM_BASE + 0x8200);
    const forms = [
      0x3d800000 | (1 << 22) | (1 << 30), // LDR with size 01, opc 11 (no H-sized Q form)
      0xed400000, // LDP (SIMD&FP) opc = 11
      0x3c400800, // LDTR-style unprivileged SIMD&FP: unallocated
      0x0c402000 | (3 << 10), // LD4 .1d: size 11 with Q = 0 and selem > 1
      0x4ee08400 & ~(1 << 30), // ADD .1d (vector, Q = 0, size 11)
      0x1e202000, // FCMP: FP arithmetic is not implemented yet
    ];
    for (const word of forms) {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, word >>> 0, true);
      m.load(new Uint8Array([...bytes, 0x02, 0x00, 0x00, 0xd4]));
      m.setX(0, BigInt(DATA));
      m.runToHvc();
      expect(m.cpu.sysLo(Sys.ESR_EL1) >>> 26, word.toString(16)).toBe(0);
    }
  });
});
