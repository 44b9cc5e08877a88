import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import type { BlockBackend } from '../../src/vmm/devices/virtio/index.js';

const disk = (): BlockBackend => {
  const bytes = new Uint8Array(4096);
  return { size: bytes.length, readOnly: false, id: 'test', read: (offset, dst) => dst.set(bytes.subarray(offset, offset + dst.length)), write: (offset, src) => bytes.set(src, offset), flush: () => {} };
};

describe('the device registry', () => {
  it('lists every board device once, with its MMIO, interrupts and state, in restore order', () => {
    const machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20, drives: [disk()], console: () => {} });
    const names = machine.board.map((d) => d.name);
    expect(names.slice(0, 4)).toEqual(['pl011', 'gicv3', 'arch-timer', 'shared-pages']);
    expect(names.filter((n) => n.startsWith('virtio-mmio'))).toHaveLength(32);
    expect(machine.board.find((d) => d.name === 'pl011')).toMatchObject({ mmio: [{ base: 0x0900_0000, size: 0x1000 }], interrupts: [33] });
    expect(machine.board.find((d) => d.name === 'virtio-mmio31')).toMatchObject({ mmio: [{ base: 0x0a00_3e00, size: 0x200 }], interrupts: [79] });
    // Snapshots carry what has state: the occupied slots only (disk in 31, console in 30).
    expect(machine.components().map((c) => c.stateName)).toEqual(['machine', 'vcpu0', 'pl011', 'gicv3', 'arch-timer0', 'shared-pages', 'virtio-mmio30', 'virtio-mmio31']);
    expect(machine.board.filter((d) => d.hostInput).map((d) => d.name)).toEqual(['virtio-mmio30']);
  });

  it('MMIO ranges of the registry do not overlap', () => {
    const ranges = new VirtMachine({ memoryBytes: 16 * 2 ** 20 }).board.flatMap((d) => d.mmio).sort((a, b) => a.base - b.base);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.base).toBeGreaterThanOrEqual(ranges[i - 1]!.base + ranges[i - 1]!.size);
  });

  it('an ELF guest too big for -m is refused, saying which -m it needs', () => {
    const machine = new VirtMachine({ memoryBytes: 2 ** 20 });
    const elf = new Uint8Array(64 + 56);
    const view = new DataView(elf.buffer);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    view.setUint16(16, 2, true); // ET_EXEC
    view.setUint16(18, 183, true); // EM_AARCH64
    view.setBigUint64(24, 0x4008_0000n, true);
    view.setBigUint64(32, 64n, true); // phoff
    view.setUint16(54, 56, true);
    view.setUint16(56, 1, true);
    view.setUint32(64, 1, true); // PT_LOAD
    view.setBigUint64(64 + 24, 0x4008_0000n, true); // paddr
    view.setBigUint64(64 + 40, 0x30_0000n, true); // memsz 3 MiB
    expect(() => machine.loadElf(elf)).toThrow(/segment at 0x40080000-0x40380000 lies outside guest RAM \(0x40000000-0x40100000\); it needs at least -m 4M/);
  });
});
