import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { ACTIVITY_GUEST } from '../../src/memory/index.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, type TestMachine } from '../support/cpu-harness.js';
import { AP_EL1_RO, ATTR_NORMAL, PAGES, setTags, TestMmu } from '../support/mmu.js';
import { handlerPair, PROLOGUE } from './guest-snippets.js';
import { runLockstep } from './lockstep.js';

/**
 * Acquire/release accesses, LSE atomics, CAS/CASP and the exclusives compiled by the JIT
 * (emit-atomic.ts) against the interpreter, in lockstep (lockstep.ts: registers, NZCV, PC, count
 * and exception registers after every slice), plus the exclusive monitor after every slice and
 * memory, the viewer's data-write count and the dirty log at the end. Operands come from an LCG;
 * a handler skips every fault so that many happen inside one compiled loop.
 */

const OPS = ['add', 'clr', 'eor', 'set', 'smax', 'smin', 'umax', 'umin'];
const ORDER = ['', 'a', 'l', 'al'];
/** Size suffix, register prefix and address register: x10 = slot + 1, x14 = slot + 13 (LSE2: inside 16 bytes), x13 = slot + 9, x2/x12 = slot + 0/8. */
const SIZES = [
  ['b', 'w', 'x10'],
  ['h', 'w', 'x14'],
  ['', 'w', 'x13'],
  ['', 'x', 'x2'],
  ['', 'x', 'x12'],
] as const;
const DESTS = ['6', '7', '8', '9', '15', '16', '17', '18', '19'];

/** Every LD<op>/SWP in every size with every ordering, some ST<op>, each old value folded into x26. */
function atomicForms(): string {
  const lines: string[] = [];
  let k = 0;
  for (const op of [...OPS, 'swp']) {
    for (const [size, r, addr] of SIZES) {
      const d = DESTS[k % DESTS.length]!;
      const operand = k % 2 === 0 ? '4' : '5';
      const mnemonic = op === 'swp' ? `swp${ORDER[k % 4]}${size}` : `ld${op}${ORDER[k % 4]}${size}`;
      lines.push(`${mnemonic} ${r}${operand}, ${r}${d}, [${addr}]`, `eor x26, x${d}, x26, ror #5`);
      k++;
    }
    if (op !== 'swp') lines.push(`st${op}${k % 3 === 0 ? 'l' : ''}${SIZES[k % 5]![0]} ${SIZES[k % 5]![1]}5, [${SIZES[k % 5]![2]}]`);
  }
  return lines.join('\n  ');
}

/** The random loop: x2 a 16-byte slot of the 4 KiB window at x24; x25 counts store-exclusive failures (six an iteration). */
const LOOP = (iterations: number) => `
${PROLOGUE}
  mov x0, #${iterations}
  movz x24, #0x4040, lsl #16
  mov x25, #0
  mov x26, #0
1:
  madd x1, x1, x27, x28
  ubfx x3, x1, #40, #8
  add x2, x24, x3, lsl #4
  add x10, x2, #1
  add x11, x2, #6
  add x12, x2, #8
  add x13, x2, #9
  add x14, x2, #13
  lsr x4, x1, #13
  ror x5, x1, #29
  ${atomicForms()}
  ldr x6, [x2]
  mov x7, x6
  cas x7, x5, [x2]
  eor x26, x7, x26, ror #5
  casa x6, x4, [x2]
  eor x26, x6, x26, ror #5
  ldr w6, [x13]
  casl w6, w4, [x13]
  casal w5, w4, [x13]
  ldrb w6, [x10]
  orr w7, w6, #0xff00
  casalb w7, w5, [x10]
  casb w4, w5, [x10]
  ldrh w8, [x14]
  cash w8, w4, [x14]
  casah w4, w5, [x14]
  cas xzr, x5, [x12]
  add x26, x26, x7
  eor x26, x26, x8, ror #3
  ldp x6, x7, [x2]
  casp x6, x7, x4, x5, [x2]
  eor x26, x7, x26, ror #5
  mov x8, x4
  mov x9, #1
  caspal x8, x9, x6, x7, [x2]
  eor x26, x9, x26, ror #5
  ldp w6, w7, [x12]
  caspl w6, w7, w4, w5, [x12]
  caspa w8, w9, w4, w5, [x12]
  add x26, x26, x8
  eor x26, x9, x26, ror #5
  stlr x4, [x2]
  ldar x6, [x2]
  stlrb w5, [x10]
  ldarb w7, [x10]
  stlrh w5, [x11]
  ldarh w8, [x11]
  stlr w4, [x12]
  ldar w9, [x12]
  ldapr x15, [x12]
  ldaprb w16, [x10]
  ldaprh w17, [x11]
  ldapr w18, [x2]
  eor x26, x6, x26, ror #5
  add x26, x26, x7
  eor x26, x8, x26, ror #5
  add x26, x26, x9
  eor x26, x15, x26, ror #5
  add x26, x26, x16
  eor x26, x17, x26, ror #5
  add x26, x26, x18
  eor x26, x19, x26, ror #5
  stlur x5, [x2, #8]
  stlurb w4, [x2, #3]
  stlurh w4, [x2, #14]
  stlur w5, [x2, #4]
  ldapur x15, [x2, #8]
  ldapursb x16, [x2, #3]
  ldapursh w17, [x2, #14]
  ldapursw x18, [x2, #4]
  ldapurb w19, [x2, #3]
  ldapurh w6, [x2, #14]
  ldapur w7, [x2, #5]
  eor x26, x15, x26, ror #5
  add x26, x26, x16
  eor x26, x17, x26, ror #5
  add x26, x26, x18
  eor x26, x19, x26, ror #5
  add x26, x26, x6
  eor x26, x7, x26, ror #5
3: ldaxr x6, [x2]
  add x6, x6, x4
  stlxr w7, x6, [x2]
  cbnz w7, 3b
4: ldxrb w6, [x10]
  add w6, w6, #1
  stxrb w7, w6, [x10]
  cbnz w7, 4b
5: ldaxrh w6, [x11]
  add w6, w6, #3
  stlxrh w7, w6, [x11]
  cbnz w7, 5b
6: ldxr w6, [x12]
  eor w6, w6, w5
  stxr w7, w6, [x12]
  cbnz w7, 6b
7: ldaxp x6, x7, [x2]
  add x6, x6, #1
  stlxp w8, x7, x6, [x2]
  cbnz w8, 7b
8: ldxp w6, w7, [x12]
  stxp w8, w7, w6, [x12]
  cbnz w8, 8b
  eor x26, x6, x26, ror #5
  add x26, x26, x7
  stxr w7, x4, [x2]
  add x25, x25, x7
  ldxr x6, [x2]
  clrex
  stxr w7, x4, [x2]
  add x25, x25, x7
  ldxr x6, [x2]
  stxr w7, x4, [x12]
  add x25, x25, x7
  ldxrb w6, [x2]
  stxrh w7, w4, [x2]
  add x25, x25, x7
  ldxr w6, [x12]
  svc #0
  nop
  stxr w7, w4, [x12]
  add x25, x25, x7
  ldxr x6, [x2]
  fmov d0, x8
  stxr w7, x5, [x2]
  add x25, x25, x7
  stxr w7, x4, [x2]
  add x25, x25, x7
  stlr w5, [x13]
  ldar w19, [x13]
  eor x26, x19, x26, ror #5
  subs x0, x0, #1
  b.ne 1b
  hvc #0
`;

/**
 * Random addresses over the PAGES window (page 3 unmapped, 5 read-only, 7 untagged, 2 tagged 3
 * where pointers carry tag 0), a quarter of them misaligned, every form once; `sp` also as the base.
 */
const FAULTING = `
${PROLOGUE}
  mov x0, #500
  movz x24, #0x4020, lsl #16
  mov x26, #0
1:
  madd x1, x1, x27, x28
  ubfx x3, x1, #40, #4
  ubfx x4, x1, #44, #12
  add x2, x24, x3, lsl #12
  add x2, x2, x4
  and x5, x2, #~15
  tst x1, #0x300000000
  csel x2, x2, x5, eq
  add x3, x2, #8
  lsr x8, x1, #7
  ror x9, x1, #17
  ldaddal x8, x10, [x2]
  ldsmaxh w9, w11, [x2]
  swpb w8, w12, [x3]
  stumin w9, [x3]
  cas x10, x8, [x2]
  casp x10, x11, x8, x9, [x2]
  ldar x12, [x2]
  stlr x8, [x3]
  stlrh w9, [x2]
  ldapur w13, [x2, #4]
  stlur x9, [x2, #-8]
  ldaxr x14, [x2]
  stlxr w15, x8, [x2]
  ldxp x16, x17, [x2]
  stxp w15, x9, x8, [x2]
  ldxr w16, [x3]
  stxr w17, w9, [x3]
  mov sp, x2
  ldadd x8, x18, [sp]
  stlr w9, [sp]
  ldxr x19, [sp]
  stxr w15, x9, [sp]
  cas x18, x19, [sp]
  eor x26, x26, x10
  add x26, x26, x11
  eor x26, x26, x12, ror #3
  add x26, x26, x13
  eor x26, x26, x14, ror #7
  add x26, x26, x15
  eor x26, x26, x16, ror #11
  add x26, x26, x17
  eor x26, x26, x18, ror #13
  add x26, x26, x19
  subs x0, x0, #1
  b.ne 1b
  hvc #0
`;

/**
 * Exclusive pairs split between the engines: under asynchronous tag checks a pointer whose tag
 * differs from memory's (x3; x2 matches) makes compiled code leave before the access and the
 * interpreter perform it, so each LDXR/STXR below runs on the engine the comment says, whatever
 * the slice (a taken branch brings compiled code back). x25 counts successes (status 0).
 */
const SPLIT = `
  movz x2, #0x4040, lsl #16
  mov x3, x2
  movk x3, #0x0500, lsl #48
  mov x0, #300
  mov x25, #0
1:
  ldxr x6, [x2]
  add x6, x6, #1
  stxr w9, x6, [x3]
  eor w9, w9, #1
  add x25, x25, x9
  ldxr x6, [x3]
  b 2f
2: add x6, x6, #1
  stxr w9, x6, [x2]
  eor w9, w9, #1
  add x25, x25, x9
  ldxr x6, [x3]
  b 3f
3: ldxrb w7, [x2]
  fmov d0, x8
  add w7, w7, #1
  stxrb w9, w7, [x2]
  eor w9, w9, #1
  add x25, x25, x9
  subs x0, x0, #1
  b.ne 1b
  hvc #0
`;

function machinePair(program: string, setup?: (m: TestMachine, mmu: TestMmu) => void) {
  return handlerPair(program, (m, mmu) => {
    m.cpu.setSys(Sys.CPACR_EL1, 3 << 20, 0); // FP on: the loops' FMOV splits LDXR/STXR pairs (the JIT leaves it to the interpreter)
    setup?.(m, mmu);
  });
}

type Pair = ReturnType<typeof machinePair>;

/** Lockstep with the exclusive monitor compared after every slice too. */
function lockstep(pair: Pair, slice: number, ram: [number, number]): number {
  let slices = 0;
  const jitted = runLockstep(pair, {
    slice,
    ram,
    between: (m) => {
      if (m !== pair.jit) return;
      // The size of a clear monitor is never read.
      const monitor = (n: TestMachine) => (n.cpu.exclusivePa === -1 ? 'clear' : `${n.cpu.exclusivePa}/${n.cpu.exclusiveSize}`);
      if (monitor(pair.jit) !== monitor(pair.interp)) expect.fail(`slice ${slices}: monitors differ: interp ${monitor(pair.interp)}, jit ${monitor(pair.jit)}`);
      slices++;
    },
  });
  expect(pair.jit.cpu.exclusivePa).toBe(pair.interp.cpu.exclusivePa);
  return jitted;
}

function expectSameBookkeeping(pair: Pair): void {
  const dirty = (m: TestMachine) => {
    const pages: number[] = [];
    m.ram.dataDirty.forEach((page) => pages.push(page));
    return pages;
  };
  expect(pair.jit.ram.activity.dataPages[ACTIVITY_GUEST]).toBe(pair.interp.ram.activity.dataPages[ACTIVITY_GUEST]);
  expect(dirty(pair.jit)).toEqual(dirty(pair.interp));
}

describe.runIf(assemblerAvailable())('JIT and interpreter agree on atomics, acquire/release and exclusives', () => {
  it.each([1, 3, 17, 100_000])('on every form and size over random data, in slices of %i', (slice) => {
    const iterations = 150;
    const pair = machinePair(LOOP(iterations));
    const jitted = lockstep(pair, slice, [0x4040_0000, 0x1000]);
    expectSameBookkeeping(pair);
    const jit = pair.jit;
    expect(jit.cpu.exitReason).toBe(1);
    expect(jit.cpu.exitImm).toBe(0); // the program's own hvc
    expect(jit.x(23)).toBe(BigInt(iterations)); // the SVCs, and no fault
    expect(jit.x(25)).toBe(BigInt(6 * iterations)); // each failing store-exclusive failed, the others succeeded
    expect(jit.x(26)).not.toBe(0n);
    if (slice === 100_000) expect(jitted).toBeGreaterThan(jit.cpu.icount * 0.8);
  });

  it('keeps the dirty log and the viewer count under dirty logging', () => {
    const pair = machinePair(LOOP(100), (m) => {
      m.ram.dirtyLogging = true;
    });
    const jitted = lockstep(pair, 100_000, [0x4040_0000, 0x1000]);
    expectSameBookkeeping(pair);
    expect(pair.jit.ram.activity.dataPages[ACTIVITY_GUEST]).toBeGreaterThan(1000);
    expect(jitted).toBeGreaterThan(pair.jit.cpu.icount * 0.8);
  });

  it.each([
    ['sync tag checks', 1, false, 7],
    ['sync tag checks', 1, false, 100_000],
    ['async tag checks', 2, false, 100_000],
    ['SP alignment checked', 0, true, 13],
    ['SP alignment checked', 0, true, 100_000],
  ] as const)('takes the faults the interpreter takes (%s: TCF %i, SCTLR_EL1.SA %s, slices of %i)', (_name, tcf, spAlign, slice) => {
    const pair = machinePair(FAULTING, (m, mmu) => {
      mmu.setControl({ tcf, spAlign });
      mmu.setPage(PAGES + 3 * 4096, { valid: false });
      mmu.setPage(PAGES + 5 * 4096, { ap: AP_EL1_RO });
      mmu.setPage(PAGES + 7 * 4096, { attr: ATTR_NORMAL });
      setTags(m, PAGES + 2 * 4096, 4096, 3);
    });
    const jitted = lockstep(pair, slice, [PAGES, 16 * 4096]);
    expectSameBookkeeping(pair);
    const jit = pair.jit;
    expect(jit.cpu.exitImm).toBe(0); // the program's own hvc: every fault was handled
    expect(jit.x(23)).toBeGreaterThan(1000n);
    if (tcf === 2) expect(jit.cpu.sysLo(Sys.TFSR_EL1)).not.toBe(0);
    if (slice === 100_000) expect(jitted).toBeGreaterThan(jit.cpu.icount / 3);
  });

  it.each([1, 5, 100_000])('hands the exclusive monitor between compiled and interpreted halves of a pair, in slices of %i', (slice) => {
    const pair = machinePair(SPLIT, (_m, mmu) => mmu.setControl({ tcf: 2 }));
    const jitted = lockstep(pair, slice, [0x4040_0000, 16]);
    const jit = pair.jit;
    expect(jit.cpu.exitImm).toBe(0);
    expect(jit.x(25)).toBe(900n); // every store-exclusive succeeded
    expect(jit.cpu.sysLo(Sys.TFSR_EL1)).not.toBe(0);
    if (slice === 100_000) expect(jitted).toBeGreaterThan(jit.cpu.icount / 5);
  });

  it('compiles every atomic, ordered and exclusive form of the loop', async () => {
    const { compilable } = await import('../../src/cpu/jit/compile.js');
    const pair = machinePair(LOOP(1));
    const cpu = pair.jit.cpu;
    cpu.run(2000);
    const page = cpu.codePages.get(RAM_BASE)!;
    const refused: string[] = [];
    for (let idx = 0; ; idx++) {
      const insn = page.insns[idx] ?? cpu.decodeSlot(page, idx);
      const w = insn.word >>> 0;
      if (w === 0xd4000002) break; // hvc #0: the program's end
      const interpreted = (w & 0xffe0001f) >>> 0 === 0xd4000001 || (w & 0xfffff0ff) >>> 0 === 0xd503305f || w === 0x9e670100; // SVC, CLREX, FMOV D0, X8
      if (!interpreted && !compilable(insn)) refused.push(w.toString(16));
    }
    expect(refused).toEqual([]);
  });
});
