import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, type TestMachine } from '../support/cpu-harness.js';
import { AP_EL1_RO, ATTR_NORMAL, PAGES, TestMmu } from '../support/mmu.js';
import { handlerPair, PROLOGUE } from './guest-snippets.js';
import { runLockstep } from './lockstep.js';

/**
 * The MTE instructions (IRG, ADDG/SUBG, GMI, SUBP/SUBPS, STG/STZG/ST2G/STZ2G/STGP, LDG), ADC/SBC(S)
 * and literal loads compiled by the JIT against the interpreter: random operands from an LCG in a
 * loop, on tagged and untagged pages, and faults (unaligned tag stores, translation and permission
 * faults, tag-check faults with TCF sync and async, TCO set) taken by a handler that skips the
 * faulting instruction, so many faults happen inside one compiled loop. State is compared after
 * every slice (lockstep.ts); data, allocation tags and RGSR_EL1 at the end.
 */

/** Objects of 128 bytes at random places of a tagged (0x4040_0000) and an untagged (0x4010_0000) window. */
const TAGGED_OBJECTS = `
${PROLOGUE}
  mov x0, #600
  movz x24, #0x4040, lsl #16
  movz x25, #0x4010, lsl #16
  mov x26, #0
1:
  madd x1, x1, x27, x28
  tst x1, #0x100000000
  csel x2, x24, x25, eq
  ubfx x3, x1, #40, #9
  add x2, x2, x3, lsl #7
  lsr x4, x1, #17
  irg x3, x2, x4
  stg x3, [x3]
  addg x5, x3, #16, #1
  stzg x5, [x5]
  addg x6, x3, #32, #2
  st2g x6, [x6]
  addg x7, x3, #64, #5
  stz2g x7, [x7], #32
  stg x7, [x7, #16]!
  stgp x1, x26, [x3, #96]
  subg x8, x7, #16, #3
  ldg x8, [x5]
  ldg x9, [x6, #16]
  gmi x10, x8, x10
  gmi x10, x9, x10
  subp x11, x7, x3
  subps x12, x3, x6
  cset x13, lo
  subps xzr, x5, x5
  cinc x13, x13, eq
  ldr x14, [x3]
  ldr x15, [x5]
  ldr x16, [x3, #96]
  ldr x17, [x7]
  eor x26, x26, x14
  add x26, x26, x15
  eor x26, x26, x16, ror #3
  add x26, x26, x17
  add x26, x26, x8
  eor x26, x26, x9, ror #11
  add x26, x26, x10
  eor x26, x26, x11
  add x26, x26, x12
  adds x18, x1, x26
  adcs x19, x18, x1
  adc w20, w19, w18
  sbcs x18, x19, x26
  sbc x19, x18, x20
  sbcs w20, w19, w1
  adcs w18, w20, w19
  cset x13, vs
  add x26, x26, x13
  mov x19, #-1
  cmp x0, x0
  adcs x18, x1, x19
  cset x20, cs
  add x26, x26, x20
  cmp x0, x0
  sbcs w18, w1, wzr
  cset x20, cs
  add x26, x26, x20, lsl #1
  eor x26, x26, x18
  add x26, x26, x19
  eor x26, x26, x20
  mov x19, #0xffff
  irg x20, x2, x19
  add x26, x26, x20
  ldr x14, 5f
  ldrsw x15, 6f
  ldr w16, 6f
  add x26, x26, x14
  eor x26, x26, x15
  add x26, x26, x16
  subs x0, x0, #1
  b.ne 1b
  hvc #0
  .balign 8
5: .quad 0x8899aabbccddeeff
6: .word 0x80000005
`;

/** Random tag stores and loads over the PAGES window, where page 3 is unmapped, 5 read-only, 7 untagged. */
const FAULTING = (tco: boolean) => `
${PROLOGUE}
  ${tco ? 'msr tco, #1' : 'nop'}
  mov x0, #700
  movz x24, #0x4020, lsl #16
1:
  madd x1, x1, x27, x28
  ubfx x3, x1, #40, #4
  ubfx x4, x1, #50, #8
  add x2, x24, x3, lsl #12
  add x2, x2, x4, lsl #4
  add x5, x2, #8
  tst x1, #0xc00000000
  csel x2, x2, x5, ne
  irg x3, x2
  stg x3, [x3]
  ldr x7, [x3]
  ldg x8, [x2]
  ldr x9, [x2]
  st2g x8, [x3]
  ldr x10, [x3, #16]
  stz2g x3, [x3, #32]!
  stgp x1, x9, [x3], #-32
  ldr x11, [x3, #40]
  stzg x8, [x2]
  add x26, x26, x7
  eor x26, x26, x8
  add x26, x26, x9
  eor x26, x26, x10
  add x26, x26, x11
  subs x0, x0, #1
  b.ne 1b
  hvc #0
`;

function machinePair(program: string, setup?: (m: TestMachine, mmu: TestMmu) => void) {
  return handlerPair(program, (m, mmu) => {
    m.cpu.setSys(Sys.GCR_EL1, 0x0101, 0); // exclude tags 0 and 8
    m.cpu.setSys(Sys.RGSR_EL1, 0x5a5a03, 0);
    setup?.(m, mmu);
  });
}

/** Equal tags, IRG generator state, and the bookkeeping of tag writes (viewer counter, dirty log, epochs). */
function expectSameTagsAndGenerator(pair: ReturnType<typeof machinePair>): void {
  const a = pair.interp;
  const b = pair.jit;
  expect(Buffer.from(b.ram.tags!.packed).equals(Buffer.from(a.ram.tags!.packed))).toBe(true);
  expect(b.cpu.sysLo(Sys.RGSR_EL1)).toBe(a.cpu.sysLo(Sys.RGSR_EL1));
  expect([...b.ram.activity.tagPages]).toEqual([...a.ram.activity.tagPages]);
  const dirty = (m: TestMachine) => {
    const pages: number[] = [];
    m.ram.tagDirty.forEach((page) => pages.push(page));
    return pages;
  };
  expect(dirty(b)).toEqual(dirty(a));
  expect(b.ram.tagEpochs ? [...b.ram.tagEpochs] : null).toEqual(a.ram.tagEpochs ? [...a.ram.tagEpochs] : null);
}

describe.runIf(assemblerAvailable())('JIT and interpreter agree on MTE instructions', () => {
  it.each([1, 7, 64, 100_000])('on random tag work in tagged and untagged memory, in slices of %i', (slice) => {
    const pair = machinePair(TAGGED_OBJECTS);
    runLockstep(pair, { slice, ram: [0x4010_0000, 0x1_0000] });
    runLockstep(pair, { slice: 1, maxSlices: 0, ram: [0x4040_0000, 0x1_0000] });
    expectSameTagsAndGenerator(pair);
    const cpu = pair.jit.cpu;
    expect(cpu.exitReason).toBe(1);
    expect(pair.jit.x(23)).toBe(0n); // no faults in this program
    expect(pair.jit.x(26)).not.toBe(0n);
    // The tag work ran compiled: the whole loop is one region, left only at the end.
    if (slice > 64) expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(cpu.icount * 0.9);
  });

  it.each([
    ['dirty logging', (m: TestMachine) => {
      m.ram.dirtyLogging = true;
    }],
    ["the viewer's tag epochs", (m: TestMachine) => {
      m.ram.trackTagEpochs();
      m.ram.advanceTagEpoch();
    }],
  ] as const)('keeps the bookkeeping of tag stores with %s (they call storeTagEntry)', (_name, setup) => {
    const pair = machinePair(TAGGED_OBJECTS, (m) => setup(m));
    runLockstep(pair, { slice: 100_000, ram: [0x4040_0000, 0x1_0000] });
    expectSameTagsAndGenerator(pair);
    expect(pair.jit.ram.activity.tagPages[0]).toBeGreaterThan(1000);
    expect(pair.jit.cpu.jit!.stats.jitInstructions).toBeGreaterThan(pair.jit.cpu.icount * 0.9);
  });

  it.each([
    ['GCR_EL1.RRND set and a zero seed', (m: TestMachine) => {
      m.cpu.setSys(Sys.GCR_EL1, 0x1_0101, 0);
      m.cpu.setSys(Sys.RGSR_EL1, 0x7, 0);
    }],
    ['every tag but 5 excluded by GCR_EL1', (m: TestMachine) => m.cpu.setSys(Sys.GCR_EL1, 0xffdf, 0)],
    ['tag access disabled (SCTLR_EL1.ATA = 0)', (m: TestMachine) => {
      m.cpu.setSys(Sys.SCTLR_EL1, m.cpu.sysLo(Sys.SCTLR_EL1), m.cpu.sysHi(Sys.SCTLR_EL1) & ~(3 << 10));
      m.cpu.updateControl();
      m.cpu.flushTlb();
    }],
  ] as const)('chooses the same tags as the interpreter with %s', (_name, setup) => {
    const pair = machinePair(TAGGED_OBJECTS, (m) => setup(m));
    runLockstep(pair, { slice: 100_000, ram: [0x4040_0000, 0x1_0000] });
    expectSameTagsAndGenerator(pair);
    expect(pair.jit.cpu.jit!.stats.jitInstructions).toBeGreaterThan(pair.jit.cpu.icount * 0.9);
  });

  it.each([
    ['TCF sync', 1, false],
    ['TCF async', 2, false],
    ['TCO set', 1, true],
  ] as const)('on faulting tag stores and checked loads (%s)', (_name, tcf, tco) => {
    const pair = machinePair(FAULTING(tco), (_m, mmu) => {
      mmu.setControl({ tcf });
      mmu.setPage(PAGES + 3 * 4096, { valid: false });
      mmu.setPage(PAGES + 5 * 4096, { ap: AP_EL1_RO });
      mmu.setPage(PAGES + 7 * 4096, { attr: ATTR_NORMAL });
    });
    for (const slice of [100_000]) runLockstep(pair, { slice, ram: [PAGES, 0x1_0000] });
    expectSameTagsAndGenerator(pair);
    const jit = pair.jit;
    expect(jit.cpu.exitReason).toBe(1);
    expect(jit.cpu.exitImm).toBe(0); // the program's own hvc: every fault was handled
    expect(jit.x(23)).toBeGreaterThan(100n); // faults taken
    if (tcf === 2 && !tco) expect(jit.cpu.sysLo(Sys.TFSR_EL1)).not.toBe(0);
    expect(jit.cpu.jit!.stats.jitInstructions).toBeGreaterThan(jit.cpu.icount / 3);
  });

  it('compiles every instruction of the tag loop but the final hvc', async () => {
    const { compilable } = await import('../../src/cpu/jit/compile.js');
    const pair = machinePair(TAGGED_OBJECTS);
    const cpu = pair.jit.cpu;
    cpu.run(2000);
    const page = cpu.codePages.get(RAM_BASE)!;
    const refused: string[] = [];
    for (let idx = 0; ; idx++) {
      const insn = page.insns[idx] ?? cpu.decodeSlot(page, idx);
      if (insn.word === (0xd4000002 | 0)) break; // hvc #0: the program's end
      if (!compilable(insn)) refused.push((insn.word >>> 0).toString(16));
    }
    expect(refused).toEqual([]);
  });
});
