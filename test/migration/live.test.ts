import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runToCompletion } from '../../src/node/run-guest.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { createChannelPair, MigrationSource, Section, receiveMigration, type ChannelFaults, type MigrationOptions } from '../../src/vmm/migration/index.js';

const GUESTS = join(import.meta.dirname, '../../guests');
const image = (name: string) => readFileSync(join(GUESTS, 'build', `${name}.elf`));
const RAM = 64 * 2 ** 20;
const SLICE = 20_000;
/** Most tests here are about what arrives, not about convergence on a busy machine: a generous downtime bound. */
const RELAXED: MigrationOptions = { maxDowntimeMs: 1000 };

function machine(options: { mte?: boolean; memoryBytes?: number } = {}): { m: VirtMachine; out: Uint8Array[] } {
  const m = new VirtMachine({ memoryBytes: options.memoryBytes ?? RAM, mte: options.mte ?? true });
  const out: Uint8Array[] = [];
  m.events.on('output', (bytes) => out.push(bytes.slice()));
  return { m, out };
}

const text = (out: Uint8Array[]) => Buffer.concat(out).toString('latin1');
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Drives a machine the way the CLI does, but with small slices and a macrotask between them, so
 * the guest and the migration (whose channel yields a macrotask per send) take turns fairly.
 */
async function drive(m: VirtMachine, slice: number): Promise<void> {
  while (m.state === 'running' || m.state === 'paused') {
    if (m.state === 'running') m.runSlice(slice);
    await tick();
  }
}

function statusOf(m: VirtMachine): number {
  const s = m.shutdown;
  return s?.kind === 'semihosting-exit' ? s.code & 0xff : 0;
}

async function reference(guest: string): Promise<{ out: string; status: number; instructions: number }> {
  const { m, out } = machine();
  m.loadElf(image(guest));
  const outcome = await runToCompletion(m, { sliceSize: SLICE });
  return { out: text(out), status: outcome.status, instructions: outcome.instructions };
}

interface MigrationRun {
  out: string;
  status: number;
  migrated: boolean;
  error?: string | undefined;
  targetError?: string | undefined;
  rounds: number;
  tagBytes: number;
  bytesSent: number;
  /** The source stopped in postmigrate (END sent, no answer); the test then resumed it, as a user would after checking the destination. */
  postmigrate: boolean;
}

/** Runs `guest` on a source, starts a live migration after `startAt` instructions, and finishes wherever the guest ends up. */
/**
 * `paused`: the source is paused for the migration (and continued afterwards when it stays the
 * source), so two runs from the same point send exactly the same bytes: faults placed by byte
 * offset land where the test means them, whatever the machine's load does to round timing.
 */
async function migrateAt(guest: string, startAt: number, faults: ChannelFaults = {}, targetOptions: { mte?: boolean } = {}, sourceOptions: MigrationOptions = RELAXED, paused = false): Promise<MigrationRun> {
  const source = machine();
  const target = machine(targetOptions);
  const out: Uint8Array[] = [];
  source.m.events.on('output', (bytes) => out.push(bytes.slice()));
  target.m.events.on('output', (bytes) => out.push(bytes.slice()));
  source.m.loadElf(image(guest));
  source.m.runSlice(startAt);
  const [a, b] = createChannelPair(faults);
  if (paused) source.m.pause();
  const running = drive(source.m, 500);
  let postmigrate = false;
  const migration = new MigrationSource(source.m, a, sourceOptions).run().then((progress) => {
    if (paused && progress.outcome === 'resumed') source.m.resume();
    if (progress.outcome === 'postmigrate') {
      postmigrate = true;
      expect(source.m.state).toBe('paused');
      // The recovery of docs/migration-protocol.md §6 once the destination is known not to run: cont.
      setTimeout(() => {
        if (target.m.state !== 'running') source.m.resume();
      }, 10);
    }
    return progress;
  });
  let targetError: string | undefined;
  const received = receiveMigration(target.m, b).then(
    () => true,
    (error: Error) => {
      targetError = error.message;
      return false;
    },
  );
  const [, progress, targetOk] = await Promise.all([running, migration, received]);
  let status = statusOf(source.m);
  if (targetOk) {
    expect(source.m.shutdown?.kind).toBe('migrated');
    status = (await runToCompletion(target.m, { sliceSize: SLICE })).status;
  } else {
    expect(target.m.state).not.toBe('running');
  }
  return { out: text(out), status, migrated: targetOk, error: progress.error, targetError, rounds: progress.round, tagBytes: progress.tagBytes, bytesSent: progress.bytesSent, postmigrate };
}

describe('live migration carries data and tags: the guest cannot tell', () => {
  it.each(['demo', 'heap', 'mte-el0', 'mte-async'])('%s, migrated at 8 points', async (guest) => {
    const truth = await reference(guest);
    const tagBytes: number[] = [];
    for (let k = 1; k <= 8; k++) {
      const at = Math.floor((truth.instructions * k) / 9);
      const run = await migrateAt(guest, at);
      expect({ at, migrated: run.migrated, out: run.out, status: run.status, error: run.error, targetError: run.targetError }).toEqual({ at, migrated: true, out: truth.out, status: truth.status, error: undefined, targetError: undefined });
      tagBytes.push(run.tagBytes);
    }
    // Once the guest has used tagged memory, its tags are on the wire.
    expect(tagBytes.at(-1)).toBeGreaterThan(0);
  });

  it('the tagging workload keeps running during pre-copy and its use-after-free is caught after the switch', async () => {
    const truth = await reference('bench-mte');
    const run = await migrateAt('bench-mte', Math.floor(truth.instructions * 0.2), {}, {}, {});
    expect(run.migrated).toBe(true);
    expect(run.rounds).toBeGreaterThan(1); // the guest dirtied memory and tags while round 0 was sent
    expect(run.out).toBe(truth.out);
    expect(run.out).toMatch(/use after free: ESR=96000011/);
  });
});

describe('a failed migration leaves the source running as if nothing happened, unless the destination may have committed', () => {
  const guest = 'heap';

  /** Faults placed at fractions of the bytes a clean migration from the same point sends. */
  it.each([
    ['dropped in HELLO', (_total: number) => ({ dropAfterBytes: 20 })],
    ['dropped right after HELLO', (_total: number) => ({ dropAfterBytes: 400 })],
    ['dropped at 10%', (total: number) => ({ dropAfterBytes: Math.floor(total * 0.1) })],
    ['dropped at 50%', (total: number) => ({ dropAfterBytes: Math.floor(total * 0.5) })],
    ['dropped in the last section', (total: number) => ({ dropAfterBytes: total - 3 })],
    ['a corrupted byte at 30%', (total: number) => ({ corruptByte: Math.floor(total * 0.3) })],
    ['a corrupted byte at 99%', (total: number) => ({ corruptByte: Math.floor(total * 0.99) })],
    ['a corrupted byte in the header', (_total: number) => ({ corruptByte: 9 })],
  ] satisfies [string, (total: number) => ChannelFaults][])('%s', async (_name, fault) => {
    const truth = await reference(guest);
    const at = Math.floor(truth.instructions / 3);
    const clean = await migrateAt(guest, at, {}, {}, RELAXED, true);
    expect(clean.migrated).toBe(true);
    const run = await migrateAt(guest, at, fault(clean.bytesSent), {}, RELAXED, true);
    expect(run.migrated).toBe(false);
    expect(run.error).toBeTruthy();
    expect(run.targetError).toBeTruthy();
    // Once END went out, an answer that never came leaves the source paused (it cannot know);
    // before that, or with a REFUSE, it resumed by itself.
    expect(run.postmigrate).toBe(/^commit: (?!destination refused)/.test(run.error!));
    expect(run.out).toBe(truth.out);
    expect(run.status).toBe(truth.status);
  });

  it('refuses MTE on the source and not on the destination, with a clear reason', async () => {
    const truth = await reference(guest);
    const run = await migrateAt(guest, 1000, {}, { mte: false });
    expect(run.migrated).toBe(false);
    expect(run.error).toMatch(/destination refused: capability mismatch: the source VM has MTE and the destination does not/);
    expect(run.out).toBe(truth.out);
  });
});

describe('tag-only changes', () => {
  it('a page whose tags changed but whose data did not is re-sent through the tag dirty bitmap', async () => {
    const source = machine();
    const target = machine();
    source.m.loadElf(image('demo'));
    source.m.runSlice(15_000);
    expect(source.m.state).toBe('running');
    source.m.pause();
    const gpa = 0x4050_0000; // the demo's heap page
    const before = new Uint8Array(4096);
    source.m.vm.memory.migration.readPage(gpa, before);
    const [a, b] = createChannelPair();
    // Once round 0's pages went out, retag one granule the way STG would: tags dirty, data clean.
    let retagged = false;
    const send = a.send.bind(a);
    a.send = async (bytes) => {
      await send(bytes);
      if (!retagged && bytes[0] === Section.RAM_ALIGNED) {
        retagged = true;
        source.m.vm.memory.debug.writeTags(gpa + 0x40, 16, Uint8Array.of(0xb));
      }
    };
    const [progress] = await Promise.all([new MigrationSource(source.m, a, RELAXED).run(), receiveMigration(target.m, b).catch((e: Error) => e.message)]);
    expect(progress.error).toBeUndefined();
    expect(progress.status).toBe('completed');
    expect(retagged).toBe(true);
    expect(target.m.vm.memory.debug.readTags(gpa + 0x40, 16)).toEqual(Uint8Array.of(0xb));
    const after = new Uint8Array(4096);
    target.m.vm.memory.migration.readPage(gpa, after);
    expect(after).toEqual(before);
  });
});

describe('sections stay within the format limits', () => {
  it('a RAM section full of non-zero pages fits MAX_SECTION_PAYLOAD', async () => {
    const { MAX_RAM_PAGES_PER_SECTION, MAX_SECTION_PAYLOAD, RamBatch, SectionReader } = await import('../../src/vmm/migration/index.js');
    const batch = new RamBatch();
    for (let i = 0; i < MAX_RAM_PAGES_PER_SECTION; i++) batch.addRaw(0x4000_0000 + i * 4096).fill(i & 0xff);
    const section = batch.seal();
    expect(section.length - 12).toBeLessThanOrEqual(MAX_SECTION_PAYLOAD);
    const reader = new SectionReader();
    reader.push(section);
    expect(reader.next()?.payload.length).toBe(section.length - 12);
  });
});

describe('a destination that hangs', () => {
  it('the source gives up after the reply timeout and resumes the guest', async () => {
    const source = machine();
    source.m.loadElf(image('heap'));
    source.m.runSlice(10_000);
    const [a] = createChannelPair(); // nobody ever answers on the other end
    const progress = await new MigrationSource(source.m, a, { replyTimeoutMs: 200 }).run();
    expect(progress.status).toBe('failed');
    expect(progress.error).toMatch(/did not answer HELLO within 0.2 s/);
    expect(source.m.state).toBe('running');
  });
});

describe('a `cont` on the source while the paused guest is copied', () => {
  it('is undone with a warning (a debugger step too): the guest does not run there again, and the destination finishes it as without the cont', async () => {
    const truth = await reference('heap');
    const source = machine();
    const target = machine();
    const out: Uint8Array[] = [];
    source.m.events.on('output', (bytes) => out.push(bytes.slice()));
    target.m.events.on('output', (bytes) => out.push(bytes.slice()));
    source.m.loadElf(image('heap'));
    source.m.runSlice(Math.floor(truth.instructions / 3));
    const warnings: string[] = [];
    source.m.events.on('warning', (text) => warnings.push(text));
    // The stop-and-copy's pause; then, while its sections go out, a user continues the guest
    // (monitor `cont`).
    let pausedAt = -1;
    source.m.events.on('stop', ({ reason }) => {
      if (reason === 'pause' && pausedAt < 0) pausedAt = source.m.instructions;
    });
    const [a, b] = createChannelPair();
    const send = a.send.bind(a);
    let continued = false;
    a.send = (bytes) => {
      if (pausedAt >= 0 && !continued) {
        continued = true;
        source.m.resume();
        source.m.runSlice(1000); // the run loop's next turn
        source.m.step(); // a debugger's single step
      }
      return send(bytes);
    };
    const running = drive(source.m, 500);
    const [progress] = await Promise.all([new MigrationSource(source.m, a, RELAXED).run(), receiveMigration(target.m, b), running]);
    expect(progress.status).toBe('completed');
    expect(continued).toBe(true);
    expect(pausedAt).toBeGreaterThan(0);
    expect(source.m.instructions).toBe(pausedAt);
    expect(warnings).toContain('the migration is copying the paused guest: the source stays paused until it ends');
    const status = (await runToCompletion(target.m, { sliceSize: SLICE })).status;
    expect(text(out)).toBe(truth.out);
    expect(status).toBe(truth.status);
  });
});
