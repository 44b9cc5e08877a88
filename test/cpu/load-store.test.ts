import { describe, expect, it } from 'vitest';
import { decode, undef } from '../../src/cpu/decoder.js';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';
import { AP_ALL_RW, ATTR_NORMAL, installVectors, MMIO_BLOCK, PAGES, setTags, tagged, takenException, TestMmu, type MmuOptions } from '../support/mmu.js';

const EC_UNKNOWN = 0x00;
const EC_DABT = 0x25;
const EC_SP_ALIGN = 0x26;
const DFSC_TRANSLATION_L3 = 0x07;
const DFSC_PERMISSION_L3 = 0x0f;
const DFSC_TAG = 0x11;
const DFSC_ALIGNMENT = 0x21;

/** A data buffer in the middle of the first page of the PAGES window (Normal Tagged, tags 0). */
const DATA = PAGES + 0x800;
const GARBAGE = 0xdeadbeefcafef00dn;

function machine(options: MmuOptions = {}): { m: TestMachine; mmu: TestMmu } {
  const m = new TestMachine();
  installVectors(m);
  const mmu = new TestMmu(m, options);
  return { m, mmu };
}

/** Runs `source` (an `hvc #0` is appended) with the given registers (32 = SP). */
function run(m: TestMachine, source: string, regs: Record<number, bigint | number> = {}): void {
  m.load(`${source}\n hvc #0`);
  // A previous run may have taken an exception: back to EL1h with PSTATE.TCO clear.
  m.cpu.setElSp(1, 1);
  m.cpu.setTco(0);
  for (const [r, v] of Object.entries(regs)) m.setX(Number(r), BigInt(v));
  m.runToHvc();
}

function fill(m: TestMachine, addr: number, length: number, seed = 0): void {
  for (let i = 0; i < length; i++) m.ram.bytes[addr - RAM_BASE + i] = (i * 37 + 0x85 + seed) & 0xff;
}

/** `size` little-endian bytes at addr, zero- or sign-extended to 64 bits. */
function mem(m: TestMachine, addr: number, size: number, signed = false): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(m.ram.bytes[addr - RAM_BASE + i]!);
  return signed ? BigInt.asUintN(64, BigInt.asIntN(size * 8, v)) : v;
}

function setMem(m: TestMachine, addr: number, size: number, value: bigint): void {
  for (let i = 0; i < size; i++) m.ram.bytes[addr - RAM_BASE + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

function snapshot(m: TestMachine, addr: number, length: number): Uint8Array {
  return m.ram.bytes.slice(addr - RAM_BASE, addr - RAM_BASE + length);
}

/** Expected register value of a load: ext 'z' zero, 'w' sign into W, 'x' sign into X. */
function loaded(m: TestMachine, addr: number, size: number, ext: 'z' | 'w' | 'x'): bigint {
  if (ext === 'z') return mem(m, addr, size);
  const s = mem(m, addr, size, true);
  return ext === 'w' ? s & 0xffffffffn : s;
}

describe.runIf(assemblerAvailable())('load/store register', () => {
  it('loads every size with zero and sign extension in every addressing mode', () => {
    const { m } = machine();
    fill(m, DATA - 0x100, 0x200);
    // [source, offset of the access from x1, size, extension, x1 writeback delta]
    const cases: [string, number, number, 'z' | 'w' | 'x', number][] = [
      ['ldrb w2, [x1, #3]', 3, 1, 'z', 0],
      ['ldrsb w2, [x1, #3]', 3, 1, 'w', 0],
      ['ldrsb x2, [x1, #3]', 3, 1, 'x', 0],
      ['ldrh w2, [x1, #6]', 6, 2, 'z', 0],
      ['ldrsh w2, [x1, #6]', 6, 2, 'w', 0],
      ['ldrsh x2, [x1, #6]', 6, 2, 'x', 0],
      ['ldr w2, [x1, #12]', 12, 4, 'z', 0],
      ['ldrsw x2, [x1, #12]', 12, 4, 'x', 0],
      ['ldr x2, [x1, #24]', 24, 8, 'z', 0],
      ['ldr x2, [x1, #32760]', 32760, 8, 'z', 0],
      ['ldur x2, [x1, #-5]', -5, 8, 'z', 0],
      ['ldur w2, [x1, #-255]', -255, 4, 'z', 0],
      ['ldurh w2, [x1, #255]', 255, 2, 'z', 0],
      ['ldursh x2, [x1, #-1]', -1, 2, 'x', 0],
      ['ldursb w2, [x1, #-7]', -7, 1, 'w', 0],
      ['ldursw x2, [x1, #-3]', -3, 4, 'x', 0],
      ['ldr x2, [x1, #-16]!', -16, 8, 'z', -16],
      ['ldrsb x2, [x1, #9]!', 9, 1, 'x', 9],
      ['ldrh w2, [x1, #-256]!', -256, 2, 'z', -256],
      ['ldrsw x2, [x1, #255]!', 255, 4, 'x', 255],
      ['ldr w2, [x1], #-4', 0, 4, 'z', -4],
      ['ldrsh w2, [x1], #3', 0, 2, 'w', 3],
      ['ldrb w2, [x1], #1', 0, 1, 'z', 1],
      ['ldr x2, [x1], #255', 0, 8, 'z', 255],
    ];
    for (const [source, offset, size, ext, delta] of cases) {
      const base = offset === 32760 ? DATA - 32760 + 8 : DATA;
      run(m, source, { 1: base, 2: GARBAGE });
      expect(m.x(2), source).toBe(loaded(m, base + offset, size, ext));
      expect(m.x(1), source).toBe(BigInt(base + delta));
    }
  });

  it('stores every size in every addressing mode and leaves neighbours alone', () => {
    const { m } = machine();
    const value = 0x8877665544332211n;
    const cases: [string, number, number, number][] = [
      ['strb w2, [x1, #3]', 3, 1, 0],
      ['strh w2, [x1, #6]', 6, 2, 0],
      ['str w2, [x1, #12]', 12, 4, 0],
      ['str x2, [x1, #24]', 24, 8, 0],
      ['sturb w2, [x1, #-1]', -1, 1, 0],
      ['sturh w2, [x1, #-3]', -3, 2, 0],
      ['stur w2, [x1, #5]', 5, 4, 0],
      ['stur x2, [x1, #-255]', -255, 8, 0],
      ['strb w2, [x1, #-9]!', -9, 1, -9],
      ['str x2, [x1, #17]!', 17, 8, 17],
      ['strh w2, [x1], #-2', 0, 2, -2],
      ['str w2, [x1], #100', 0, 4, 100],
    ];
    for (const [source, offset, size, delta] of cases) {
      fill(m, DATA - 0x200, 0x400, offset);
      const before = snapshot(m, DATA - 0x200, 0x400);
      run(m, source, { 1: DATA, 2: value });
      const after = snapshot(m, DATA - 0x200, 0x400);
      const at = 0x200 + offset;
      for (let i = 0; i < after.length; i++) {
        const expected = i >= at && i < at + size ? Number((value >> BigInt(8 * (i - at))) & 0xffn) : before[i];
        if (after[i] !== expected) expect.fail(`${source}: byte ${i - 0x200} is ${after[i]}, expected ${expected}`);
      }
      expect(m.x(1), source).toBe(BigInt(DATA + delta));
    }
  });

  it('computes register offsets with every extend and shift', () => {
    const { m } = machine();
    fill(m, DATA - 0x100, 0x200);
    const cases: [string, bigint, number, number, 'z' | 'w' | 'x'][] = [
      ['ldr x2, [x1, x3, lsl #3]', 2n, 16, 8, 'z'],
      ['ldr x2, [x1, x3]', -3n, -3, 8, 'z'],
      ['ldr w2, [x1, w3, uxtw #2]', 0xabcdef0100000003n, 12, 4, 'z'],
      ['ldr x2, [x1, w3, sxtw #3]', 0x12345678fffffffen, -16, 8, 'z'],
      ['ldrb w2, [x1, w3, sxtw]', 0x00000000fffffff9n, -7, 1, 'z'],
      ['ldrsb x2, [x1, x3, sxtx]', -1n, -1, 1, 'x'],
      ['ldrh w2, [x1, x3, lsl #1]', 5n, 10, 2, 'z'],
      ['ldrsh w2, [x1, w3, uxtw #1]', 0xffffffff00000007n, 14, 2, 'w'],
      ['ldrsw x2, [x1, x3, sxtx #2]', -1n, -4, 4, 'x'],
      ['ldr x2, [x1, w3, uxtw]', 0x10n, 16, 8, 'z'],
    ];
    for (const [source, index, offset, size, ext] of cases) {
      run(m, source, { 1: DATA, 2: GARBAGE, 3: index });
      expect(m.x(2), source).toBe(loaded(m, DATA + offset, size, ext));
    }
    run(m, 'strh w2, [x1, x3, lsl #1]\n str x2, [x1, w4, sxtw #3]', { 1: DATA, 2: 0x1122334455667788n, 3: 4n, 4: 0xffffffffn });
    expect(mem(m, DATA + 8, 2)).toBe(0x7788n);
    expect(mem(m, DATA - 8, 8)).toBe(0x1122334455667788n);
  });

  it('handles XZR as the transfer register and carries addresses into the high word', () => {
    const { m } = machine();
    setMem(m, DATA, 8, 0x0123456789abcdefn);
    run(m, 'ldr xzr, [x1]\n str xzr, [x1, #8]\n str wzr, [x1, #16]', { 1: DATA });
    expect(mem(m, DATA + 8, 8)).toBe(0n);
    expect(mem(m, DATA + 16, 8) & 0xffffffffn).toBe(0n);
    // VA 0x1_0000_0000 aliases RAM_BASE (the code page): carry out of the low word.
    run(m, 'ldr x2, [x1, #8]', { 1: 0xfffffff8n });
    expect(m.x(2)).toBe(mem(m, RAM_BASE, 8));
    run(m, 'ldr x2, [x1, x3]', { 1: 0xfffffff0n, 3: 0x10n });
    expect(m.x(2)).toBe(mem(m, RAM_BASE, 8));
    run(m, 'ldr x2, [x1, #8]!', { 1: 0xfffffff8n });
    expect(m.x(1)).toBe(0x100000000n);
    // Borrow: 0x1_0000_0008 - 16 = 0xffff_fff8, which is unmapped.
    run(m, 'ldur x2, [x1, #-16]', { 1: 0x100000008n });
    const e = takenException(m)!;
    expect(e.ec).toBe(EC_DABT);
    expect(e.far).toBe(0xfffffff8n);
  });

  it('resolves writeback with Rn == Rt like QEMU', () => {
    const { m } = machine();
    setMem(m, DATA, 8, 0x1111222233334444n);
    run(m, 'ldr x1, [x1], #8', { 1: DATA });
    expect(m.x(1)).toBe(BigInt(DATA + 8)); // the written-back address wins
    run(m, 'str x1, [x1, #8]!', { 1: DATA });
    expect(mem(m, DATA + 8, 8)).toBe(BigInt(DATA)); // the value before writeback is stored
    expect(m.x(1)).toBe(BigInt(DATA + 8));
  });

  it('loads literals and treats every PRFM as a no-op that never faults', () => {
    const { m, mmu } = machine();
    mmu.setPage(PAGES + 0x3000, { valid: false });
    run(
      m,
      `ldr x2, 1f
       ldr w3, 1f
       ldrsw x4, 2f
       prfm pldl1keep, 1f
       prfm pldl1keep, [x1]
       prfum pstl2strm, [x1, #-3]
       prfm pldl3keep, [x1, x5, lsl #3]
       b 3f
       .balign 8
    1: .quad 0xfedcba9876543210
    2: .word 0x80000001
    3: nop`,
      { 1: PAGES + 0x3000, 3: GARBAGE, 5: 7n },
    );
    expect(takenException(m)).toBeNull();
    expect(m.x(2)).toBe(0xfedcba9876543210n);
    expect(m.x(3)).toBe(0x76543210n);
    expect(m.x(4)).toBe(0xffffffff80000001n);
  });

  it('runs loops on the TLB fast path with the same results', () => {
    const { m } = machine();
    fill(m, DATA - 0x800, 0x1800);
    // Sum 600 bytes forward (post-index, crossing into the next page), copy words back and forth.
    run(
      m,
      `mov x2, #0
       mov x4, #600
    1: ldrb w3, [x1], #1
       add x2, x2, x3
       subs x4, x4, #1
       b.ne 1b
       mov x4, #64
    2: ldr x5, [x6, #8]!
       str x5, [x7], #8
       ldrsh w8, [x6, #2]
       strh w8, [x7, #-2]
       subs x4, x4, #1
       b.ne 2b`,
      { 1: DATA, 6: DATA - 0x800, 7: DATA + 0x900 },
    );
    let sum = 0n;
    for (let i = 0; i < 600; i++) sum += mem(m, DATA + i, 1);
    expect(m.x(2)).toBe(sum);
    for (let k = 0; k < 64; k++) {
      const src = DATA - 0x800 + 8 * (k + 1);
      const word = mem(m, src, 8);
      const half = mem(m, src + 2, 2);
      expect(mem(m, DATA + 0x900 + 8 * k, 8)).toBe((word & ~(0xffffn << 48n)) | (half << 48n));
    }
  });

  it('unprivileged loads and stores use EL0 permissions', () => {
    const { m, mmu } = machine();
    setMem(m, DATA, 8, 0x5555aaaa5555aaaan);
    run(m, 'ldtr x2, [x1]', { 1: DATA });
    let e = takenException(m)!;
    expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_PERMISSION_L3, 0]);
    run(m, 'sttrh w2, [x1, #4]', { 1: DATA });
    e = takenException(m)!;
    expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_PERMISSION_L3, 1]);
    mmu.setPage(PAGES, { ap: AP_ALL_RW });
    const cases: [string, bigint][] = [
      ['ldtr x2, [x1]', 0x5555aaaa5555aaaan],
      ['ldtrsb x2, [x1, #1]', 0xffffffffffffffaan],
      ['ldtrsh w2, [x1, #2]', 0x5555n],
      ['ldtrsw x2, [x1, #1]', 0xffffffffaa5555aan],
      ['ldtrb w2, [x1, #-256]', 0n],
    ];
    for (const [source, expected] of cases) {
      run(m, source, { 1: DATA, 2: GARBAGE });
      expect(m.x(2), source).toBe(expected);
    }
    run(m, 'sttr w3, [x1, #8]\n sttrb w3, [x1, #255]', { 1: DATA, 3: 0x12345678n });
    expect(mem(m, DATA + 8, 4)).toBe(0x12345678n);
    expect(mem(m, DATA + 255, 1)).toBe(0x78n);
  });

  it('crosses pages: loads combine two translations, a store faulting on the second page writes nothing', () => {
    const { m, mmu } = machine();
    // Page 1 of the window maps page 5's memory, so a crossing access reads two separate places.
    mmu.setPage(PAGES + 0x1000, { pa: PAGES + 0x5000 });
    setMem(m, PAGES + 0x0ffc, 4, 0x44332211n);
    setMem(m, PAGES + 0x5000, 4, 0x88776655n);
    run(m, 'ldr x2, [x1]\n ldur w3, [x1, #2]', { 1: PAGES + 0x0ffc });
    expect(m.x(2)).toBe(0x8877665544332211n);
    expect(m.x(3)).toBe(0x66554433n);
    run(m, 'str x4, [x1]', { 1: PAGES + 0x0ffe, 4: 0x0102030405060708n });
    expect(mem(m, PAGES + 0x0ffe, 2)).toBe(0x0708n);
    expect(mem(m, PAGES + 0x5000, 6)).toBe(0x010203040506n);

    mmu.setPage(PAGES + 0x1000, { valid: false });
    const before = snapshot(m, PAGES + 0x0ff0, 16);
    run(m, 'str x4, [x1]', { 1: PAGES + 0x0ffd, 4: GARBAGE });
    const e = takenException(m)!;
    expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_TRANSLATION_L3, 1]);
    expect(e.far).toBe(BigInt(PAGES + 0x1000)); // the faulting VA: the first byte of the second page
    expect(e.elr).toBe(BigInt(RAM_BASE));
    expect(snapshot(m, PAGES + 0x0ff0, 16)).toEqual(before);
    run(m, 'ldr x2, [x1]', { 1: PAGES + 0x0ffd, 2: GARBAGE });
    expect(takenException(m)!.wnr).toBe(0);
    expect(m.x(2)).toBe(GARBAGE);
  });

  it('aligns Device memory accesses (MMU off) and SCTLR_EL1.A', () => {
    const m = new TestMachine();
    installVectors(m);
    run(m, 'ldr x2, [x1]', { 1: RAM_BASE + 0x10001 });
    let e = takenException(m)!;
    expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_ALIGNMENT, 0]);
    expect(e.far).toBe(BigInt(RAM_BASE + 0x10001));
    run(m, 'ldr x2, [x1]\n stp w2, w3, [x1, #12]', { 1: RAM_BASE + 0x10008 });
    expect(takenException(m)).toBeNull(); // pairs are aligned per element
    const { m: m2 } = machine({ alignCheck: true });
    run(m2, 'ldp x2, x3, [x1]', { 1: DATA + 8 }); // 8-aligned pair: fine
    expect(takenException(m2)).toBeNull();
    run(m2, 'ldrh w2, [x1]', { 1: DATA + 1 });
    e = takenException(m2)!;
    expect([e.ec, e.dfsc]).toEqual([EC_DABT, DFSC_ALIGNMENT]);
  });

  it('checks SP alignment when SCTLR_EL1.SA is set', () => {
    const { m } = machine({ spAlign: true });
    run(m, 'ldr x2, [sp, #8]\n stp x2, x3, [sp, #-16]!', { 32: DATA + 16, 2: GARBAGE });
    expect(takenException(m)).toBeNull();
    for (const source of ['ldr x2, [sp]', 'stp x2, x3, [sp, #-16]!', 'ldr x2, [sp, x3]', 'ldxr x2, [sp]', 'ldadd x2, x3, [sp]', 'ldar x2, [sp]']) {
      run(m, source, { 32: DATA + 8, 2: GARBAGE, 3: 0n });
      const e = takenException(m)!;
      expect([e.ec, e.iss], source).toEqual([EC_SP_ALIGN, 0]);
      expect(m.x(2), source).toBe(GARBAGE);
    }
    // Not checked with SA clear, nor for other base registers.
    const { m: m2 } = machine();
    run(m2, 'ldr x2, [sp]\n ldr x3, [x1]', { 32: DATA + 8, 1: DATA + 8 });
    expect(takenException(m2)).toBeNull();
  });

  it('gives devices pairs as element accesses', () => {
    const { m } = machine();
    const log: string[] = [];
    m.space.addMmio(MMIO_BLOCK, 0x1000, 'probe', {
      read: (offset, size) => {
        log.push(`r${size}@${offset}`);
        return 0x1000 + offset;
      },
      write: (offset, size, value) => {
        log.push(`w${size}@${offset}=${value.toString(16)}`);
      },
    });
    run(m, 'ldp w2, w3, [x1, #4]\n ldp x4, x5, [x1, #16]\n stp w6, w7, [x1, #36]', { 1: MMIO_BLOCK, 6: 0xaaaan, 7: 0xbbbbn });
    expect(takenException(m)).toBeNull();
    expect([m.x(2), m.x(3)]).toEqual([0x1004n, 0x1008n]);
    expect([m.x(4), m.x(5)]).toEqual([0x0000101400001010n, 0x0000101c00001018n]);
    expect(log).toEqual(['r4@4', 'r4@8', 'r4@16', 'r4@20', 'r4@24', 'r4@28', 'w4@36=aaaa', 'w4@40=bbbb']);
    run(m, 'ldp x4, x5, [x1]', { 1: MMIO_BLOCK + 4 });
    expect(takenException(m)!.dfsc).toBe(DFSC_ALIGNMENT);
  });

  // SIMD&FP loads and stores: test/cpu/simd.test.ts.
  it('leaves PAuth, LOR and unallocated encodings UNDEFINED', () => {
    const { m } = machine();
    const undefinedForms = [
      'ldraa x2, [x1]',
      'ldlar x2, [x1]',
      'stllr w2, [x1]',
      `.inst ${(0xf8600800 | (3 << 16) | (1 << 5) | 2) >>> 0}`, // LDR X register offset, option UXTB
      `.inst ${(0xf8800c00 | (1 << 5) | 2) >>> 0}`, // PRFM pre-index: unallocated
      `.inst ${(0xb8c00400 | (1 << 5) | 2) >>> 0}`, // LDRSW with opc = 11: unallocated
      `.inst ${(0xe9400000 | (1 << 5) | (3 << 10) | 2) >>> 0}`, // LDP opc = 11
      `.inst ${(0x68400000 | (1 << 5) | (3 << 10) | 2) >>> 0}`, // LDNP opc = 01
      `.inst ${(0x48207c00 | (1 << 16) | (1 << 5) | 2) >>> 0}`, // CASP with odd Rs
      `.inst ${(0x88dffc00 | (1 << 5) | 2) & ~(1 << 10) >>> 0}`, // LDAR with Rt2 != 11111
      `.inst ${(0x19000400 | (3 << 16) | (1 << 5) | 2) >>> 0}`, // CPYFP (FEAT_MOPS)
      `.inst ${(0xf83fd000 | (1 << 5) | 2) >>> 0}`, // LD64B (FEAT_LS64)
      `.inst ${(0xd91f0c00 | (1 << 5) | 2) >>> 0}`, // GCSSTR (FEAT_GCS)
    ];
    for (const source of undefinedForms) {
      run(m, source, { 1: DATA, 2: GARBAGE });
      const e = takenException(m);
      expect(e?.ec, source).toBe(EC_UNKNOWN);
      expect(m.x(2), source).toBe(GARBAGE);
    }
  });
});

describe.runIf(assemblerAvailable())('memory tag instructions in the load/store space', () => {
  it('routes STGP and the load/store memory tags class to the MTE executors', () => {
    const { m } = machine();
    run(m, 'stgp x2, x3, [x1, #16]!\n ldg x4, [x1]\n stg x5, [x1, #16]\n ldg x6, [x7]', { 1: tagged(DATA, 7), 2: 0x22n, 3: 0x33n, 5: tagged(0, 9), 7: DATA + 32 });
    expect(takenException(m)).toBeNull();
    expect([mem(m, DATA + 16, 8), mem(m, DATA + 24, 8)]).toEqual([0x22n, 0x33n]);
    expect(m.x(1)).toBe(tagged(DATA + 16, 7));
    expect(m.x(4)).toBe(tagged(0, 7)); // LDG replaces only the tag bits
    expect(m.x(6)).toBe(tagged(0, 9));
  });
});

describe.runIf(assemblerAvailable())('load/store pair', () => {
  it('loads and stores pairs of W and X registers in every mode', () => {
    const { m } = machine();
    fill(m, DATA - 0x200, 0x400);
    const cases: [string, number, number, 'z' | 'x', number][] = [
      ['ldp x2, x3, [x1]', 0, 8, 'z', 0],
      ['ldp x2, x3, [x1, #-512]', -512, 8, 'z', 0],
      ['ldp x2, x3, [x1, #504]', 504, 8, 'z', 0],
      ['ldp w2, w3, [x1, #-4]', -4, 4, 'z', 0],
      ['ldpsw x2, x3, [x1, #12]', 12, 4, 'x', 0],
      ['ldnp x2, x3, [x1, #16]', 16, 8, 'z', 0],
      ['ldnp w2, w3, [x1, #-256]', -256, 4, 'z', 0],
      ['ldp x2, x3, [x1, #16]!', 16, 8, 'z', 16],
      ['ldp w2, w3, [x1, #-8]!', -8, 4, 'z', -8],
      ['ldpsw x2, x3, [x1, #252]!', 252, 4, 'x', 252],
      ['ldp x2, x3, [x1], #-16', 0, 8, 'z', -16],
      ['ldp w2, w3, [x1], #4', 0, 4, 'z', 4],
      ['ldpsw x2, x3, [x1], #-256', 0, 4, 'x', -256],
      ['ldp x2, x3, [x1, #3]', 3, 8, 'z', 0], // not assemblable: replaced below
    ];
    for (const [source, offset, size, ext, delta] of cases.slice(0, -1)) {
      run(m, source, { 1: DATA, 2: GARBAGE, 3: GARBAGE });
      expect(m.x(2), source).toBe(loaded(m, DATA + offset, size, ext));
      expect(m.x(3), source).toBe(loaded(m, DATA + offset + size, size, ext));
      expect(m.x(1), source).toBe(BigInt(DATA + delta));
    }
    // Unaligned base: pairs of Normal memory may be anywhere.
    run(m, 'ldp x2, x3, [x1]', { 1: DATA + 3 });
    expect([m.x(2), m.x(3)]).toEqual([mem(m, DATA + 3, 8), mem(m, DATA + 11, 8)]);

    const v2 = 0x0102030405060708n;
    const v3 = 0xf1f2f3f4f5f6f7f8n;
    const stores: [string, number, number, number][] = [
      ['stp x2, x3, [x1, #8]', 8, 8, 0],
      ['stp w2, w3, [x1, #-4]', -4, 4, 0],
      ['stnp x2, x3, [x1, #-16]', -16, 8, 0],
      ['stp x2, x3, [x1, #-16]!', -16, 8, -16],
      ['stp w2, w3, [x1], #24', 0, 4, 24],
      ['stp x2, x3, [x1, #5]', 5, 8, 0], // replaced below
    ];
    for (const [source, offset, size, delta] of stores.slice(0, -1)) {
      fill(m, DATA - 0x40, 0x80, 3);
      run(m, source, { 1: DATA, 2: v2, 3: v3 });
      const mask = size === 8 ? (1n << 64n) - 1n : 0xffffffffn;
      expect(mem(m, DATA + offset, size), source).toBe(v2 & mask);
      expect(mem(m, DATA + offset + size, size), source).toBe(v3 & mask);
      expect(m.x(1), source).toBe(BigInt(DATA + delta));
    }
  });

  it('pushes and pops on SP (unchecked offset forms, checked writeback forms)', () => {
    const { m } = machine();
    run(
      m,
      `stp x29, x30, [sp, #-32]!
       stp x2, x3, [sp, #16]
       mov x29, #0
       mov x30, #0
       ldp x4, x5, [sp, #16]
       ldp x29, x30, [sp], #32`,
      { 32: DATA + 0x100, 29: 0x2929n, 30: 0x3030n, 2: 2n, 3: 3n },
    );
    expect([m.x(29), m.x(30), m.x(4), m.x(5), m.x(32)]).toEqual([0x2929n, 0x3030n, 2n, 3n, BigInt(DATA + 0x100)]);
  });

  it('resolves CONSTRAINED UNPREDICTABLE overlaps like QEMU', () => {
    const { m } = machine();
    setMem(m, DATA, 8, 0x1111n);
    setMem(m, DATA + 8, 8, 0x2222n);
    run(m, 'ldp x2, x2, [x1]', { 1: DATA });
    expect(m.x(2)).toBe(0x2222n); // Rt == Rt2: the second element
    run(m, 'ldp w2, w2, [x1, #4]', { 1: DATA });
    expect(m.x(2)).toBe(0x2222n);
    run(m, 'ldp x1, x3, [x1], #16', { 1: DATA });
    expect(m.x(1)).toBe(BigInt(DATA + 16)); // writeback wins over the loaded value
    run(m, 'stp x1, x1, [x1, #-16]!', { 1: DATA + 16 });
    expect([mem(m, DATA, 8), mem(m, DATA + 8, 8)]).toEqual([BigInt(DATA + 16), BigInt(DATA + 16)]);
  });

  it('crosses pages as one access: no partial store, no register written on a fault', () => {
    const { m, mmu } = machine();
    mmu.setPage(PAGES + 0x1000, { pa: PAGES + 0x6000 });
    // Warm and cold TLB: the loop runs each access twice.
    for (const base of [PAGES + 0x0ff8, PAGES + 0x0ff4, PAGES + 0x0ffe]) {
      run(m, 'mov x9, #2\n1: stp x2, x3, [x1]\n ldp x4, x5, [x1]\n stp w2, w3, [x1, #-4]\n ldpsw x6, x7, [x1, #-4]\n subs x9, x9, #1\n b.ne 1b', {
        1: base,
        2: 0x1122334455667788n,
        3: 0x99aabbccddeeff00n,
      });
      expect([m.x(4), m.x(5)]).toEqual([0x1122334455667788n, 0x99aabbccddeeff00n]);
      expect([m.x(6), m.x(7)]).toEqual([0x55667788n, 0xffffffffddeeff00n]);
    }
    run(m, 'stp x2, x3, [x1]', { 1: PAGES + 0x0ff8, 2: 1n, 3: 0x3333n });
    expect([mem(m, PAGES + 0x0ff8, 8), mem(m, PAGES + 0x6000, 8), mem(m, PAGES + 0x1000, 8)]).toEqual([1n, 0x3333n, 0n]);

    mmu.setPage(PAGES + 0x1000, { valid: false });
    for (const base of [PAGES + 0x0ff8, PAGES + 0x0ff4, PAGES + 0x0ffc]) {
      fill(m, PAGES + 0x0fe0, 0x20, 9);
      const before = snapshot(m, PAGES + 0x0fe0, 0x20);
      run(m, 'stp x2, x3, [x1]', { 1: base, 2: GARBAGE, 3: GARBAGE });
      let e = takenException(m)!;
      expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_TRANSLATION_L3, 1]);
      expect(e.far).toBe(BigInt(PAGES + 0x1000));
      expect(snapshot(m, PAGES + 0x0fe0, 0x20)).toEqual(before);
      run(m, 'ldp x2, x3, [x1], #16', { 1: base, 2: 7n, 3: 8n });
      e = takenException(m)!;
      expect([e.dfsc, e.wnr, m.x(2), m.x(3), m.x(1)]).toEqual([DFSC_TRANSLATION_L3, 0, 7n, 8n, BigInt(base)]);
    }
  });
});

describe.runIf(assemblerAvailable())('tag checks of loads and stores', () => {
  const TAG = 3;
  const BAD = 5;

  function taggedMachine(tcf: number) {
    const { m, mmu } = machine({ tcf });
    setTags(m, DATA - 0x100, 0x200, TAG);
    fill(m, DATA - 0x100, 0x200);
    return { m, mmu };
  }

  it('faults synchronously on a mismatching LDR/STR and performs matching ones', () => {
    const { m } = taggedMachine(1);
    run(m, 'ldr x2, [x1, #8]\n str x2, [x1, #16]', { 1: tagged(DATA, TAG) });
    expect(takenException(m)).toBeNull();
    expect(mem(m, DATA + 16, 8)).toBe(mem(m, DATA + 8, 8));
    for (const [source, wnr] of [
      ['ldr x2, [x1, #8]', 0],
      ['ldrb w2, [x1, x3]', 0],
      ['ldursh x2, [x1, #-1]', 0],
      ['str x4, [x1, #8]', 1],
      ['strh w4, [x1, #8]!', 1],
      ['str w4, [x1], #4', 1],
    ] as const) {
      const before = snapshot(m, DATA - 16, 48);
      run(m, source, { 1: tagged(DATA, BAD), 2: GARBAGE, 3: 8n, 4: 0n });
      const e = takenException(m)!;
      expect([e.ec, e.dfsc, e.wnr], source).toEqual([EC_DABT, DFSC_TAG, wnr]);
      expect(m.x(2), source).toBe(GARBAGE);
      expect(m.x(1), source).toBe(tagged(DATA, BAD)); // no writeback
      expect(snapshot(m, DATA - 16, 48), source).toEqual(before);
    }
    run(m, 'ldr x2, [x1, #8]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)!.far).toBe(tagged(DATA + 8, BAD));
  });

  it('checks the second granule of a 16-byte STP/LDP and stores nothing when it mismatches', () => {
    for (const warm of [false, true]) {
      const { m } = taggedMachine(1);
      setTags(m, DATA + 16, 16, TAG + 1);
      if (warm) run(m, 'stp x2, x3, [x1]\n ldp x2, x3, [x1]', { 1: tagged(DATA - 32, TAG) }); // fills the TLB
      const before = snapshot(m, DATA, 32);
      run(m, 'stp x2, x3, [x1]', { 1: tagged(DATA + 8, TAG), 2: GARBAGE, 3: GARBAGE });
      let e = takenException(m)!;
      expect([e.ec, e.dfsc, e.wnr]).toEqual([EC_DABT, DFSC_TAG, 1]);
      expect(e.far).toBe(tagged(DATA + 16, TAG)); // the failing granule
      expect(snapshot(m, DATA, 32)).toEqual(before);
      run(m, 'ldp x2, x3, [x1]', { 1: tagged(DATA + 8, TAG), 2: 1n, 3: 2n });
      e = takenException(m)!;
      expect([e.dfsc, e.wnr, m.x(2), m.x(3)]).toEqual([DFSC_TAG, 0, 1n, 2n]);
    }
  });

  it('does not check SP-based immediate accesses without writeback', () => {
    const { m } = taggedMachine(1);
    const sp = tagged(DATA, BAD);
    run(m, 'ldr x2, [sp, #8]\n str x2, [sp, #16]\n stp x2, x3, [sp, #32]\n ldp x4, x5, [sp]\n ldur w6, [sp, #-4]', { 32: sp });
    expect(takenException(m)).toBeNull();
    for (const source of ['ldr x2, [sp, #8]!', 'stp x2, x3, [sp, #-16]!', 'ldp x2, x3, [sp], #16', 'ldr x2, [sp, x3]', 'ldadd x2, x3, [x1]']) {
      run(m, source, { 32: sp, 1: tagged(DATA, BAD), 3: 0n });
      expect(takenException(m)?.dfsc, source).toBe(DFSC_TAG);
    }
  });

  it('records asynchronous failures in TFSR_EL1 and performs the access', () => {
    const { m } = taggedMachine(2);
    run(m, 'str x4, [x1, #8]\n ldr x2, [x1, #8]\n stp x4, x5, [x1, #16]', { 1: tagged(DATA, BAD), 4: 0x4444n, 5: 0x5555n });
    expect(takenException(m)).toBeNull();
    expect(m.x(2)).toBe(0x4444n);
    expect([mem(m, DATA + 16, 8), mem(m, DATA + 24, 8)]).toEqual([0x4444n, 0x5555n]);
    expect(m.cpu.sysLo(Sys.TFSR_EL1) & 3).toBe(1); // TF0: lower half
  });

  it('is synchronous for reads and asynchronous for writes in asymmetric mode', () => {
    const { m } = taggedMachine(3);
    run(m, 'str x4, [x1, #8]', { 1: tagged(DATA, BAD), 4: 0x4444n });
    expect(takenException(m)).toBeNull();
    expect(mem(m, DATA + 8, 8)).toBe(0x4444n);
    expect(m.cpu.sysLo(Sys.TFSR_EL1) & 1).toBe(1);
    run(m, 'ldr x2, [x1, #8]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)?.dfsc).toBe(DFSC_TAG);
  });

  it('checks unprivileged accesses with TCF0 and the literal pool never', () => {
    const { m, mmu } = taggedMachine(1);
    mmu.setPage(PAGES, { ap: AP_ALL_RW });
    run(m, 'ldtr x2, [x1, #8]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)).toBeNull(); // TCF0 = 0
    mmu.setControl({ tcf: 0, tcf0: 1 });
    run(m, 'ldr x2, [x1, #8]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)).toBeNull(); // TCF = 0
    run(m, 'sttr x2, [x1, #8]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)?.dfsc).toBe(DFSC_TAG);
  });

  it('never checks untagged memory', () => {
    const { m, mmu } = taggedMachine(1);
    mmu.setPage(PAGES, { attr: ATTR_NORMAL });
    run(m, 'ldr x2, [x1, #8]\n stp x2, x3, [x1, #16]', { 1: tagged(DATA, BAD) });
    expect(takenException(m)).toBeNull();
  });
});

describe('load/store decoding robustness', () => {
  it('decodes and executes random words of the load/store space without JS errors', () => {
    const m = new TestMachine();
    installVectors(m);
    new TestMmu(m, { tcf: 1 });
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0;
    let executed = 0;
    for (let k = 0; k < 40_000; k++) {
      const word = ((random() & ~(0xf << 25)) | ([4, 6, 0xc, 0xe][k & 3]! << 25)) >>> 0; // op0 = x1x0
      const insn = decode(word, true);
      if (insn.exec === undef || k % 3 !== 0) continue;
      m.ram.view.setUint32(0x100, word, true);
      m.ram.noteDataWrite(0x100, 4);
      for (let r = 0; r < 31; r++) m.setX(r, BigInt(DATA + (random() & 0xff) - 0x80) | (BigInt(random() & 0xf) << 56n));
      m.setX(32, BigInt(PAGES + 0x1000));
      m.cpu.setElSp(1, 1);
      m.cpu.setTco(0);
      m.cpu.pcLo = RAM_BASE + 0x100;
      m.cpu.pcHi = 0;
      m.cpu.run(1);
      expect(m.cpu.fault, word.toString(16)).toBe(0); // every recorded fault was taken
      executed++;
    }
    expect(executed).toBeGreaterThan(1000);
  });
});
