import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { decodeOrderedUnscaled } from '../../src/cpu/isa/ldst-exclusive.js';
import { assemble, assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';
import { AP_EL1_RO, installVectors, PAGES, setTags, tagged, takenException, TestMmu, type MmuOptions } from '../support/mmu.js';

const EC_DABT = 0x25;
const DFSC_PERMISSION_L3 = 0x0f;
const DFSC_TAG = 0x11;
const DFSC_ALIGNMENT = 0x21;
const DATA = PAGES + 0x800;
const GARBAGE = 0xdeadbeefcafef00dn;

function machine(options: MmuOptions = {}): { m: TestMachine; mmu: TestMmu } {
  const m = new TestMachine();
  installVectors(m);
  const mmu = new TestMmu(m, options);
  return { m, mmu };
}

function run(m: TestMachine, source: string, regs: Record<number, bigint | number> = {}): void {
  m.load(`${source}\n hvc #0`);
  // A previous run may have taken an exception: back to EL1h with PSTATE.TCO clear.
  m.cpu.setElSp(1, 1);
  m.cpu.setTco(0);
  for (const [r, v] of Object.entries(regs)) m.setX(Number(r), BigInt(v));
  m.runToHvc();
}

function mem(m: TestMachine, addr: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(m.ram.bytes[addr - RAM_BASE + i]!);
  return v;
}

function setMem(m: TestMachine, addr: number, size: number, value: bigint): void {
  for (let i = 0; i < size; i++) m.ram.bytes[addr - RAM_BASE + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

const SIZES = [
  { suffix: 'b', reg: 'w', bytes: 1 },
  { suffix: 'h', reg: 'w', bytes: 2 },
  { suffix: '', reg: 'w', bytes: 4 },
  { suffix: '', reg: 'x', bytes: 8 },
] as const;

describe.runIf(assemblerAvailable())('exclusives', () => {
  it('succeeds when the monitor matches, for every size, and always opens the monitor', () => {
    const { m } = machine();
    for (const { suffix, reg, bytes } of SIZES) {
      const mask = (1n << BigInt(8 * bytes)) - 1n;
      setMem(m, DATA, 8, 0x8899aabbccddeeffn);
      run(m, `ldaxr${suffix} ${reg}2, [x1]\n stlxr${suffix} w3, ${reg}4, [x1]\n stxr${suffix} w5, ${reg}6, [x1]`, {
        1: DATA,
        2: GARBAGE,
        3: GARBAGE,
        4: 0x0123456789abcdefn,
        5: GARBAGE,
        6: 0n,
      });
      expect(m.x(2), reg + suffix).toBe(0x8899aabbccddeeffn & mask);
      expect(m.x(3), reg + suffix).toBe(0n); // stored
      expect(m.x(5), reg + suffix).toBe(1n); // the first store-exclusive opened the monitor
      expect(mem(m, DATA, bytes)).toBe(0x0123456789abcdefn & mask);
    }
  });

  it('fails without a matching load-exclusive', () => {
    const { m } = machine();
    setMem(m, DATA, 16, 0n);
    const failing = [
      'stxr w3, x4, [x1]', // monitor never armed
      'ldxr x2, [x1]\n clrex\n stxr w3, x4, [x1]',
      'ldxr x2, [x1]\n add x1, x1, #8\n stxr w3, x4, [x1]', // another address...
      'ldxr x2, [x1]\n add x5, x1, #8\n stxr w3, x4, [x5]',
      'ldxr w2, [x1]\n stxr w3, x4, [x1]', // ...or another size
      'ldxr x2, [x1]\n svc #0', // exceptions open the monitor (the SVC exits through the vectors)
    ];
    for (const source of failing) {
      m.cpu.exclusivePa = -1;
      run(m, source, { 1: DATA, 3: GARBAGE, 4: GARBAGE });
      if (source.includes('svc')) {
        expect(m.cpu.exclusivePa).toBe(-1);
        continue;
      }
      expect(m.x(3), source).toBe(1n);
      expect(mem(m, DATA, 16), source).toBe(0n);
    }
  });

  it('handles register pairs as one access', () => {
    const { m } = machine();
    setMem(m, DATA, 16, 0x0f0e0d0c0b0a09080706050403020100n);
    run(m, 'ldaxp x2, x3, [x1]\n stlxp w4, x5, x6, [x1]', { 1: DATA, 5: 0x1111n, 6: 0x2222n });
    expect([m.x(2), m.x(3), m.x(4)]).toEqual([0x0706050403020100n, 0x0f0e0d0c0b0a0908n, 0n]);
    expect([mem(m, DATA, 8), mem(m, DATA + 8, 8)]).toEqual([0x1111n, 0x2222n]);
    run(m, 'ldxp w2, w3, [x1]\n stxp w4, w5, w6, [x1]', { 1: DATA + 8, 5: 0xaaaan, 6: 0xbbbbn });
    expect([m.x(2), m.x(3), m.x(4)]).toEqual([0x2222n, 0n, 0n]);
    expect(mem(m, DATA + 8, 8)).toBe(0x0000bbbb0000aaaan);
    run(m, 'ldxp x2, x2, [x1]', { 1: DATA });
    expect(m.x(2)).toBe(0x0000bbbb0000aaaan); // Rt == Rt2: the second element
  });

  it('must not cross a 16-byte boundary (FEAT_LSE2), store-exclusive included', () => {
    const { m } = machine();
    run(m, 'ldxr x2, [x1]\n stxr w3, x2, [x1]', { 1: DATA + 4 });
    expect(takenException(m)).toBeNull();
    expect(m.x(3)).toBe(0n);
    for (const [source, base, wnr] of [
      ['ldxr x2, [x1]', DATA + 12, 0],
      ['ldxp x2, x3, [x1]', DATA + 8, 0],
      ['stxr w3, x2, [x1]', DATA + 12, 1], // checked even though the monitor is open
      ['ldaxrh w2, [x1]', DATA + 15, 0],
    ] as const) {
      run(m, source, { 1: base, 3: GARBAGE });
      const e = takenException(m)!;
      expect([e.ec, e.dfsc, e.wnr], source).toEqual([EC_DABT, DFSC_ALIGNMENT, wnr]);
      expect(e.far, source).toBe(BigInt(base));
      expect(m.x(3), source).toBe(GARBAGE);
    }
  });

  it('is tag-checked: reads for load-exclusive, writes for store-exclusive', () => {
    const { m } = machine({ tcf: 1 });
    setTags(m, DATA, 16, 2);
    run(m, 'ldxr x2, [x1]', { 1: tagged(DATA, 7), 2: GARBAGE });
    let e = takenException(m)!;
    expect([e.dfsc, e.wnr, m.x(2), m.cpu.exclusivePa]).toEqual([DFSC_TAG, 0, GARBAGE, -1]);
    run(m, 'ldxr x2, [x1]\n stxr w3, x4, [x3]', { 1: tagged(DATA, 2), 3: tagged(DATA, 7) });
    e = takenException(m)!;
    expect([e.dfsc, e.wnr]).toEqual([DFSC_TAG, 1]);
  });
});

describe.runIf(assemblerAvailable())('load-acquire / store-release', () => {
  it('loads and stores every size, LDAPR included', () => {
    const { m } = machine();
    setMem(m, DATA, 8, 0xfedcba9876543210n);
    const cases: [string, bigint][] = [
      ['ldarb w2, [x1]', 0x10n],
      ['ldarh w2, [x1]', 0x3210n],
      ['ldar w2, [x1]', 0x76543210n],
      ['ldar x2, [x1]', 0xfedcba9876543210n],
      ['ldaprb w2, [x1]', 0x10n],
      ['ldaprh w2, [x1]', 0x3210n],
      ['ldapr w2, [x1]', 0x76543210n],
      ['ldapr x2, [x1]', 0xfedcba9876543210n],
    ];
    for (const [source, expected] of cases) {
      run(m, source, { 1: DATA, 2: GARBAGE });
      expect(m.x(2), source).toBe(expected);
    }
    run(m, 'stlrb w2, [x1]\n stlrh w2, [x5]\n stlr w2, [x3]\n stlr x2, [x4]', { 1: DATA, 2: 0x1122334455667788n, 3: DATA + 4, 4: DATA + 8, 5: DATA + 2 });
    expect(mem(m, DATA, 16)).toBe(0x1122334455667788n * 2n ** 64n + 0x55667788n * 2n ** 32n + 0x77883288n);
  });

  it('allows misalignment inside a 16-byte block, or anywhere with SCTLR_EL1.nAA', () => {
    const { m } = machine();
    setMem(m, DATA, 16, 0x0f0e0d0c0b0a09080706050403020100n);
    run(m, 'ldar x2, [x1]\n ldapr w3, [x1]\n stlr w3, [x5]', { 1: DATA + 3, 5: DATA + 12 });
    expect(takenException(m)).toBeNull();
    expect(m.x(2)).toBe(0x0a09080706050403n);
    for (const source of ['ldar x2, [x1]', 'stlr x2, [x1]', 'ldapr w2, [x3]', 'ldarh w2, [x4]']) {
      run(m, source, { 1: DATA + 12, 3: DATA + 13, 4: DATA + 15 });
      expect(takenException(m)?.dfsc, source).toBe(DFSC_ALIGNMENT);
    }
    m.cpu.setSys(Sys.SCTLR_EL1, m.cpu.sysLo(Sys.SCTLR_EL1) | (1 << 6), m.cpu.sysHi(Sys.SCTLR_EL1));
    run(m, 'ldar x2, [x1]', { 1: DATA + 12 });
    expect(takenException(m)).toBeNull();
  });
});

describe.runIf(assemblerAvailable())('LDAPUR / STLUR (FEAT_LRCPC2)', () => {
  it('decodes and executes', () => {
    const { m } = machine();
    setMem(m, DATA - 8, 16, 0x0f0e0d0c0b0a09080706050403020180n);
    const words = new DataView(assemble('ldapursw x2, [x1, #-6]\n ldapursb w3, [x1, #-8]\n ldapur x4, [x1, #-8]\n stlurh w5, [x1, #5]').buffer);
    m.setX(1, BigInt(DATA));
    m.setX(5, 0xabcdn);
    for (let k = 0; k < 4; k++) {
      const insn = decodeOrderedUnscaled(words.getUint32(4 * k, true))!;
      insn.exec(m.cpu, insn);
    }
    expect([m.x(2), m.x(3), m.x(4)]).toEqual([0x05040302n, 0xffffff80n, 0x0706050403020180n]);
    expect(mem(m, DATA + 5, 2)).toBe(0xabcdn);
  });
});

// ---- atomics ----

type AtomicOp = 'add' | 'clr' | 'eor' | 'set' | 'smax' | 'smin' | 'umax' | 'umin' | 'swp';

/** Reference model: the value stored by `op` on `size`-byte memory value `old` and operand `s`. */
function reference(op: AtomicOp, bytes: number, old: bigint, s: bigint): bigint {
  const bits = BigInt(bytes * 8);
  const u = (v: bigint) => BigInt.asUintN(Number(bits), v);
  const signed = (v: bigint) => BigInt.asIntN(Number(bits), v);
  switch (op) {
    case 'add':
      return u(old + s);
    case 'clr':
      return u(old & ~s);
    case 'eor':
      return u(old ^ s);
    case 'set':
      return u(old | s);
    case 'smax':
      return signed(old) > signed(s) ? u(old) : u(s);
    case 'smin':
      return signed(old) < signed(s) ? u(old) : u(s);
    case 'umax':
      return u(old) > u(s) ? u(old) : u(s);
    case 'umin':
      return u(old) < u(s) ? u(old) : u(s);
    case 'swp':
      return u(s);
  }
}

function boundaryValues(bytes: number): bigint[] {
  const bits = BigInt(bytes * 8);
  const max = (1n << bits) - 1n;
  const half = 1n << (bits - 1n);
  return [0n, 1n, 2n, half - 1n, half, half + 1n, max - 1n, max, 0x5a5a5a5a5a5a5a5an & max];
}

describe.runIf(assemblerAvailable())('atomic memory operations', () => {
  const ops: AtomicOp[] = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin', 'swp'];
  for (const op of ops) {
    it(`LD${op.toUpperCase()} / ST${op.toUpperCase()} match the BigInt model at boundary values`, () => {
      const { m } = machine();
      for (const { suffix, reg, bytes } of SIZES) {
        const values = boundaryValues(bytes);
        for (const order of ['', 'a', 'l', 'al']) {
          const mnemonic = op === 'swp' ? `swp${order}${suffix}` : `ld${op}${order}${suffix}`;
          m.load(`${mnemonic} ${reg}2, ${reg}3, [x1]\n hvc #0`);
          const program = m.cpu.pcLo;
          for (const old of values) {
            for (const s of values) {
              // Garbage above the operand size must be ignored.
              const operand = bytes === 8 ? s : s | (GARBAGE << BigInt(bytes * 8));
              setMem(m, DATA, 8, 0x7777777777777777n);
              setMem(m, DATA, bytes, old);
              m.setX(1, BigInt(DATA));
              m.setX(2, operand);
              m.setX(3, GARBAGE);
              m.cpu.pcLo = program;
              m.runToHvc();
              const label = `${mnemonic} old=${old.toString(16)} s=${s.toString(16)}`;
              expect(m.x(3), label).toBe(old);
              expect(mem(m, DATA, bytes), label).toBe(reference(op, bytes, old, s));
              if (bytes < 8) expect(mem(m, DATA + bytes, 8 - bytes), label).toBe(0x7777777777777777n >> BigInt(8 * bytes));
            }
          }
        }
      }
      if (op !== 'swp') {
        // ST<op>: the same instruction with Rt = XZR.
        setMem(m, DATA, 8, 40n);
        run(m, `st${op}l x2, [x1]`, { 1: DATA, 2: 2n });
        expect(mem(m, DATA, 8)).toBe(reference(op, 8, 40n, 2n));
      }
    });
  }

  it('checks alignment, permissions and tags once per read-modify-write', () => {
    const { m, mmu } = machine({ tcf: 1 });
    setMem(m, DATA, 16, 0n);
    run(m, 'ldadd x2, x3, [x1]', { 1: DATA + 4, 2: 1n }); // within a 16-byte block
    expect(takenException(m)).toBeNull();
    run(m, 'ldadd x2, x3, [x1]', { 1: DATA + 12, 2: 1n, 3: GARBAGE });
    let e = takenException(m)!;
    expect([e.ec, e.dfsc, e.wnr, m.x(3)]).toEqual([EC_DABT, DFSC_ALIGNMENT, 1, GARBAGE]);

    mmu.setPage(PAGES, { ap: AP_EL1_RO });
    setMem(m, DATA, 8, 5n);
    for (const source of ['ldadd x2, x3, [x1]', 'swp x2, x3, [x1]', 'cas x3, x2, [x1]', 'casp x4, x5, x2, x3, [x1]']) {
      run(m, source, { 1: DATA, 2: 1n, 3: GARBAGE });
      e = takenException(m)!;
      expect([e.ec, e.dfsc, e.wnr, m.x(3)], source).toEqual([EC_DABT, DFSC_PERMISSION_L3, 1, GARBAGE]);
      expect(mem(m, DATA, 8), source).toBe(5n);
    }
    mmu.setPage(PAGES, {});

    // Tag-check faults: LD<op>/SWP check as reads (WnR = 0), CAS/CASP as writes, as QEMU does.
    setTags(m, DATA, 16, 6);
    for (const [source, wnr] of [
      ['ldadd x2, x3, [x1]', 0],
      ['ldsmaxal w2, w3, [x1]', 0],
      ['swpb w2, w3, [x1]', 0],
      ['stclr x2, [x1]', 0],
      ['casal x3, x2, [x1]', 1],
      ['caspl x4, x5, x2, x3, [x1]', 1],
    ] as const) {
      run(m, source, { 1: tagged(DATA, 9), 2: 1n, 3: GARBAGE, 4: 5n, 5: 0n });
      e = takenException(m)!;
      expect([e.dfsc, e.wnr, m.x(3)], source).toEqual([DFSC_TAG, wnr, GARBAGE]);
      expect(e.far, source).toBe(tagged(DATA, 9));
      expect(mem(m, DATA, 8), source).toBe(5n);
    }
    run(m, 'ldadd x2, x3, [x1]', { 1: tagged(DATA, 6), 2: 1n });
    expect(takenException(m)).toBeNull();
    expect([m.x(3), mem(m, DATA, 8)]).toEqual([5n, 6n]);
  });

  it('is synchronous for LD<op> and asynchronous for CAS in asymmetric mode', () => {
    const { m } = machine({ tcf: 3 });
    setTags(m, DATA, 16, 6);
    setMem(m, DATA, 8, 5n);
    run(m, 'ldadd x2, x3, [x1]', { 1: tagged(DATA, 9), 2: 1n });
    expect(takenException(m)?.dfsc).toBe(DFSC_TAG);
    run(m, 'cas x3, x2, [x1]', { 1: tagged(DATA, 9), 2: 8n, 3: 5n });
    expect(takenException(m)).toBeNull();
    expect(mem(m, DATA, 8)).toBe(8n);
    expect(m.cpu.sysLo(Sys.TFSR_EL1) & 1).toBe(1);
  });
});

describe.runIf(assemblerAvailable())('compare and swap', () => {
  it('CAS swaps on equality for every size and returns the old value', () => {
    const { m } = machine();
    for (const { suffix, reg, bytes } of SIZES) {
      const mask = (1n << BigInt(8 * bytes)) - 1n;
      for (const order of ['', 'a', 'l', 'al']) {
        const source = `cas${order}${suffix} ${reg}2, ${reg}3, [x1]`;
        const old = 0x8081828384858687n & mask;
        // Equal (with garbage above the size in the compare register): swapped.
        setMem(m, DATA, 8, 0x6666666666666666n);
        setMem(m, DATA, bytes, old);
        run(m, source, { 1: DATA, 2: bytes === 8 ? old : old | (0xabcdn << 48n), 3: 0x1122334455667788n });
        expect(m.x(2), source).toBe(old);
        expect(mem(m, DATA, bytes), source).toBe(0x1122334455667788n & mask);
        expect(mem(m, DATA + bytes, 8 - bytes), source).toBe(0x6666666666666666n >> BigInt(8 * bytes));
        // Different: memory unchanged, Rs gets the old value.
        setMem(m, DATA, bytes, old);
        run(m, source, { 1: DATA, 2: old ^ 1n, 3: 0x1122334455667788n });
        expect(m.x(2), source).toBe(old);
        expect(mem(m, DATA, bytes), source).toBe(old);
      }
    }
  });

  it('CASP compares and swaps register pairs', () => {
    const { m } = machine();
    for (const [reg, bytes] of [['x', 8], ['w', 4]] as const) {
      const mask = (1n << BigInt(8 * bytes)) - 1n;
      const a = 0xa1a2a3a4a5a6a7a8n & mask;
      const b = 0xb1b2b3b4b5b6b7b8n & mask;
      for (const order of ['', 'a', 'l', 'al']) {
        const source = `casp${order} ${reg}2, ${reg}3, ${reg}4, ${reg}5, [x1]`;
        setMem(m, DATA, bytes, a);
        setMem(m, DATA + bytes, bytes, b);
        run(m, source, { 1: DATA, 2: a, 3: b, 4: 0x1111n, 5: 0x2222n });
        expect([m.x(2), m.x(3)], source).toEqual([a, b]);
        expect([mem(m, DATA, bytes), mem(m, DATA + bytes, bytes)], source).toEqual([0x1111n, 0x2222n]);
        setMem(m, DATA, bytes, a);
        setMem(m, DATA + bytes, bytes, b);
        run(m, source, { 1: DATA, 2: a, 3: b ^ 4n, 4: 0x1111n, 5: 0x2222n });
        expect([m.x(2), m.x(3)], source).toEqual([a, b]);
        expect([mem(m, DATA, bytes), mem(m, DATA + bytes, bytes)], source).toEqual([a, b]);
      }
    }
    // X pairs must be 16-byte aligned; W pairs only stay inside a 16-byte block.
    run(m, 'casp w2, w3, w4, w5, [x1]', { 1: DATA + 4 });
    expect(takenException(m)).toBeNull();
    run(m, 'casp x2, x3, x4, x5, [x1]', { 1: DATA + 8 });
    expect(takenException(m)?.dfsc).toBe(DFSC_ALIGNMENT);
    // Rs = x30: the second compare register is XZR and its write is discarded.
    setMem(m, DATA, 16, 0x77n);
    run(m, 'casp x30, xzr, x4, x5, [x1]', { 1: DATA, 30: 0x77n, 4: 1n, 5: 2n });
    expect([mem(m, DATA, 8), mem(m, DATA + 8, 8), m.x(30)]).toEqual([1n, 2n, 0x77n]);
  });
});
