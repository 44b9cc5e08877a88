import { describe, expect, it } from 'vitest';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE } from '../support/cpu-harness.js';
import { FIQ_LINE, IRQ_LINE } from '../../src/cpu/cpu.js';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { ACTIVITY_GUEST } from '../../src/memory/index.js';
import { PAGES, setTags, TestMmu, VECTORS } from '../support/mmu.js';
import { runLockstep, withMmu } from './lockstep.js';

/**
 * The JIT against the interpreter on programs that exercise every form the JIT compiles, with
 * the MMU on (Normal memory, so loads and stores take the inline TLB path), run in slices of
 * many sizes: state after every slice, hence the instruction count at every exit, must agree.
 */

const DATA = RAM_BASE + 0x40_0000;

const ALU_LOOP = `
  movz x2, #0x4040, lsl #16
  add sp, x2, #0x1000
  mov x1, #300
  mov x0, #0
  mov x5, #0x1234
  movk x5, #0xfedc, lsl #48
1:
  and x6, x0, #63
  ldr x3, [x2, x6, lsl #3]
  add x3, x3, x5
  eor x4, x3, x1, ror #7
  orn x4, x4, x0, lsl #3
  bic x7, x4, x3, asr #5
  adds x8, x3, x4
  adc x9, x8, x1
  sub w10, w3, w4, lsr #2
  subs w11, w10, #17
  csel x12, x3, x4, lt
  csinc w13, w3, w4, hi
  csinv x14, x3, x4, vs
  csneg w15, w3, w4, eq
  ccmp x3, x4, #5, ne
  ccmn w3, #7, #2, cs
  cset x16, gt
  madd x17, x3, x4, x5
  msub w18, w3, w4, w5
  udiv x19, x3, x6
  sdiv w20, w3, w6
  sdiv x21, x5, x6
  lsl x22, x3, x0
  asr w23, w4, w0
  ror x24, x3, x0
  ubfx x25, x3, #5, #17
  sbfx w26, w4, #3, #9
  bfi x27, x3, #12, #20
  bfxil w28, w4, #4, #8
  extr x29, x3, x4, #13
  sxtb x7, w3
  uxth w8, w4
  lsr x9, x3, #33
  lsl w10, w4, #5
  asr x11, x3, #60
  mvn x12, x3
  neg w13, w4
  tst x3, #0xff00
  adds w14, w3, w4
  subs x15, x4, x3
  add x27, x27, w3, sxtb #1
  subs w28, w4, w3, uxth #2
  add x26, sp, x0
  sub x25, x3, w4, sxtw #3
  smaddl x16, w3, w4, x16
  umsubl x17, w3, w4, x5
  umull x18, w3, w4
  add x30, x2, #0x800
  str x3, [x30, x6, lsl #3]
  stp x4, x7, [x30, #-16]!
  ldp x7, x8, [x30], #16
  ldp w9, w10, [x30, #8]
  ldpsw x11, x12, [x30, #8]
  strb w3, [x30, #1]
  strh w4, [x30, #3]
  ldrsb x13, [x30, #1]
  ldrsh w14, [x30, #3]
  ldrsw x15, [x30, #4]
  ldrb w16, [x30, #5]
  ldur x17, [x30, #3]
  stur w17, [x30, #9]
  ldr w18, [x30, x0, lsl #2]
  ldr x19, [x30, w6, uxtw #3]
  ldr x20, [x30, w6, sxtw]
  str x8, [x30, #8]!
  ldr x21, [x30], #-8
  stp x3, x4, [sp, #-16]!
  ldp x22, x23, [sp], #16
  str x3, [sp, #8]
  adr x24, 1b
  adrp x25, .
  cbz x6, 2f
  tbnz x3, #3, 3f
  add x0, x0, #1
  b 4f
2: add x0, x0, #2
  b 4f
3: add x0, x0, #3
4: subs x1, x1, #1
  b.ne 1b
  hvc #0
`;

/** Every compiled data-processing form once, each result feeding the next, so any wrong bit shows in x0/x1 at the end. */
const CHAIN_LOOP = `
  mov x0, #0x1234
  movk x0, #0x9abc, lsl #32
  mov x1, #0x77
  mov x9, #200
1:
  add x0, x0, x1, lsl #3
  eor x1, x1, x0, ror #11
  orn x0, x0, x1, lsr #2
  bic x1, x1, x0, asr #7
  adds x0, x0, x1
  csinc x1, x1, x0, cc
  ccmp x0, x1, #4, ne
  csinv x0, x0, x1, vs
  ccmn w1, #7, #2, cs
  csneg x1, x1, x0, le
  subs w2, w0, w1, lsr #2
  add x0, x0, x2
  madd x1, x0, x1, x1
  msub w2, w0, w1, w0
  eor x0, x0, x2
  udiv x2, x0, x1
  add x1, x1, x2
  sdiv w2, w1, w0
  eor x0, x0, x2
  lsl x2, x0, x1
  asr w3, w1, w0
  ror x4, x0, x1
  eor x0, x2, x3
  eor x1, x1, x4
  ubfx x2, x0, #5, #17
  sbfx w3, w1, #3, #9
  bfi x0, x1, #12, #20
  bfxil w4, w0, #4, #8
  extr x2, x0, x1, #13
  add x1, x1, x2
  add x0, x0, x3
  eor x1, x1, x4
  sxtb x2, w0
  uxth w3, w1
  add x0, x0, x2
  sub x1, x1, x3
  add x2, x0, w1, sxtb #1
  subs w3, w1, w0, uxth #2
  add x0, x2, x3
  sub x1, x1, w0, sxtw #3
  smaddl x0, w0, w1, x0
  smsubl x1, w1, w0, x1
  umaddl x0, w1, w0, x0
  umsubl x1, w0, w1, x1
  umull x2, w0, w1
  add x0, x0, x2
  rbit x2, x0
  rev16 w3, w1
  rev32 x4, x0
  eor x1, x1, x2
  rev x2, x1
  rev w3, w3
  add x0, x0, x4
  eor x1, x1, x3
  rev16 x4, x0
  rbit w2, w1
  sub x0, x0, x2
  add x1, x1, x4
  clz x2, x0
  clz w3, w1
  cls x4, x1
  cls w5, w0
  add x0, x0, x2, lsl #7
  eor x1, x1, x3, lsl #13
  add x0, x0, x4, lsl #19
  eor x1, x1, x5, lsl #29
  mov x2, #-5
  movk x2, #0x1234, lsl #16
  add x1, x1, x2
  and x0, x0, #0xffff0000ffff0000
  orr x1, x1, #0x5555555555555555
  eor w2, w0, #0xff
  ands x3, x1, #0xff00
  cset x4, ne
  add x0, x0, x4
  adds w2, w0, w1
  sub x0, x0, x2
  tbz x0, #5, 2f
  add x1, x1, #1
2: cbnz w1, 3f
  add x0, x0, #3
3: subs x9, x9, #1
  b.ne 1b
  hvc #0
`;

/** A counting loop; its "add x0, x0, #1" is at byte 8. */
const COUNT_LOOP = `
  mov x0, #0
  mov x1, #2000
1: add x0, x0, #1
  subs x1, x1, #1
  b.ne 1b
  hvc #0
`;

describe.runIf(assemblerAvailable())('JIT and interpreter agree', () => {
  it.each([1, 3, 17, 256, 100_000])('on integer and memory forms, in slices of %i', (slice) => {
    const pair = withMmu(ALU_LOOP);
    const jitted = runLockstep(pair, { slice, ram: [DATA, 0x2000] });
    expect(pair.jit.cpu.exitReason).toBe(1); // the final hvc #0
    expect(pair.jit.cpu.icount).toBeGreaterThan(20_000);
    // Compiled code ran most of it (small slices bound it: a block runs only if it fits).
    if (slice >= 256) expect(jitted).toBeGreaterThan(pair.jit.cpu.icount / 2);
  });

  it.each([1, 97, 100_000])('on a dependency chain through every compiled ALU form, in slices of %i', (slice) => {
    const pair = withMmu(CHAIN_LOOP);
    runLockstep(pair, { slice });
    expect(pair.jit.cpu.exitReason).toBe(1);
    if (slice > 97) expect(pair.jit.cpu.jit!.stats.jitInstructions).toBeGreaterThan(pair.jit.cpu.icount * 0.9);
  });

  it.each([1, 5, 100_000])('reads stored system registers (MRS) compiled at EL1h, interpreted with SPSel = 0, in slices of %i', (slice) => {
    const pair = withMmu(`
      mov x9, #200
      mov x0, #7
      msr sp_el0, x0
    1: mrs x1, tpidr_el1
      mrs x2, sp_el0
      add x1, x1, x2
      mrs x3, contextidr_el1
      add x0, x0, x1
      eor x0, x0, x3
      mrs x4, ctr_el0
      add x0, x0, x4
      mrs x4, dczid_el0
      add x0, x0, x4, lsl #5
      msr tpidr_el1, x0
      mrs xzr, tpidr_el1
      subs x9, x9, #1
      b.ne 1b
      msr spsel, #0
      mov x4, #0x4100
      movk x4, #0x4040, lsl #16
      mov sp, x4
      mov x9, #200
    2: mrs x5, tpidr_el1
      add x0, x0, x5
      msr tpidr_el1, x0
      subs x9, x9, #1
      b.ne 2b
      hvc #0
    `, (m) => {
      m.cpu.setSys(Sys.CONTEXTIDR_EL1, 0x1234, 0);
      m.cpu.setSys(Sys.TPIDR_EL1, 0x5678, 0x9abc);
    });
    runLockstep(pair, { slice });
    expect(pair.jit.cpu.exitReason).toBe(1);
    expect(pair.jit.cpu.exitImm, `esr ${pair.jit.cpu.sysLo(Sys.ESR_EL1).toString(16)} elr ${pair.jit.cpu.sysLo(Sys.ELR_EL1).toString(16)}`).toBe(0);
    expect(pair.jit.cpu.spsel).toBe(0);
    if (slice === 100_000) expect(pair.jit.cpu.jit!.stats.jitInstructions).toBeGreaterThan(pair.jit.cpu.icount / 3);
  });

  it.each([
    { name: 'IRQ', line: IRQ_LINE, vector: 0x280, slice: 1 },
    { name: 'FIQ', line: FIQ_LINE, vector: 0x300, slice: 1 },
    { name: 'IRQ', line: IRQ_LINE, vector: 0x280, slice: 100_000 },
    { name: 'FIQ', line: FIQ_LINE, vector: 0x300, slice: 7 },
  ])('saves, masks and restores DAIF in a compiled loop and takes the $name the loop unmasks where the interpreter does (slices of $slice)', ({ line, vector, slice }) => {
    // local_irq_save/restore with the line asserted and masked; cache maintenance by VA in between.
    // At pass 400 the loop writes DAIF = 0 (MSR DAIF), at pass 450 it clears I and F (DAIFClr).
    const pair = withMmu(`
      movz x2, #0x4020, lsl #16
      mov x9, #500
      mov x0, #0
    1: mrs x1, daif
      msr daifset, #3
      add x0, x0, #1
      dc cvau, x2
      ic ivau, x2
      dc civac, x2
      msr daif, x1
      cmp x0, #400
      b.ne 2f
      msr daif, xzr
      msr daifset, #3
    2: cmp x0, #450
      b.ne 3f
      msr daifclr, #3
    3: subs x9, x9, #1
      b.ne 1b
      hvc #0
    `, (m) => {
      m.ram.view.setUint32(VECTORS - RAM_BASE + vector, 0xd4000002 | (0xfff << 5), true); // IRQ/FIQ, current EL with SPx
      m.ram.noteDataWrite(VECTORS - RAM_BASE + vector, 4);
      m.cpu.daif = 0x3c0;
      m.cpu.irqLines = line;
    });
    runLockstep(pair, { slice });
    const cpu = pair.jit.cpu;
    expect(cpu.exitImm).toBe(0xfff);
    expect(pair.jit.x(0)).toBe(400n); // taken right after the MSR DAIF that unmasked it
    expect(cpu.sysLo(Sys.ELR_EL1)).toBe(RAM_BASE + 4 * 13);
    if (slice === 100_000) expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(cpu.icount / 2);
  });

  it('leaves DAIF access and cache maintenance at EL0 to the interpreter (SCTLR_EL1.UMA and UCI unset: traps)', () => {
    const pair = withMmu(`
      movz x2, #0x4020, lsl #16
      mov x9, #100
    1: add x0, x0, #1
      subs x9, x9, #1
      b.ne 1b
      mov x3, #0
      msr spsr_el1, x3
      adr x4, 2f
      msr elr_el1, x4
      eret
    2: add x0, x0, #1
      mrs x1, daif
      hvc #0
    `);
    runLockstep(pair, { slice: 100_000 });
    expect(pair.jit.cpu.exitImm).toBe(0xfff); // the EL0 MRS DAIF trapped to the vector
    expect(pair.jit.cpu.sysLo(Sys.ESR_EL1) >>> 26).toBe(0x18);
  });

  it.each([0, 1])('zeroes blocks with DC ZVA as the interpreter does (TCF %i), up to a fault on an unmapped page', (tcf) => {
    // Fills three pages at 0x4020_0000 with a pattern, zeroes every other 64-byte block; page 3 is unmapped.
    const pair = withMmu(`
      movz x2, #0x4020, lsl #16
      mov x1, #0
      mov x3, #0x5555
    1: str x3, [x2, x1]
      add x1, x1, #8
      cmp x1, #0x3000
      b.ne 1b
      mov x1, #0
    2: add x4, x2, x1
      add x4, x4, #13
      dc zva, x4
      add x1, x1, #128
      cmp x1, #0x4000
      b.ne 2b
      hvc #0
    `, (_m, mmu) => {
      mmu.setControl({ tcf });
      mmu.setPage(PAGES + 3 * 4096, { valid: false });
    });
    runLockstep(pair, { slice: 100_000, ram: [PAGES, 3 * 4096] });
    const cpu = pair.jit.cpu;
    expect(cpu.exitImm).toBe(0xfff); // the vector's hvc: the abort was taken
    expect(cpu.sysLo(Sys.FAR_EL1)).toBe(PAGES + 3 * 4096 + 13); // the address as given, not the block
    const activity = (m: typeof pair.jit) => m.ram.activity.dataPages[ACTIVITY_GUEST];
    expect(activity(pair.jit)).toBe(activity(pair.interp));
    if (tcf === 0) expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(cpu.icount / 2);
  });

  it('takes a translation fault in the middle of a compiled loop precisely', () => {
    const pair = withMmu(`
      movz x2, #0x4020, lsl #16
      mov x1, #0
      mov x4, #0
    1: ldr x3, [x2, x1]
      add x4, x4, x3
      add x1, x1, #512
      cmp x1, #0x8000
      b.ne 1b
      hvc #0
    `, (_m, mmu) => mmu.setPage(PAGES + 5 * 4096, { valid: false }));
    runLockstep(pair, { slice: 100_000 });
    const cpu = pair.jit.cpu;
    expect(cpu.exitReason).toBe(1);
    expect(cpu.exitImm).toBe(0xfff); // the vector's hvc: the abort was taken
    expect(pair.jit.x(1)).toBe(5n * 4096n);
    expect(cpu.jit!.stats.jitInstructions).toBeGreaterThan(0);
  });

  it.each([1, 2])('takes tag-check faults in a compiled loop as the interpreter does (TCF %i)', (tcf) => {
    const pair = withMmu(`
      movz x2, #0x4040, lsl #16
      mov x1, #0
    1: ldr x3, [x2, x1]
      str x3, [x2, x1]
      add x1, x1, #8
      cmp x1, #0x1000
      b.ne 1b
      hvc #0
    `, (m, mmu) => {
      mmu.setControl({ tcf });
      setTags(m, DATA + 0x400, 16, 3);
    });
    runLockstep(pair, { slice: 100_000 });
    expect(pair.jit.cpu.tagFaultCount).toBeGreaterThan(0);
  });

  it('leaves a misaligned BR target in the same page to the PC alignment fault', () => {
    const pair = withMmu(`
      mov x1, #100
    1: subs x1, x1, #1
      b.ne 1b
      adr x2, 2f
      add x2, x2, #2
      br x2
    2: nop
      hvc #0
    `);
    runLockstep(pair, { slice: 100_000 });
    expect(pair.jit.cpu.exitImm).toBe(0xfff); // the vector's hvc: the alignment fault was taken
  });

  it('runs self-modifying code: a store into the running loop takes effect', () => {
    // At the 50th iteration the loop rewrites its own "add x0, x0, #1" into "add x0, x0, #100".
    const pair = withMmu(`
      adr x2, 2f
      ldr w3, 5f
      mov x1, #100
      mov x0, #0
    1:
    2: add x0, x0, #1
      cmp x1, #50
      b.ne 3f
      str w3, [x2]
      dc cvau, x2
      dsb ish
      ic ivau, x2
      dsb ish
      isb
    3: subs x1, x1, #1
      b.ne 1b
      hvc #0
    5: .inst 0x91019000
    `);
    runLockstep(pair, { slice: 100_000 });
    expect(pair.jit.x(0)).toBe(51n + 49n * 100n); // iterations with x1 = 100..50 add 1
  });

  it('follows code rewritten between runs by DMA (noteDataWrite)', () => {
    const pair = withMmu(COUNT_LOOP);
    const loopAdd = 8; // byte offset of "add x0, x0, #1"
    runLockstep(pair, {
      slice: 500,
      between: (m, slice) => {
        if (slice !== 2) return;
        m.ram.view.setUint32(loopAdd, 0x91019000, true); // add x0, x0, #100
        m.ram.noteDataWrite(loopAdd, 4);
      },
    });
    expect(pair.jit.x(0)).toBeGreaterThan(2000n);
  });

  it('follows a remapped data page after TLB maintenance', () => {
    const pair = withMmu(`
      movz x2, #0x4020, lsl #16
      mov x1, #3000
      mov x4, #0
    1: ldr x3, [x2]
      add x4, x4, x3
      subs x1, x1, #1
      b.ne 1b
      hvc #0
    `, (m) => {
      m.ram.view.setUint32(PAGES - RAM_BASE, 1, true);
      m.ram.view.setUint32(PAGES - RAM_BASE + 0x1000, 1000, true);
    });
    const mmus = new Map<object, TestMmu>();
    runLockstep(pair, {
      slice: 1000,
      between: (m, slice) => {
        if (slice !== 0) return;
        let mmu = mmus.get(m);
        if (!mmu) mmus.set(m, (mmu = new TestMmu(m)));
        mmu.setPage(PAGES, { pa: PAGES + 0x1000 }); // flushes the TLB, as TLBI does
      },
    });
    expect(pair.jit.x(4)).toBe(250n + 2750n * 1000n); // 250 iterations in the first slice
  });

  it('leaves breakpoint and watchpoint work to the interpreter (no compiled code runs under a debugger)', async () => {
    const { CpuDebug } = await import('../../src/cpu/debug-hooks.js');
    const pair = withMmu(COUNT_LOOP);
    pair.jit.cpu.debug = new CpuDebug(pair.jit.cpu);
    runLockstep(pair, { slice: 100_000 });
    expect(pair.jit.cpu.jit!.stats.jitInstructions).toBe(0);
  });
});
