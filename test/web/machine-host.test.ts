import { describe, expect, it } from 'vitest';
import { denied } from '../../src/memory/index.js';
import { GRANULE_NONE, PAGE_MIXED, PAGE_NEVER, PAGE_UNTAGGED, summaryOf } from '../../src/web/protocol.js';
import { HostProbe } from './host-driver.js';

const RAM = 0x4000_0000;
const FREED = 0x4050_0010; // demo.elf's use-after-free granule
const page = (gpa: number) => Math.floor((gpa - RAM) / 4096);

describe('MachineHost (the playground worker without the worker)', () => {
  it('runs the use-after-free demo: UART text, the fault with both tags and its PA, the exit', () => {
    const probe = new HostProbe().load('demo').run();
    expect(probe.last('loaded')).toMatchObject({ name: 'demo', ramBase: RAM, pages: 16384, mte: true, entry: '0x40080000' });
    expect(probe.text()).toContain('free(p)              -> memory retagged 4; p still carries tag 2');
    expect(probe.text()).toContain('blocked by a tag check fault');
    const faults = probe.all('faults').flatMap((m) => m.faults);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ seq: 1, addr: '0x0200000040500010', pa: FREED, logicalTag: 2, allocationTag: 4, size: 1, write: false, sync: true, el: 1 });
    expect(probe.last('status')).toMatchObject({ state: 'shutdown', shutdown: 'guest-exit 0' });
    expect(probe.last('status')!.instructions).toBeGreaterThan(20_000);
    expect(probe.last('cpu')?.cpu.mte.enabled).toBe(true);
  });

  it('reports the tag map: a full picture first, then changed pages, granules for the window', () => {
    const probe = new HostProbe().load('demo');
    const first = probe.all('page-tags');
    expect(first).toHaveLength(1);
    expect(first[0]!.full).toBe(true);
    expect(first[0]!.values.every((v) => v === PAGE_NEVER)).toBe(true);
    probe.run();
    const summaries = probe.summaries();
    expect(summaries[page(FREED)]! & PAGE_NEVER).toBe(0);
    expect(summaries[page(FREED)]! & PAGE_MIXED).toBe(PAGE_MIXED); // the heap page holds several tags
    probe.send({ type: 'granule-window', firstPage: page(FREED), pageCount: 2 });
    const granules = probe.last('granule-tags')!;
    expect([...granules.pages]).toEqual([page(FREED), page(FREED) + 1]);
    expect(granules.tags[(FREED & 0xfff) >> 4]).toBe(4); // retagged by free()
    expect(summaryOf(granules.tags)).toBe(summaries[page(FREED)]);
    expect(summaries[page(FREED) + 1]).toBe(summaryOf(granules.tags, 256));
    probe.send({ type: 'granule-window', firstPage: page(0x4300_0000), pageCount: 1 });
    expect(summaries[page(0x4300_0000)]).toBe(PAGE_NEVER);
    expect(probe.last('granule-tags')!.tags.every((t) => t === GRANULE_NONE)).toBe(true);
  });

  it('sees a page become tagged memory by a checked access alone (no tag write, no dirty log)', () => {
    const probe = new HostProbe().load('demo', { paused: true });
    const machine = probe.host.current!;
    const target = page(0x4300_0000);
    machine.vm.memory.space.findRam(RAM)!.tags!.ensureInitialised(target); // what the vCPU's TLB fill does
    probe.messages.length = 0;
    probe.host.flush();
    const update = probe.last('page-tags')!;
    expect(update.full).toBe(false);
    expect([...update.pages]).toEqual([target]);
    expect(update.values[0]).toBe(0);
  });

  it('pauses, steps and resumes; a step reports the registers', () => {
    const probe = new HostProbe().load('demo', { paused: true });
    expect(probe.last('status')).toMatchObject({ state: 'paused', stopReason: 'pause' });
    expect(probe.last('cpu')!.cpu.pc).toBe('0x0000000040080000');
    probe.send({ type: 'step' });
    expect(probe.last('status')).toMatchObject({ state: 'paused', stopReason: 'step', instructions: 1 });
    const cpu = probe.last('cpu')!.cpu;
    expect(cpu.pc).toBe('0x0000000040080004');
    expect(cpu).toMatchObject({ el: 1, spsel: 1, mte: { enabled: true, el1: { tcf: 'none' } } });
    expect(Object.keys(cpu.registers)).toEqual(expect.arrayContaining(['x0', 'x30', 'sp', 'pc', 'cpsr', 'sctlr_el1', 'gcr_el1', 'tfsr_el1']));
    const woken = probe.woken;
    probe.send({ type: 'resume' });
    expect(probe.woken).toBe(woken + 1);
    probe.run();
    expect(probe.last('status')!.state).toBe('shutdown');
  });

  it('reset forgets the tags and runs the guest again', () => {
    const probe = new HostProbe().load('demo').run();
    expect(probe.summaries()[page(FREED)]).not.toBe(PAGE_NEVER);
    probe.send({ type: 'reset' });
    expect(probe.messages.filter((m) => m.type === 'reset' || m.type === 'loaded').map((m) => m.type)).toEqual(['loaded', 'reset']);
    expect(probe.summaries()[page(FREED)]).toBe(PAGE_NEVER);
    probe.run();
    expect(probe.text()).toContain('blocked by a tag check fault');
  });

  it('shows RAM without tags when MTE is off', () => {
    const probe = new HostProbe().load('demo', { mte: false }).run();
    expect(probe.last('loaded')!.mte).toBe(false);
    expect(probe.summaries().every((v) => v === PAGE_UNTAGGED)).toBe(true);
    expect(probe.all('faults')).toHaveLength(0);
  });

  it('refuses bad input with a clear message and keeps the current guest', () => {
    const probe = new HostProbe();
    probe.send({ type: 'pause' });
    expect(probe.last('error')!.message).toBe('no guest loaded yet');
    const bad = (bytes: ArrayBuffer, extra = {}) => {
      probe.send({ type: 'load', name: 'x.elf', bytes, memoryBytes: 64 << 20, mte: true, ...extra });
      return probe.last('error')!.message;
    };
    expect(bad(new TextEncoder().encode('hello, this is not an ELF file at all, just some text to fill 64 bytes').buffer as ArrayBuffer)).toBe('x.elf cannot run: not an ELF file (bad magic)');
    expect(bad(new ArrayBuffer(10))).toMatch(/^x\.elf cannot run: file too short/);
    expect(bad(new ArrayBuffer(65 << 20))).toMatch(/x\.elf is 65 MiB: guest images larger than 64 MiB/);
    expect(bad(new ArrayBuffer(100), { memoryBytes: 12345 })).toMatch(/whole number of MiB/);
    expect(bad(new ArrayBuffer(100), { memoryBytes: 4096 << 20 })).toMatch(/whole number of MiB between 16 MiB and 2048 MiB/);
    probe.load('demo', { paused: true });
    probe.send({ type: 'load', name: 'y.elf', bytes: 'nope' as unknown as ArrayBuffer, memoryBytes: 64 << 20, mte: true });
    expect(probe.last('error')!.message).toBe('no file data');
    probe.send(null as never);
    expect(probe.last('error')!.message).toBe('malformed command');
    probe.send({ type: 'explode' } as never);
    expect(probe.last('error')!.message).toBe('unknown command "explode"');
    expect(probe.host.state).toBe('paused'); // the demo is still there
    probe.send({ type: 'resume' }).run();
    expect(probe.text()).toContain('blocked by a tag check fault');
  });

  it('a guest image whose segments leave RAM is refused', () => {
    const elf = new Uint8Array(64 + 56 + 4);
    const view = new DataView(elf.buffer);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    view.setUint16(16, 2, true); // ET_EXEC
    view.setUint16(18, 183, true); // EM_AARCH64
    view.setUint32(20, 1, true);
    view.setBigUint64(24, 0x1000n, true);
    view.setBigUint64(32, 64n, true);
    view.setUint16(52, 64, true);
    view.setUint16(54, 56, true);
    view.setUint16(56, 1, true);
    view.setUint32(64, 1, true); // PT_LOAD at 0x1000: below RAM
    view.setBigUint64(72, 120n, true);
    view.setBigUint64(80, 0x1000n, true);
    view.setBigUint64(88, 0x1000n, true);
    view.setBigUint64(96, 4n, true);
    view.setBigUint64(104, 4n, true);
    const probe = new HostProbe().send({ type: 'load', name: 'low.elf', bytes: elf.buffer, memoryBytes: 16 << 20, mte: true });
    expect(probe.last('error')!.message).toMatch(/^low\.elf cannot run: segment at 0x1000-0x1004 lies outside guest RAM/);
    expect(probe.all('loaded')).toHaveLength(0);
  });

  it('a debug policy that refuses tag reads stops the map, not the machine', () => {
    const probe = new HostProbe().load('demo', { paused: true });
    probe.host.current!.vm.memory.setPolicy({
      authorize: (request) => {
        if (request.cls === 'debug') throw denied(request, request.gpa, 'protected VM without debug');
      },
    });
    probe.send({ type: 'resume' }).run();
    expect(probe.all('error').map((m) => m.message)).toEqual([expect.stringMatching(/^the tag map stopped: GuestMemoryError: .*protected VM without debug/)]);
    expect(probe.text()).toContain('blocked by a tag check fault');
    expect(probe.last('status')!.state).toBe('shutdown');
  });
});
