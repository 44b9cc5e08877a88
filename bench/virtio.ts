/**
 * virtio-blk throughput as the guest sees it (one run prints every figure):
 *
 * - The guest guests/build/virtio-blk-bench.elf reads a file-backed disk (`--drive`) in 4 KiB and
 *   1 MiB requests into an MTE-tagged buffer, through its own virtio driver with interrupts and
 *   WFI, with `--dma direct` (the device fills the buffer in place) and `--dma bounce` (the device
 *   may only use the shared pool; the driver copies). The time from the guest's "go" to its
 *   "done" (semihosting writes, seen by the VMM at that instruction) gives MiB/s of guest-visible
 *   throughput, all driver and device work included, boot excluded.
 * - The direct/bounce ratio per size, and the direct 1 MiB figure as a fraction of plain host
 *   memory-copy bandwidth (Uint8Array.set of 1 MiB) measured in the same run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk } from '../src/node/file-disk.js';
import type { DmaMode } from '../src/vmm/dma-path.js';
import { VirtMachine } from '../src/vmm/index.js';
import type { BenchModule } from './main.js';
import { report, timeInterleaved } from './report.js';

const MiB = 2 ** 20;
const DISK_BYTES = 64 * MiB;
const GUEST = join(import.meta.dirname, '../../guests/build/virtio-blk-bench.elf');
/** Instructions per slice (as `tagvisor run`). */
const SLICE = 4_000_000;

function makeDisk(dir: string): string {
  const path = join(dir, 'bench-disk.img');
  const bytes = new Uint8Array(DISK_BYTES);
  let x = 0x2545f491;
  for (let i = 512; i < bytes.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    new DataView(bytes.buffer).setUint32(i, x >>> 0, true);
  }
  writeFileSync(path, bytes);
  return path;
}

function configure(path: string, requestBytes: number, count: number, bounce: boolean): void {
  const disk = FileDisk.open(path);
  const cfg = new Uint8Array(512);
  cfg.set(new TextEncoder().encode('TVBENCH\0'));
  const view = new DataView(cfg.buffer);
  view.setUint32(8, requestBytes, true);
  view.setUint32(12, count, true);
  view.setUint32(16, bounce ? 1 : 0, true);
  view.setUint32(20, 0, true);
  disk.write(0, cfg);
  disk.close();
}

/**
 * Guest-visible MiB/s of one run: from the guest's "go" to its "done", which it writes on the
 * semihosting console (each write exits to the VMM at that instruction, so the timestamps are
 * exact whatever the slice size).
 */
function runOnce(image: Uint8Array, path: string, dma: DmaMode, requestBytes: number, count: number): number {
  configure(path, requestBytes, count, dma === 'bounce');
  const disk = FileDisk.open(path);
  try {
    const machine = new VirtMachine({ memoryBytes: 256 * MiB, drives: [disk], dma });
    let uart = '';
    let go = 0;
    let done = 0;
    machine.events.on('output', (bytes) => void (uart += Buffer.from(bytes).toString('latin1')));
    machine.events.on('console', (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      if (text.includes('go')) go = performance.now();
      if (text.includes('done')) done = performance.now();
    });
    machine.events.on('warning', (message) => {
      throw new Error(`virtio bench: ${message}`);
    });
    machine.loadElf(image);
    while (machine.state === 'running') machine.runSlice(SLICE);
    if (!go || !done || !new RegExp(`requests ${count}, failed 0`).test(uart)) throw new Error(`virtio bench guest failed: ${uart}`);
    return (requestBytes * count) / MiB / ((done - go) / 1000);
  } finally {
    disk.close();
  }
}

export const virtioBench: BenchModule = {
  name: 'virtio',
  async run() {
    const image = readFileSync(GUEST);
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-bench-'));
    try {
      const path = makeDisk(dir);
      const figures: Record<string, number> = {};
      // Bytes per timed run: tens of milliseconds at least.
      const plan = [
        ['4kib', 4096, { direct: 16 * MiB, bounce: 16 * MiB }],
        ['1mib', MiB, { direct: 512 * MiB, bounce: 32 * MiB }],
      ] as const;
      for (const [label, size, totals] of plan) {
        const modes = ['direct', 'bounce'] as const;
        // Warm-up runs (JIT, page cache), then three rounds, direct and bounce side by side in
        // alternating order; the best run of each counts.
        for (const dma of modes) runOnce(image, path, dma, size, Math.min(64, totals[dma] / size));
        const bestOf = { direct: 0, bounce: 0 };
        for (let round = 0; round < 3; round++) {
          for (const dma of round % 2 === 0 ? modes : [...modes].reverse()) {
            bestOf[dma] = Math.max(bestOf[dma], runOnce(image, path, dma, size, totals[dma] / size));
          }
        }
        for (const dma of modes) {
          figures[`${dma}_${label}`] = bestOf[dma];
          report(`virtio_blk_${dma}_${label}_mib_per_s`, bestOf[dma]);
        }
        report(`virtio_blk_${label}_direct_vs_bounce_ratio`, bestOf.direct / bestOf.bounce);
      }
      const src = new Uint8Array(MiB).fill(7);
      const dst = new Uint8Array(MiB);
      const copy = timeInterleaved({ copy: () => dst.set(src) }).copy;
      const memcpy = MiB / MiB / (copy.bestNs / 1e9);
      report('host_memcpy_1mib_mib_per_s', memcpy);
      report('virtio_blk_direct_1mib_vs_memcpy_ratio', figures.direct_1mib! / memcpy);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
