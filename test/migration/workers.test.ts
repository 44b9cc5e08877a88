/**
 * Encoding off the vCPU's thread (docs/migration-protocol.md §6, "Where the work runs"): guest RAM
 * is a shared WebAssembly.Memory, worker threads encode chunks from it in place, and what they
 * produce is byte for byte what the in-thread encoder produces. Needs dist/ (the worker script).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PageWorkers } from '../../src/node/migration/page-workers.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import type { RamRegion } from '../../src/memory/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { applyRamFrame, createChannelPair, encodeChunk, encodeSection, MigrationSource, PageList, planChunks, RamBatch, receiveMigration, regionMemories, Section, type MigrationChannel } from '../../src/vmm/migration/index.js';
import { connectChannel, listenOnce } from '../../src/node/migration-tcp.js';
import { spareFrames } from '../../src/node/migration/spare-frames.js';

const MIB = 2 ** 20;
const image = readFileSync(join(import.meta.dirname, '../../guests/build/bench-mte.elf'));

function memoryOf(m: VirtMachine): { data: Buffer; tags: Buffer } {
  const region = m.vm.memory.space.ramRegions[0]!;
  return { data: Buffer.from(region.bytes), tags: Buffer.from(m.vm.memory.debug.readTags(region.base, region.size)) };
}

describe('migration encoders on worker threads', () => {
  it('guest RAM is shared memory, and a worker encodes a chunk exactly as this thread does', async () => {
    const m = new VirtMachine({ memoryBytes: 64 * MIB });
    m.loadElf(image);
    m.runSlice(3_000_000); // heap pages, tags of several kinds
    const region = m.vm.memory.space.ramRegions[0]!;
    expect(region.shared).toBe(true);
    const jobs = planChunks([region], PageList.everything([region]), true);
    const pool = PageWorkers.encoders(regionMemories([region]));
    try {
      expect(pool).toBeInstanceOf(PageWorkers);
      for (const job of jobs) {
        const here = encodeChunk(regionMemories([region])[0]!, { ...job, pages: job.pages.slice(), modes: job.modes.slice() });
        const there = await pool.encode(job);
        expect(there).toEqual(here);
      }
    } finally {
      pool.close();
    }
  });

  it('a running MTE guest migrates through worker encoders: the destination holds its exact memory and tags, and runs on', async () => {
    const { source, target, out } = startedPair();
    const [a, b] = createChannelPair();
    const running = runToCompletion(source, { sliceSize: 20_000 });
    const migration = new MigrationSource(source, a, { maxDowntimeMs: 1000, encoders: (regions) => PageWorkers.encoders(regions) });
    const [progress] = await Promise.all([migration.run(), receiveMigration(target, b), running]);
    expect(progress.status).toBe('completed');
    const there = memoryOf(target);
    const here = memoryOf(source); // the source stopped at the pause: nothing changed since
    expect(there.data.equals(here.data)).toBe(true);
    expect(there.tags.equals(here.tags)).toBe(true);
    const outcome = await runToCompletion(target);
    expect(outcome.status).toBe(0);
    expect(Buffer.concat(out).toString('latin1')).toBe(readFileSync(join(import.meta.dirname, '../../guests/expected/bench-mte.out'), 'latin1'));
  }, 120_000);
});

/** A source running bench-mte for a while, an empty destination, and the output of both. */
function startedPair(): { source: VirtMachine; target: VirtMachine; out: Uint8Array[] } {
  const source = new VirtMachine({ memoryBytes: 64 * MIB });
  const target = new VirtMachine({ memoryBytes: 64 * MIB });
  const out: Uint8Array[] = [];
  for (const m of [source, target]) m.events.on('output', (b) => out.push(b.slice()));
  source.loadElf(image);
  source.runSlice(1_000_000);
  return { source, target, out };
}

/** A paused source whose RAM pages are all raw and different (no zero page), and an empty destination. */
function pausedDistinctPair(): { source: VirtMachine; target: VirtMachine; region: RamRegion } {
  const source = new VirtMachine({ memoryBytes: 64 * MIB });
  const target = new VirtMachine({ memoryBytes: 64 * MIB });
  const region = source.vm.memory.space.ramRegions[0]!;
  source.loadElf(image);
  for (let i = 0; i < region.size; i += 4) new DataView(region.bytes.buffer).setUint32(i, Math.imul(i, 2654435761) ^ 0x5a5a5a5a, true);
  source.pause();
  return { source, target, region };
}

describe('migration decoders on worker threads (the destination)', () => {
  it('over TCP, encoders on the source and decoders on the destination: the guest cannot tell', async () => {
    const { source, target, out } = startedPair();
    const { ready, accepted } = listenOnce('127.0.0.1', 0, { deferRamChecksum: true });
    const channel = await connectChannel('127.0.0.1', await ready);
    const running = runToCompletion(source, { sliceSize: 20_000 });
    const migration = new MigrationSource(source, channel, { maxDowntimeMs: 1000, encoders: (regions) => PageWorkers.encoders(regions) });
    const received = accepted.then((c) => receiveMigration(target, c, { decoders: (regions) => PageWorkers.decoders(regions) }));
    const [progress] = await Promise.all([migration.run(), received, running]);
    expect(progress.status).toBe('completed');
    expect(target.vm.memory.space.ramRegions[0]!.activity.dataPages[3]).toBeGreaterThan(0); // the viewer's migration counter
    const outcome = await runToCompletion(target);
    expect(outcome.status).toBe(0);
    expect(Buffer.concat(out).toString('latin1')).toBe(readFileSync(join(import.meta.dirname, '../../guests/expected/bench-mte.out'), 'latin1'));
  }, 120_000);

  it('over TCP, RAM frame buffers are reused on both sides and every byte still arrives (RAM full of distinct data, source paused)', async () => {
    // Every page raw and different: a reused buffer holding a previous section's bytes would show.
    const { source, target, region } = pausedDistinctPair();
    const { ready, accepted } = listenOnce('127.0.0.1', 0, { deferRamChecksum: true });
    const channel = await connectChannel('127.0.0.1', await ready);
    let encoders: PageWorkers | null = null;
    const spareBefore = spareFrames.reused;
    const migration = new MigrationSource(source, channel, {
      maxDowntimeMs: 1000,
      encoders: (regions) => (encoders = PageWorkers.encoders(regions) as PageWorkers),
    });
    const received = accepted.then((c) => receiveMigration(target, c, { decoders: (regions) => PageWorkers.decoders(regions) }));
    const [progress] = await Promise.all([migration.run(), received.catch((e: Error) => e)]);
    expect(progress.error).toBeUndefined();
    expect(progress.status).toBe('completed');
    expect(encoders!.recycled).toBeGreaterThan(0);
    expect(spareFrames.reused - spareBefore).toBeGreaterThan(0);
    expect(spareFrames.heldBytes).toBe(0); // the decoder pool closed: its spare frames are let go
    expect(progress.bytesSent).toBeGreaterThan(region.size);
    expect(memoryOf(target).data.equals(memoryOf(source).data)).toBe(true);
  }, 120_000);

  it('a destination lost in the middle of round 0: the migration fails, the source keeps its guest, and no chunk in flight is left unhandled', async () => {
    // Once, the encoder threads' chunks still in flight were abandoned when the pool closed: their
    // rejections went unhandled, which ends a Node process (the CLI's source, with its guest).
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { source, target, region } = pausedDistinctPair();
      const { ready, accepted } = listenOnce('127.0.0.1', 0, { deferRamChecksum: true });
      const channel = await connectChannel('127.0.0.1', await ready);
      const migration = new MigrationSource(source, channel, { maxDowntimeMs: 1000, encoders: (regions) => PageWorkers.encoders(regions) });
      let cut: MigrationChannel | null = null;
      migration.onProgress = (progress) => {
        if (progress.status === 'active' && progress.bytesSent > 4 * MIB && cut === null) void accepted.then((c) => (cut = c).close());
      };
      const received = accepted.then((c) => receiveMigration(target, c, { decoders: (regions) => PageWorkers.decoders(regions) })).catch((e: Error) => e);
      const progress = await migration.run();
      await received;
      await new Promise((resolve) => setTimeout(resolve, 100)); // rejections surface after a turn of the loop
      expect(cut).not.toBeNull();
      expect(progress.status).toBe('failed');
      expect(progress.outcome).toBe('resumed');
      expect(progress.bytesSent).toBeLessThan(region.size);
      expect(source.state).toBe('paused'); // as it was before the migration
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  }, 120_000);

  it('a RAM section whose checksum fails on a decoder thread is refused: the destination never runs the guest', async () => {
    const source = new VirtMachine({ memoryBytes: 64 * MIB });
    const target = new VirtMachine({ memoryBytes: 64 * MIB });
    source.loadElf(image);
    source.runSlice(100_000);
    expect(source.state).toBe('running');
    const [a, b] = createChannelPair();
    // The destination's reader defers RAM checksums; one frame arrives with a flipped data byte.
    let corrupted = false;
    const receive = b.receive.bind(b);
    const deferring: MigrationChannel = Object.assign(Object.create(b) as MigrationChannel, {
      receive: async () => {
        const section = await receive();
        if (section.type !== Section.RAM_ALIGNED) return section;
        const frame = encodeSection(section.type, section.payload);
        if (!corrupted && frame.length > 5000) {
          corrupted = true;
          frame[frame.length - 100]! ^= 1;
        }
        return { ...section, unverified: frame };
      },
    });
    const [progress, targetError] = await Promise.all([
      new MigrationSource(source, a, { maxDowntimeMs: 1000 }).run(),
      receiveMigration(target, deferring, { decoders: (regions) => PageWorkers.decoders(regions) }).then(() => null, (e: Error) => e.message),
    ]);
    expect(corrupted).toBe(true);
    expect(targetError).toMatch(/^memory: RAM section: checksum mismatch/);
    expect(progress.status).toBe('failed');
    expect(progress.outcome).toBe('resumed');
    expect(target.state).not.toBe('running');
  });

  it('a section with a page outside RAM writes none of its pages', () => {
    const m = new VirtMachine({ memoryBytes: 16 * MIB });
    const batch = new RamBatch();
    batch.addRaw(0x4000_0000).fill(7);
    batch.addRaw(0x8000_0000).fill(7); // beyond the 16 MiB of RAM
    expect(() => applyRamFrame(regionMemories(m.vm.memory.space.ramRegions), batch.seal())).toThrow(/page 0x80000000 is outside guest RAM/);
    expect(m.vm.memory.space.ramRegions[0]!.bytes[0]).toBe(0);
  });
});
