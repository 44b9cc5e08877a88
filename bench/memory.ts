/**
 * Guest-memory benchmarks (one run prints every figure):
 *
 * - DMA write/read of 4 KiB and 1 MiB as a ratio to a plain `Uint8Array.set` of the same size,
 *   timed side by side. 1.0 means DMA costs nothing over the copy itself; the target for 1 MiB is
 *   ≥ 0.8.
 * - Tag export/import rate in GiB of guest memory per second over a 256 MiB MTE guest with random
 *   tags: the migration access class (packed, 128 bytes per page) and the KVM_ARM_MTE_COPY_TAGS
 *   path (one tag per byte).
 */
import { Vm } from '../src/hv/vm.js';
import { KVM_ARM_TAGS_FROM_GUEST, KVM_ARM_TAGS_TO_GUEST, KVM_CAP_ARM_MTE } from '../src/hv/kvm-api.js';
import { GRANULE_SIZE, GuestMemory, PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE } from '../src/memory/index.js';
import type { BenchModule } from './main.js';
import { gibPerSecond, report, timeInterleaved } from './report.js';

const RAM_BASE = 0x4000_0000;
const MiB = 1024 * 1024;
const TAG_GUEST_BYTES = 256 * MiB;

/** Deterministic pseudo-random bytes (xorshift32), fast enough for megabytes. */
function randomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/**
 * The baseline is `Uint8Array.set` between the very same buffers the DMA moves data between (a
 * view of the guest RAM at the same offset, created once), so address-dependent effects of the copy
 * itself (cache-line and 4 KiB aliasing between source and destination) cancel out of the ratio.
 */
function dmaRatios(): void {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, 64 * MiB);
  memory.enableMte();
  const region = memory.space.ramRegions[0]!;
  const gpa = RAM_BASE + 4 * MiB;
  for (const [label, size] of [
    ['4kib', 4 * 1024],
    ['1mib', MiB],
  ] as const) {
    const src = randomBytes(size, size);
    const dst = new Uint8Array(size);
    const window = region.bytes.subarray(gpa - RAM_BASE, gpa - RAM_BASE + size);
    const t = timeInterleaved({
      copyIn: () => window.set(src),
      dmaWrite: () => memory.dma.write(gpa, src),
      copyOut: () => dst.set(window),
      dmaRead: () => memory.dma.read(gpa, dst),
    });
    report(`copy_${label}_gib_per_s`, gibPerSecond(size, t.copyIn.bestNs));
    report(`dma_write_${label}_gib_per_s`, gibPerSecond(size, t.dmaWrite.bestNs));
    report(`dma_read_${label}_gib_per_s`, gibPerSecond(size, t.dmaRead.bestNs));
    report(`dma_write_${label}_vs_copy_ratio`, t.copyIn.bestNs / t.dmaWrite.bestNs);
    report(`dma_read_${label}_vs_copy_ratio`, t.copyOut.bestNs / t.dmaRead.bestNs);
    report(`dma_write_${label}_overhead_ns`, t.dmaWrite.bestNs - t.copyIn.bestNs, 2);
    report(`dma_read_${label}_overhead_ns`, t.dmaRead.bestNs - t.copyOut.bestNs, 2);
  }
}

function tagRates(): void {
  const vm = new Vm();
  vm.enableCap({ cap: KVM_CAP_ARM_MTE });
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: RAM_BASE, memorySize: TAG_GUEST_BYTES });
  const { migration } = vm.memory;
  const pages = TAG_GUEST_BYTES / PAGE_SIZE;
  const packedIn = randomBytes(pages * PACKED_TAG_BYTES_PER_PAGE, 7);
  const packedOut = new Uint8Array(packedIn.length);

  const importAll = (): void => {
    for (let page = 0; page < pages; page++) {
      const offset = page * PACKED_TAG_BYTES_PER_PAGE;
      migration.writePageTags(RAM_BASE + page * PAGE_SIZE, packedIn.subarray(offset, offset + PACKED_TAG_BYTES_PER_PAGE));
    }
  };
  const exportAll = (): void => {
    for (let page = 0; page < pages; page++) {
      const offset = page * PACKED_TAG_BYTES_PER_PAGE;
      migration.readPageTags(RAM_BASE + page * PAGE_SIZE, packedOut.subarray(offset, offset + PACKED_TAG_BYTES_PER_PAGE));
    }
  };
  importAll(); // random tags on every page
  const options = { warmupMs: 100, batchMs: 10, rounds: 5 };
  const migrationTimes = timeInterleaved({ exportAll, importAll }, options);
  exportAll();
  if (!packedOut.every((b, i) => b === packedIn[i])) throw new Error('migration tag export does not match the imported tags');
  report('tag_export_migration_gib_per_s', gibPerSecond(TAG_GUEST_BYTES, migrationTimes.exportAll.bestNs));
  report('tag_import_migration_gib_per_s', gibPerSecond(TAG_GUEST_BYTES, migrationTimes.importAll.bestNs));

  // KVM_ARM_MTE_COPY_TAGS: one tag per byte, in 2 MiB batches of guest memory.
  const batchBytes = 2 * MiB;
  const unpacked = randomBytes(TAG_GUEST_BYTES / GRANULE_SIZE, 11).map((b) => b & 0xf);
  const copyAll = (flags: number) => (): void => {
    for (let done = 0; done < TAG_GUEST_BYTES; done += batchBytes) {
      const buffer = unpacked.subarray(done / GRANULE_SIZE, (done + batchBytes) / GRANULE_SIZE);
      const handled = vm.armMteCopyTags({ guestIpa: RAM_BASE + done, length: batchBytes, buffer, flags });
      if (handled !== batchBytes) throw new Error(`KVM_ARM_MTE_COPY_TAGS handled ${handled} of ${batchBytes} bytes`);
    }
  };
  const kvmTimes = timeInterleaved({ fromGuest: copyAll(KVM_ARM_TAGS_FROM_GUEST), toGuest: copyAll(KVM_ARM_TAGS_TO_GUEST) }, { warmupMs: 100, batchMs: 10, rounds: 3 });
  report('tag_export_kvm_copy_tags_gib_per_s', gibPerSecond(TAG_GUEST_BYTES, kvmTimes.fromGuest.bestNs));
  report('tag_import_kvm_copy_tags_gib_per_s', gibPerSecond(TAG_GUEST_BYTES, kvmTimes.toGuest.bestNs));

}

export const memoryBench: BenchModule = {
  name: 'memory',
  async run() {
    dmaRatios();
    tagRates();
  },
};
