import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuestMemoryError } from '../../src/memory/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { handleMemoryHypercall, VENDOR_HYP } from '../../src/vmm/hyp-mem.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { saveSnapshot, saveSealedSnapshot } from '../../src/vmm/migration/index.js';

const PAGE = 0x4100_0000;
const KEY = new Uint8Array(32).fill(7);

/** A protected VM, and the guest's share/unshare hypercalls made the way the guest makes them. */
function protectedVm(debug = false) {
  const machine = new VirtMachine({ memoryBytes: 64 * 2 ** 20, protected: { debug, key: KEY } });
  machine.loadElf(readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf')));
  const hypercall = (fn: number, ipa: number, granules = 1): bigint => {
    machine.vcpu.setX(0, BigInt(fn));
    machine.vcpu.setX(1, BigInt(ipa));
    machine.vcpu.setX(2, BigInt(granules));
    machine.vcpu.setX(3, 0n);
    expect(handleMemoryHypercall(machine.vcpu, machine.devices.pool)).toBe(true);
    return machine.vcpu.getX(0);
  };
  return {
    machine,
    share: (ipa: number) => expect(hypercall(VENDOR_HYP.MEM_SHARE, ipa)).toBe(0n),
    unshare: (ipa: number) => expect(hypercall(VENDOR_HYP.MEM_UNSHARE, ipa)).toBe(0n),
  };
}

const denied = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GuestMemoryError);
    expect((error as GuestMemoryError).code).toBe('denied');
    return;
  }
  throw new Error('expected the access to be refused');
};

/** Each VMM access class, as one operation on PAGE. */
const accesses: Record<string, (m: VirtMachine) => unknown> = {
  'dma read': (m) => m.vm.memory.dma.read(PAGE, new Uint8Array(64)),
  'dma write': (m) => m.vm.memory.dma.write(PAGE, new Uint8Array(64).fill(1)),
  'debug read': (m) => m.vm.memory.debug.readData(PAGE, new Uint8Array(64)),
  'debug write': (m) => m.vm.memory.debug.writeData(PAGE, new Uint8Array(64)),
  'debug tag read': (m) => m.vm.memory.debug.readTags(PAGE, 64),
  'debug tag write': (m) => m.vm.memory.debug.writeTags(PAGE, 64, Uint8Array.of(3)),
  'migration page read': (m) => m.vm.memory.migration.readPage(PAGE, new Uint8Array(4096)),
  'migration tag read': (m) => m.vm.memory.migration.readPageTags(PAGE, new Uint8Array(128)),
  'migration page write': (m) => m.vm.memory.migration.writePage(PAGE, new Uint8Array(4096)),
};

describe('a protected VM: every access class checks page ownership', () => {
  it.each(Object.entries(accesses))('%s: refused on a private page, allowed once shared, refused again after unshare', (_name, access) => {
    const { machine, share, unshare } = protectedVm();
    const before = new Uint8Array(4096);
    machine.vm.memory.sealedMigration.readPage(PAGE, before);
    denied(() => access(machine));
    const after = new Uint8Array(4096);
    machine.vm.memory.sealedMigration.readPage(PAGE, after);
    expect(after).toEqual(before); // a refused write moved nothing
    share(PAGE);
    expect(() => access(machine)).not.toThrow();
    unshare(PAGE);
    denied(() => access(machine));
  });

  it('a range that is half shared is refused as a whole, nothing copied', () => {
    const { machine, share } = protectedVm();
    share(PAGE);
    const buffer = new Uint8Array(8192).fill(0xaa);
    denied(() => machine.vm.memory.dma.write(PAGE, buffer));
    const first = new Uint8Array(16);
    machine.vm.memory.dma.read(PAGE, first);
    expect(first).toEqual(new Uint8Array(16));
  });

  it('monitor reads and writes of private memory are refused (AccessDenied), then allowed once shared', async () => {
    const { machine, share } = protectedVm();
    const monitor = new Monitor(machine);
    const run = (command: string, args: Record<string, unknown>) => monitor.registry.execute({ ...contextOf(monitor), afterReply: () => {} }, command, args);
    await expect(run('read-memory', { addr: PAGE, size: 16, space: 'physical' })).rejects.toMatchObject({ errorClass: 'AccessDenied' });
    await expect(run('read-tags', { addr: PAGE, size: 16, space: 'physical' })).rejects.toMatchObject({ errorClass: 'AccessDenied' });
    share(PAGE);
    await expect(run('read-memory', { addr: PAGE, size: 16, space: 'physical' })).resolves.toMatchObject({ data: '00'.repeat(16) });
    monitor.dispose();
  });

  it('snapshots: plaintext refused, sealed allowed', async () => {
    const { machine } = protectedVm();
    machine.pause();
    expect(() => saveSnapshot(machine)).toThrow(/must be encrypted/);
    const sealed = await saveSealedSnapshot(machine, KEY);
    expect(sealed.length).toBeGreaterThan(2);
  });

  it('--protected=debug: debug access to private memory works and is audited, one line per access', () => {
    const { machine } = protectedVm(true);
    const audit: string[] = [];
    machine.events.on('audit', (line) => audit.push(line));
    machine.vm.memory.debug.readData(PAGE, new Uint8Array(32));
    machine.vm.memory.debug.readTags(PAGE, 32);
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatch(/^debug read of data at 0x41000000\+0x20 touches private memory/);
    expect(audit[1]).toMatch(/^debug read of tags/);
    // DMA is still refused: the debug permission is for debugging only.
    denied(() => machine.vm.memory.dma.read(PAGE, new Uint8Array(16)));
  });

  it('--protected=debug: a debugger write (checked whole first, then made) is one audit line, not two', () => {
    const { machine } = protectedVm(true);
    const audit: string[] = [];
    machine.events.on('audit', (line) => audit.push(line));
    const view = Debugger.of(machine).memory;
    view.write(BigInt(PAGE), new Uint8Array(16).fill(7), 'physical');
    view.writeTags(BigInt(PAGE), 32, Uint8Array.of(3), 'physical');
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatch(/^debug write of data at 0x41000000\+0x10/);
    expect(audit[1]).toMatch(/^debug write of tags at 0x41000000\+0x20/);
  });
});

function contextOf(monitor: Monitor) {
  // The monitor's own context (machine, debugger, events), as a session would pass it.
  return (monitor as unknown as { context: Parameters<Monitor['registry']['execute']>[0] }).context;
}
