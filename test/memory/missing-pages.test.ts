import { describe, expect, it } from 'vitest';
import { GuestMemory, MissingPages, PAGE_ARRIVED_TAGGED, PAGE_ARRIVED_UNTAGGED, PAGE_MISSING, PAGE_PRESENT, PageFetchError, PACKED_TAG_BYTES_PER_PAGE, type RamRegion } from '../../src/memory/index.js';
import { KVM_ARM_TAGS_FROM_GUEST, KVM_CAP_ARM_MTE, Vm } from '../../src/hv/index.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';
import { installVectors, PAGES, setTags, tagged, TABLES, TestMmu } from '../support/mmu.js';

/**
 * Post-copy's memory-layer rule (missing-pages.ts): a page not received yet is fetched, with its
 * tags, before anything touches it. A fake source hides pages (their data and tags are wiped and
 * the page marked missing) and gives them back from its fetcher, recording the order; every path
 * must then see the source's bytes and tags, never the wiped ones.
 */
class FakeSource {
  readonly fetched: number[] = [];
  private readonly saved = new Map<number, { data: Uint8Array; tags: Uint8Array | null; tagged: boolean }>();
  readonly missing: MissingPages;

  constructor(readonly region: RamRegion) {
    this.missing = new MissingPages(region, new Uint8Array(region.pages));
    this.missing.fetcher = (r, page) => this.deliver(r, page);
  }

  /** Takes page `gpa` away: data and tags zeroed, tags "never used", state missing. */
  hide(gpa: number): void {
    const { region } = this;
    const page = (gpa - region.base) / 4096;
    const data = region.bytes.slice(page * 4096, (page + 1) * 4096);
    const tags = region.tags ? region.tags.packed.slice(page * PACKED_TAG_BYTES_PER_PAGE, (page + 1) * PACKED_TAG_BYTES_PER_PAGE) : null;
    this.saved.set(page, { data, tags, tagged: region.tags?.isInitialised(page) ?? false });
    region.bytes.fill(0, page * 4096, (page + 1) * 4096);
    region.tags?.packed.fill(0, page * PACKED_TAG_BYTES_PER_PAGE, (page + 1) * PACKED_TAG_BYTES_PER_PAGE);
    region.tags?.uninitialise(page);
    // A fresh state object counts its missing pages: rebuild it around the same array.
    this.missing.state[page] = PAGE_MISSING;
    const fresh = new MissingPages(region, this.missing.state);
    fresh.fetcher = this.missing.fetcher;
    region.missing = fresh;
  }

  /** As a worker thread would: write data and packed tags, then publish the state. */
  private deliver(region: RamRegion, page: number): void {
    this.fetched.push(region.base + page * 4096);
    const saved = this.saved.get(page)!;
    region.bytes.set(saved.data, page * 4096);
    if (saved.tags && region.tags) region.tags.packed.set(saved.tags, page * PACKED_TAG_BYTES_PER_PAGE);
    Atomics.store(region.missing!.state, page, saved.tagged ? PAGE_ARRIVED_TAGGED : PAGE_ARRIVED_UNTAGGED);
  }
}

describe.runIf(assemblerAvailable()).each(['interp', 'jit'] as const)('post-copy missing pages, vCPU (%s)', (engine) => {
  function setup() {
    const m = new TestMachine();
    if (engine === 'jit') {
      m.cpu.setEngine('jit');
      m.cpu.jit!.hotThreshold = 0;
    }
    installVectors(m);
    new TestMmu(m);
    return { m, source: new FakeSource(m.ram) };
  }

  function run(m: TestMachine, code: string, regs: Record<number, bigint | number>): void {
    m.load(`${code}\n hvc #0`);
    for (const [r, v] of Object.entries(regs)) m.setX(Number(r), BigInt(v));
    m.runToHvc();
  }

  it('a load sees the source bytes, and a tag-checked load the source tags', () => {
    const { m, source } = setup();
    const addr = PAGES + 0x3000;
    setTags(m, addr, 4096, 9);
    m.ram.view.setBigUint64(addr - RAM_BASE + 8, 0x1122334455667788n, true);
    source.hide(addr);
    // Pointer tag 9: with the wiped tags (0) the load would fault.
    run(m, 'ldr x0, [x1, #8]\n ldr x2, [x1, #16]', { 1: tagged(addr, 9) });
    expect(m.x(0)).toBe(0x1122334455667788n);
    expect(m.cpu.tagFaultCount).toBe(0);
    expect(source.fetched).toEqual([addr]);
    expect(m.ram.missing).toBeNull(); // the last page settled: the checks cost a null compare again
  });

  it('a store lands on top of the fetched page', () => {
    const { m, source } = setup();
    const addr = PAGES + 0x4000;
    m.ram.bytes.fill(0xaa, addr - RAM_BASE, addr - RAM_BASE + 4096);
    source.hide(addr);
    run(m, 'str x0, [x1]\n str x0, [x1, #4088]', { 0: 0x0102030405060708n, 1: tagged(addr, 0) });
    expect(source.fetched).toEqual([addr]);
    expect(m.ram.bytes[addr - RAM_BASE + 8]).toBe(0xaa);
    expect(m.ram.view.getBigUint64(addr - RAM_BASE, true)).toBe(0x0102030405060708n);
  });

  it('LDG and STG see and keep the fetched tags', () => {
    const { m, source } = setup();
    const a = PAGES + 0x5000;
    const b = PAGES + 0x6000;
    setTags(m, a, 4096, 7);
    setTags(m, b, 4096, 3);
    source.hide(a);
    source.hide(b);
    run(m, 'ldg x0, [x1]\n stg x2, [x3]', { 0: 0, 1: a, 2: tagged(b, 5), 3: b });
    expect(source.fetched).toEqual([a, b]);
    expect(Number((m.x(0) >> 56n) & 0xfn)).toBe(7);
    expect(m.ram.tags!.tagAt(b - RAM_BASE)).toBe(5);
    expect(m.ram.tags!.tagAt(b - RAM_BASE + 16)).toBe(3); // the rest of b's tags came from the source
  });

  it('an instruction fetch and a page-table walk wait for their pages', () => {
    const { m, source } = setup();
    const code = PAGES + 0x7000;
    const data = PAGES + 0x8000;
    m.load('movz x0, #0x1234\n ldr x3, [x4]\n hvc #0', code);
    m.ram.view.setUint32(data - RAM_BASE, 0xcafe, true);
    // The last-level table of the PAGES window, the code page and the data page are missing.
    const l3 = TABLES + 0x2000;
    m.cpu.flushTlb();
    source.hide(l3);
    source.hide(code);
    source.hide(data);
    m.load(`movz x4, #${(data - RAM_BASE) & 0xffff}\n movk x4, #${(data >>> 16) & 0xffff}, lsl #16\n br x5`);
    m.setX(5, BigInt(code));
    m.runToHvc();
    expect(m.x(0)).toBe(0x1234n);
    expect(m.x(3)).toBe(0xcafen);
    // The table before the code page it maps, the code before the load it holds.
    expect(source.fetched).toEqual([l3, code, data]);
  });
});

describe('post-copy missing pages, VMM access classes', () => {
  function setup() {
    const memory = new GuestMemory();
    const region = memory.addRam(RAM_BASE, 1 << 20);
    memory.enableMte();
    region.bytes.fill(0x5a, 0x2000, 0x3000);
    region.tags!.fillTags(0x2000, 256, 6);
    const source = new FakeSource(region);
    source.hide(RAM_BASE + 0x2000);
    return { memory, region, source };
  }

  it('DMA reads and writes fetch first', () => {
    const { memory, source, region } = setup();
    const out = new Uint8Array(4);
    memory.dma.read(RAM_BASE + 0x1ffe, out);
    expect([...out]).toEqual([0, 0, 0x5a, 0x5a]);
    expect(source.fetched).toEqual([RAM_BASE + 0x2000]);
    expect(region.tags!.tagAt(0x2000)).toBe(6); // DMA leaves tags alone, and they arrived with the page
  });

  it('DMA writes into a missing page keep the rest of the source page', () => {
    const { memory, region } = setup();
    memory.dma.write(RAM_BASE + 0x2000, new Uint8Array([1, 2]));
    expect([...region.bytes.subarray(0x2000, 0x2004)]).toEqual([1, 2, 0x5a, 0x5a]);
  });

  it('the debugger reads tags and data of a missing page as the source has them', () => {
    const { memory, source } = setup();
    expect([...memory.debug.readTags(RAM_BASE + 0x2000, 32)]).toEqual([6, 6]);
    const data = new Uint8Array(2);
    memory.debug.readData(RAM_BASE + 0x2ffe, data);
    expect([...data]).toEqual([0x5a, 0x5a]);
    expect(source.fetched).toEqual([RAM_BASE + 0x2000]);
  });

  it('migration (snapshot save) reads a missing page with its tags', () => {
    const { memory } = setup();
    expect(memory.migration.tagState(RAM_BASE + 0x2000)).toBe('initialised');
    expect(memory.migration.uniformTag(RAM_BASE + 0x2000)).toBe(6);
    const page = new Uint8Array(4096);
    memory.migration.readPage(RAM_BASE + 0x2000, page);
    expect(page.every((b) => b === 0x5a)).toBe(true);
  });

  it('KVM_ARM_MTE_COPY_TAGS reads the tags of a missing page', () => {
    const vm = new Vm();
    vm.enableCap({ cap: KVM_CAP_ARM_MTE });
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: 16 * 4096 });
    const region = vm.memory.space.ramRegions[0]!;
    region.tags!.fillTags(0x3000, 256, 11);
    const source = new FakeSource(region);
    source.hide(region.base + 0x3000);
    const out = new Uint8Array(256);
    vm.armMteCopyTags({ guestIpa: region.base + 0x3000, length: 4096, buffer: out, flags: KVM_ARM_TAGS_FROM_GUEST });
    expect(out.every((t) => t === 11)).toBe(true);
    expect(source.fetched).toEqual([region.base + 0x3000]);
  });

  it('without a fetcher, touching a missing page is a PageFetchError; other pages work', () => {
    const memory = new GuestMemory();
    memory.addRam(RAM_BASE, 1 << 20);
    const [missing] = memory.markAllMissing(null);
    Atomics.store(missing!.state, 0, PAGE_ARRIVED_UNTAGGED);
    expect(memory.missingPages()).toBe(255);
    expect(missing!.state[0]).toBe(PAGE_PRESENT);
    memory.dma.read(RAM_BASE, new Uint8Array(16));
    expect(() => memory.dma.read(RAM_BASE + 0x1000, new Uint8Array(1))).toThrow(PageFetchError);
  });
});
