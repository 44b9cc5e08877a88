/**
 * Snapshot files are read with a bound derived from the machine, checked while reading: a device
 * that never ends (/dev/zero) stops at the bound instead of growing the process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTooLargeError, readFileBounded } from '../../src/node/bounded-read.js';
import { maxSnapshotBytes, saveSnapshot } from '../../src/vmm/migration/index.js';
import { VirtMachine } from '../../src/vmm/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tagvisor-bounded-'));

describe('readFileBounded', () => {
  it('/dev/zero stops at the bound, without reading much past it', async () => {
    const before = process.memoryUsage().rss;
    const started = performance.now();
    await expect(readFileBounded('/dev/zero', 8 * 2 ** 20, 'snapshot')).rejects.toThrow(FileTooLargeError);
    await expect(readFileBounded('/dev/zero', 8 * 2 ** 20, 'snapshot')).rejects.toThrow(/^larger than any snapshot this VM can hold \(at most 8388608 bytes\)$/);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });

  it('a regular file at the bound is read whole; one byte more is refused before reading', async () => {
    const file = join(dir, 'exact');
    const bytes = new Uint8Array(3 * 2 ** 20 + 7).map((_, i) => i * 7);
    writeFileSync(file, bytes);
    expect(Buffer.from(await readFileBounded(file, bytes.length, 'snapshot')).equals(bytes)).toBe(true);
    await expect(readFileBounded(file, bytes.length - 1, 'snapshot')).rejects.toThrow(FileTooLargeError);
    writeFileSync(join(dir, 'empty'), new Uint8Array(0));
    expect(await readFileBounded(join(dir, 'empty'), 10, 'snapshot')).toEqual(new Uint8Array(0));
  });

  it('a missing file is the usual ENOENT', async () => {
    await expect(readFileBounded(join(dir, 'missing'), 10, 'snapshot')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('maxSnapshotBytes', () => {
  it('bounds a real snapshot of a machine whose every page is data and tags', () => {
    const machine = new VirtMachine({ memoryBytes: 2 * 2 ** 20 });
    const ram = machine.vm.memory;
    for (let page = 0; page < 512; page++) ram.dma.write(0x4000_0000 + page * 4096, new Uint8Array(4096).fill(page | 1));
    machine.pause();
    const size = saveSnapshot(machine).reduce((n, s) => n + s.length, 0);
    expect(size).toBeLessThanOrEqual(maxSnapshotBytes(2 * 2 ** 20));
    expect(maxSnapshotBytes(256 * 2 ** 20)).toBeLessThan(400 * 2 ** 20);
  });
});
