import { describe, expect, it } from 'vitest';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, type TestMachine } from '../support/cpu-harness.js';
import { PAGES, TABLES, TestMmu, VECTORS } from '../support/mmu.js';
import { IRQ_LINE } from '../../src/cpu/cpu.js';
import { fetchCodePage } from '../../src/cpu/fetch.js';
import { runLockstep, withMmu } from './lockstep.js';
import { JIT_AREA_END } from '../../src/cpu/jit/layout.js';
import { JIT_AREA_BYTES } from '../../src/memory/ram-region.js';

/**
 * Chaining (docs/jit.md, "Chaining"): compiled regions call the next region from wasm through
 * the jump cache instead of returning to the run loop. In lockstep with the interpreter, so the
 * instruction count at every slice's end, hence every budget exit inside a chain, must agree;
 * and the jump cache must follow code that moves (a remapped page) or changes (a guest store).
 */

/** A loop calling a function on the next page (BL there, RET back): every exit is chainable. */
const CALLS = `
  mov x1, #3000
  mov x0, #0
1: bl 2f
  add x0, x0, #3
  subs x1, x1, #1
  b.ne 1b
  hvc #0
  .balign 4096
2: add x0, x0, #1
  eor x2, x0, x1
  ret
`;

/** A loop calling through X5 and X6 two functions of the page at PAGES + 0x3000 (a page `TestMmu.setPage` can move). */
const CALL_PAGE = `
  movz x5, #0x4020, lsl #16
  add x5, x5, #0x3000
  add x6, x5, #0x10
  mov x1, #3000
  mov x0, #0
1: blr x5
  blr x6
  subs x1, x1, #1
  b.ne 1b
  hvc #0
`;

/** TestMmu's tables (test/support/mmu.ts): the L2 table of the RAM window and the L3 table of PAGES. */
const L2_RAM = TABLES + 0x1000;
const L3_PAGES = TABLES + 0x2000;
/** Two 2 MiB blocks of RAM (Normal Tagged, EL1 RW). */
const BLOCK_A = RAM_BASE + 0x60_0000;
const BLOCK_B = RAM_BASE + 0x80_0000;

const ADD_1 = 0x91000400; // add x0, x0, #1
const ADD_100 = 0x91019000; // add x0, x0, #100
const RET = 0xd65f03c0;

function putCode(m: TestMachine, va: number, words: number[]): void {
  words.forEach((word, i) => m.ram.view.setUint32(va - RAM_BASE + i * 4, word, true));
  m.ram.noteDataWrite(va - RAM_BASE, words.length * 4);
}

describe.runIf(assemblerAvailable())('JIT chaining', () => {
  it('keeps the JIT area within what RamRegion reserves', () => {
    expect(JIT_AREA_END).toBeLessThanOrEqual(JIT_AREA_BYTES);
  });

  it.each([1, 2, 5, 64, 100_000])('calls and returns across pages in wasm, exact in slices of %i', (slice) => {
    const p = withMmu(CALLS);
    runLockstep(p, { slice });
    const cpu = p.jit.cpu;
    expect(cpu.exitReason).toBe(1);
    expect(p.jit.x(0)).toBe(3000n * 4n);
    if (slice === 100_000) {
      // Nearly every region was entered from another one, not from the run loop.
      expect(cpu.jit!.stats.chained).toBeGreaterThan(5000);
      expect(cpu.jit!.stats.entries).toBeLessThan(100);
    }
  });

  it('follows a remapped code page (a jump cache hit needs the instruction TLB to map the same physical page)', () => {
    // After the remap the first call refills the instruction TLB entry of the page: the second
    // function's old jump cache entry must not count as a hit then.
    const p = withMmu(CALL_PAGE, (m) => {
      putCode(m, PAGES + 0x3000, [ADD_1, RET, 0, 0, ADD_1, RET]);
      putCode(m, PAGES + 0x5000, [ADD_100, RET, 0, 0, ADD_100, RET]);
    });
    const mmus = new Map<object, TestMmu>();
    runLockstep(p, {
      slice: 1002, // the remap must not fall on a call: the run loop would refill the entry first
      between: (m, slice) => {
        if (slice !== 1) return;
        let mmu = mmus.get(m);
        if (!mmu) mmus.set(m, (mmu = new TestMmu(m)));
        mmu.setPage(PAGES + 0x3000, { pa: PAGES + 0x5000 }); // flushes the TLBs, as TLBI does
      },
    });
    expect(p.jit.x(0)).toBeGreaterThan(500_000n);
    expect(p.jit.cpu.jit!.stats.chained).toBeGreaterThan(1000);
  });

  it('follows a guest store into a called function (the store empties the jump cache)', () => {
    // At the 1000th call the loop rewrites the called function's add: from then on it adds 100.
    const p = withMmu(`
      movz x5, #0x4020, lsl #16
      add x5, x5, #0x3000
      ldr w3, 5f
      mov x1, #3000
      mov x0, #0
    1: blr x5
      cmp x1, #2000
      b.ne 2f
      str w3, [x5]
    2: subs x1, x1, #1
      b.ne 1b
      hvc #0
    5: .inst ${ADD_100}
    `, (m) => putCode(m, PAGES + 0x3000, [ADD_1, RET]));
    runLockstep(p, { slice: 100_000 });
    expect(p.jit.x(0)).toBe(1001n + 1999n * 100n);
    expect(p.jit.cpu.jit!.stats.chained).toBeGreaterThan(1000);
  });

  it.each([['a page', 0x1000], ['a block, through another page of it', 0x5000]])('sees a remap after TLBI VAAE1 of %s (the TLBs drop only what covers that VA)', (_what, tlbiOffset) => {
    // Loads from BLOCK_A + 0x1000 (a 2 MiB block mapping) or PAGES + 0x1000 (a page) while TLBI
    // VAAE1 runs on a VA that covers it; between slices the mapping moves to memory holding 1000.
    const block = tlbiOffset === 0x5000;
    const va = block ? BLOCK_A + 0x1000 : PAGES + 0x1000;
    const p = withMmu(`
      movz x2, #${va >>> 16}, lsl #16
      movk x2, #${va & 0xffff}
      movz x7, #${(va - 0x1000 + tlbiOffset) >>> 16}, lsl #16
      movk x7, #${(va - 0x1000 + tlbiOffset) & 0xffff}
      lsr x7, x7, #12
      mov x1, #6000
      mov x4, #0
    1: tlbi vaae1, x7
      dsb ish
      ldr x3, [x2]
      add x4, x4, x3
      subs x1, x1, #1
      b.ne 1b
      hvc #0
    `, (m) => {
      m.ram.view.setUint32(va - RAM_BASE, 1, true);
      m.ram.view.setUint32((block ? BLOCK_B + 0x1000 : PAGES + 0x2000) - RAM_BASE, 1000, true);
    });
    let left = 0n;
    runLockstep(p, {
      slice: 10_001,
      between: (m, slice) => {
        if (slice !== 0) return;
        left = m.x(1);
        // The descriptor changes in memory with no TLB flush from the harness: only the guest's TLBI.
        if (block) m.ram.view.setBigUint64(L2_RAM - RAM_BASE + ((BLOCK_A - RAM_BASE) >>> 21) * 8, BigInt(BLOCK_B) | 0x701n | (1n << 2n), true);
        else m.ram.view.setBigUint64(L3_PAGES - RAM_BASE + ((PAGES + 0x1000 - PAGES) >>> 12) * 8, BigInt(PAGES + 0x2000) | 0x703n | (1n << 2n), true);
      },
    });
    expect(left).toBeGreaterThan(1000n);
    expect(p.jit.x(4)).toBeGreaterThanOrEqual((6000n - left) + (left - 1n) * 1000n);
  });

  it.each([1, 7, 100_000])('takes an interrupt unmasked inside a compiled loop where the interpreter does, across ISB and chains (slices of %i)', (slice) => {
    // IRQ asserted (masked) from the start; the loop unmasks it at its 300th pass. The vector's hvc ends the run.
    const p = withMmu(`
      mov x9, #1000
      mov x0, #0
    1: add x0, x0, #1
      cmp x0, #300
      b.ne 2f
      msr daifclr, #2
    2: isb
      bl 3f
      subs x9, x9, #1
      b.ne 1b
      hvc #0
      .balign 4096
    3: add x1, x1, #1
      isb
      ret
    `, (m) => {
      m.ram.view.setUint32(VECTORS - RAM_BASE + 0x280, 0xd4000002 | (0xfff << 5), true); // IRQ, current EL with SPx
      m.ram.noteDataWrite(VECTORS - RAM_BASE + 0x280, 4);
      m.cpu.irqLines = IRQ_LINE;
    });
    runLockstep(p, { slice });
    expect(p.jit.cpu.exitImm).toBe(0xfff);
    expect(p.jit.x(0)).toBe(300n);
  });

  it('stops before a compiled ISB while an interrupt is takeable or a stop requested (the run loop would check there)', () => {
    const p = withMmu(`
      mov x9, #100
    1: add x0, x0, #1
      isb
      add x1, x1, #1
      subs x9, x9, #1
      b.ne 1b
      hvc #0
    `);
    const cpu = p.jit.cpu;
    cpu.run(30); // compiles the loop
    const enterLoop = (): number => {
      cpu.pcLo = RAM_BASE + 4;
      cpu.pcHi = 0;
      return cpu.jit!.enter(fetchCodePage(cpu)!, 1, RAM_BASE, 0, 1000);
    };
    expect(enterLoop()).toBeGreaterThan(100); // nothing due: ISB compiles to nothing
    cpu.irqLines = IRQ_LINE;
    expect(enterLoop()).toBeGreaterThan(100); // masked (DAIF.I): still nothing due
    cpu.daif = 0;
    // The add, then out before the ISB, counted (the dispatcher once returned 0 here: chaining
    // off dropped the last region's count).
    expect(enterLoop()).toBe(1);
    expect(cpu.pcLo).toBe(RAM_BASE + 8);
    cpu.irqLines = 0;
    cpu.requestStop();
    expect(enterLoop()).toBe(1);
  });
});

