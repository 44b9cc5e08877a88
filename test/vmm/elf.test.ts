import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf, VirtMachine } from '../../src/vmm/index.js';

const DEMO = join(import.meta.dirname, '../../guests/build/demo.elf');

/** A minimal valid ELF64 AArch64 executable with one PT_LOAD segment of `payload` at `paddr`. */
function makeElf(options: { payload?: Uint8Array; paddr?: bigint; machine?: number; memsz?: bigint } = {}): Uint8Array {
  const payload = options.payload ?? new Uint8Array([0x1f, 0x20, 0x03, 0xd5]); // nop
  const bytes = new Uint8Array(64 + 56 + payload.length);
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, options.machine ?? 183, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(24, options.paddr ?? 0x4008_0000n, true);
  view.setBigUint64(32, 64n, true); // phoff
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, 1, true);
  view.setUint32(64, 1, true); // PT_LOAD
  view.setBigUint64(64 + 8, 120n, true); // offset
  view.setBigUint64(64 + 16, options.paddr ?? 0x4008_0000n, true);
  view.setBigUint64(64 + 24, options.paddr ?? 0x4008_0000n, true);
  view.setBigUint64(64 + 32, BigInt(payload.length), true);
  view.setBigUint64(64 + 40, options.memsz ?? BigInt(payload.length), true);
  bytes.set(payload, 120);
  return bytes;
}

describe('ELF loader', () => {
  it('loads a real guest image at its physical address with its entry point', () => {
    const image = parseElf(readFileSync(DEMO));
    expect(image.entry).toBe(0x4008_0000n);
    expect(image.segments.length).toBeGreaterThan(0);
    expect(image.segments.every((s) => s.paddr >= 0x4000_0000)).toBe(true);
  });

  it('accepts a minimal hand-made image', () => {
    const image = parseElf(makeElf());
    expect(image.segments).toHaveLength(1);
    expect(image.segments[0]!.data).toEqual(new Uint8Array([0x1f, 0x20, 0x03, 0xd5]));
  });

  it.each([
    ['empty file', new Uint8Array(0), /too short/],
    ['bad magic', (() => { const b = makeElf(); b[0] = 0; return b; })(), /bad magic/],
    ['32-bit class', (() => { const b = makeElf(); b[4] = 1; return b; })(), /64-bit/],
    ['big endian', (() => { const b = makeElf(); b[5] = 2; return b; })(), /little-endian/],
    ['x86-64 machine', makeElf({ machine: 62 }), /not an AArch64 ELF file/],
    ['memsz below filesz', makeElf({ memsz: 1n }), /exceeds memory size/],
    ['truncated segment', makeElf().subarray(0, 121), /past the end of the file/],
    ['program headers past the end', makeElf().subarray(0, 100), /program header table/],
  ])('refuses %s with a one-line reason', (_name, bytes, reason) => {
    expect(() => parseElf(bytes)).toThrow(ElfError);
    expect(() => parseElf(bytes)).toThrow(reason);
  });

  it('refuses segments outside guest RAM before touching memory', () => {
    const machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20 });
    expect(() => machine.loadElf(makeElf({ paddr: 0x1000n }))).toThrow(/outside guest RAM/);
    expect(() => machine.loadElf(makeElf({ paddr: 0x4000_0000n + 16n * 2n ** 20n - 2n }))).toThrow(/outside guest RAM/);
    expect(machine.state).toBe('created');
  });
});
