import { describe, expect, it } from 'vitest';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';
import { installVectors, PAGES, tagged, TestMmu } from '../support/mmu.js';

/**
 * The vCPU's side of dirty logging: stores mark data pages, tag stores mark tag pages, and a
 * page that was already written before logging started is still caught after a harvest (the
 * TLB's writable entries are dropped whenever the log is taken).
 */
describe.runIf(assemblerAvailable())('dirty logging from guest stores', () => {
  function setup() {
    const m = new TestMachine();
    installVectors(m);
    new TestMmu(m);
    const region = m.ram;
    return { m, region, page: (addr: number) => (addr - RAM_BASE) / 4096 };
  }

  function run(m: TestMachine, source: string, regs: Record<number, bigint | number>): void {
    m.load(`${source}\n hvc #0`);
    for (const [r, v] of Object.entries(regs)) m.setX(Number(r), BigInt(v));
    m.runToHvc();
  }

  it('STG dirties tags only; STR dirties data only', () => {
    const { m, region, page } = setup();
    region.dirtyLogging = true;
    m.cpu.writeProtectAll();
    run(m, 'stg x1, [x1]', { 1: tagged(PAGES + 0x1000, 5) });
    run(m, 'str x2, [x3]', { 2: 7, 3: PAGES + 0x2000 });
    expect(region.tagDirty.isSet(page(PAGES + 0x1000))).toBe(true);
    expect(region.dataDirty.isSet(page(PAGES + 0x1000))).toBe(false);
    expect(region.dataDirty.isSet(page(PAGES + 0x2000))).toBe(true);
    expect(region.tagDirty.isSet(page(PAGES + 0x2000))).toBe(false);
  });

  it('a store to a page with a cached writable TLB entry is logged again after a harvest', () => {
    const { m, region, page } = setup();
    region.dirtyLogging = true;
    m.cpu.writeProtectAll();
    const loop = 'str x2, [x3]\n str x2, [x3, #8]';
    run(m, loop, { 2: 1, 3: PAGES + 0x3000 });
    expect(region.dataDirty.takeAndClear().isSet(page(PAGES + 0x3000))).toBe(true);
    m.cpu.writeProtectAll(); // what Vm.getDirtyLog does after taking the log
    run(m, loop, { 2: 2, 3: PAGES + 0x3000 });
    expect(region.dataDirty.isSet(page(PAGES + 0x3000))).toBe(true);
  });
});
