/**
 * Hostile ELF files: many huge zero-filled segments, overlapping segments. The loader refuses
 * overlaps with one line (so the memory a load touches is bounded by the guest's RAM) and
 * zero-fills without allocating a buffer the size of the segment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf, VirtMachine } from '../../src/vmm/index.js';

const BUILD = join(import.meta.dirname, '../../guests/build');
const NOP = new Uint8Array([0x1f, 0x20, 0x03, 0xd5]);

interface Segment {
  readonly paddr: bigint;
  readonly filesz: number;
  readonly memsz: bigint;
}

/** An ELF64 AArch64 executable whose segments all take their file bytes from NOP at the end. */
export function elfWith(segments: readonly Segment[]): Uint8Array {
  const phoff = 64;
  const dataAt = phoff + 56 * segments.length;
  const bytes = new Uint8Array(dataAt + NOP.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, 2, true);
  view.setUint16(18, 183, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(24, segments[0]!.paddr, true);
  view.setBigUint64(32, BigInt(phoff), true);
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    const at = phoff + 56 * i;
    view.setUint32(at, 1, true);
    view.setBigUint64(at + 8, BigInt(dataAt), true);
    view.setBigUint64(at + 16, s.paddr, true);
    view.setBigUint64(at + 24, s.paddr, true);
    view.setBigUint64(at + 32, BigInt(s.filesz), true);
    view.setBigUint64(at + 40, s.memsz, true);
  });
  bytes.set(NOP, dataAt);
  return bytes;
}

const BASE = 0x4008_0000n;

describe('ELF segments that overlap', () => {
  it('254 extra segments of 256 MiB each over the first: refused at once, one line', () => {
    const segments = [{ paddr: BASE, filesz: 4, memsz: 4n }, ...Array.from({ length: 254 }, () => ({ paddr: BASE, filesz: 0, memsz: 256n * 2n ** 20n }))];
    const started = performance.now();
    expect(() => parseElf(elfWith(segments))).toThrow(ElfError);
    expect(() => parseElf(elfWith(segments))).toThrow(/^segments at 0x40080000-0x40080004 and 0x40080000-0x50080000 overlap$/);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it.each([
    ['one inside another', [{ paddr: BASE, filesz: 4, memsz: 0x1000n }, { paddr: BASE + 0x800n, filesz: 0, memsz: 0x10n }]],
    ['a tail over the next head', [{ paddr: BASE, filesz: 4, memsz: 0x1001n }, { paddr: BASE + 0x1000n, filesz: 4, memsz: 4n }]],
    ['listed out of order', [{ paddr: BASE + 0x1000n, filesz: 4, memsz: 4n }, { paddr: BASE, filesz: 0, memsz: 0x2000n }]],
  ])('%s: refused', (_name, segments) => {
    expect(() => parseElf(elfWith(segments))).toThrow(/overlap/);
  });

  it('adjacent segments are fine, and so is every guest image the project builds', () => {
    expect(parseElf(elfWith([{ paddr: BASE, filesz: 4, memsz: 0x1000n }, { paddr: BASE + 0x1000n, filesz: 4, memsz: 4n }])).segments).toHaveLength(2);
    for (const name of readdirSync(BUILD).filter((n) => n.endsWith('.elf'))) expect(() => parseElf(readFileSync(join(BUILD, name))), name).not.toThrow();
  });
});

describe('zero-filled segments', () => {
  it('a 48 MiB bss is zeroed at every reset without a 48 MiB buffer per segment', () => {
    const machine = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
    machine.loadElf(elfWith([{ paddr: BASE, filesz: 4, memsz: 48n * 2n ** 20n }]));
    const last = Number(BASE) + 48 * 2 ** 20 - 8;
    machine.vm.memory.dma.write(last, new Uint8Array(8).fill(0xaa));
    machine.vm.memory.dma.write(Number(BASE) + 4096, new Uint8Array(8).fill(0xaa));
    machine.reset();
    const probe = new Uint8Array(8);
    machine.vm.memory.dma.read(last, probe);
    expect([...probe]).toEqual(new Array(8).fill(0));
    machine.vm.memory.dma.read(Number(BASE) + 4096, probe);
    expect([...probe]).toEqual(new Array(8).fill(0));
    machine.vm.memory.dma.read(Number(BASE), probe.subarray(0, 4));
    expect([...probe.subarray(0, 4)]).toEqual([...NOP]);
  });
});
