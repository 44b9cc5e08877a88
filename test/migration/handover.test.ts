/**
 * The handover rules of docs/migration-protocol.md §6 over real TCP, through a proxy that cuts or
 * stalls the link: once the source has asked for commit it never resumes without knowing that the
 * destination did not commit (postmigrate); a stalled link times out on both sides, and the
 * source resumes its guest when it is safe (before commit was requested).
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectChannel, listenOnce } from '../../src/node/migration-tcp.js';
import { machineStatus } from '../../src/vmm/monitor/commands/run-control.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { createChannelPair, encodeSection, MigrationError, MigrationSource, receiveMigration, saveSnapshot, Section } from '../../src/vmm/migration/index.js';
import { TcpProxy, type ProxyFaults } from './tcp-proxy.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/heap.elf'));
const RAM = 16 * 2 ** 20;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A running guest; `dataMiB` of its RAM filled with non-zero pages so the stream outgrows the socket buffers. */
function source(ram = RAM, dataMiB = 0): VirtMachine {
  const m = new VirtMachine({ memoryBytes: ram });
  Debugger.of(m); // as the monitor does: query-status reports the last stop reason
  m.loadElf(demo);
  const page = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 0xff);
  for (let at = 0; at < dataMiB * 2 ** 20; at += 4096) m.vm.memory.dma.write(0x4100_0000 + at, page);
  m.runSlice(20_000);
  return m;
}

/** Runs the machine in small slices, taking turns with the migration, until `done()`. */
async function drive(m: VirtMachine, done: () => boolean): Promise<void> {
  while (!done()) {
    if (m.state === 'running') m.runSlice(2_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

interface Outcome {
  progress: Awaited<ReturnType<MigrationSource['run']>>;
  sourceMachine: VirtMachine;
  target: VirtMachine;
  targetError: Error | null;
}

async function migrateThroughProxy(faults: ProxyFaults, timeouts: { stall: number; incoming: number }, ram = RAM, dataMiB = 0, paused = false): Promise<Outcome> {
  const target = new VirtMachine({ memoryBytes: ram });
  const { ready, accepted } = listenOnce('127.0.0.1', 0, { idleTimeoutMs: timeouts.incoming });
  const proxy = await TcpProxy.start(await ready, faults);
  cleanups.push(() => proxy.close());
  const m = source(ram, dataMiB);
  if (paused) m.pause();
  const channel = await connectChannel('127.0.0.1', proxy.port, 5_000, { idleTimeoutMs: timeouts.stall });
  let targetError: Error | null = null;
  let targetDone = false;
  const received = accepted.then((c) => receiveMigration(target, c)).catch((e: Error) => (targetError = e)).finally(() => (targetDone = true));
  let sourceDone = false;
  // A generous bound: these tests are about the handover, not about convergence on a busy machine.
  const migration = new MigrationSource(m, channel, { maxDowntimeMs: 1000 }).run().finally(() => (sourceDone = true));
  await drive(m, () => sourceDone && targetDone);
  await received;
  return { progress: await migration, sourceMachine: m, target, targetError };
}

describe('split brain: the connection drops after the destination committed', () => {
  it('the source stays paused in postmigrate (query-status says so) while the destination runs', async () => {
    // ACCEPT and every SYNCED reach the source; COMMITTED does not.
    // The source is paused from the start: the short guest cannot end during a slow pre-copy.
    const { progress, sourceMachine, target, targetError } = await migrateThroughProxy({ cutAtReply: Section.COMMITTED }, { stall: 5_000, incoming: 5_000 }, RAM, 0, true);
    expect(targetError).toBeNull();
    expect(target.state).toBe('running');
    expect(progress.status).toBe('failed');
    expect(progress.outcome).toBe('postmigrate');
    expect(progress.error).toMatch(/^commit: /);
    expect(sourceMachine.state).toBe('paused');
    expect(machineStatus(sourceMachine)).toMatchObject({ status: 'paused', running: false, 'stop-reason': 'postmigrate' });
  });
});

describe('a stalled link times out on both sides', () => {
  it('stalled after 2 MiB in pre-copy: the source resumes its guest, the destination gives up without running', async () => {
    const started = Date.now();
    const { progress, sourceMachine, target, targetError } = await migrateThroughProxy({ stallAfter: 2 * 2 ** 20 }, { stall: 400, incoming: 400 }, 64 * 2 ** 20, 40);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(progress.status).toBe('failed');
    expect(progress.outcome).toBe('resumed');
    expect(progress.error).toMatch(/^pre-copy round 0: no bytes moved for 0\.4 s/);
    // Resumed: it ran on (here to the guest's own end), it did not migrate away.
    expect(sourceMachine.state).not.toBe('paused');
    expect(sourceMachine.shutdown?.kind ?? 'running').not.toBe('migrated');
    expect(targetError).toBeInstanceOf(MigrationError);
    expect(targetError!.message).toMatch(/^memory: no bytes moved for 0\.4 s/);
    expect(target.state).not.toBe('running');
  });

  it('a destination that received 100 bytes of HELLO gives up after its incoming timeout', async () => {
    const target = new VirtMachine({ memoryBytes: RAM });
    const { ready, accepted } = listenOnce('127.0.0.1', 0, { idleTimeoutMs: 300 });
    const port = await ready;
    const hello = encodeSection(Section.HELLO, new Uint8Array(200).fill(0x41));
    const peer = connect({ host: '127.0.0.1', port });
    cleanups.push(() => peer.destroy());
    peer.on('error', () => {});
    peer.write(hello.subarray(0, 100));
    const started = Date.now();
    const failure = await receiveMigration(target, await accepted).then(() => null, (e: Error) => e);
    expect(failure?.message).toMatch(/^hello: no bytes moved for 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(target.state).not.toBe('running');
  });
});

describe('bytes after END', () => {
  it('are refused in a migration stream, as in a snapshot: the destination does not run', async () => {
    const m = new VirtMachine({ memoryBytes: RAM });
    m.loadElf(demo);
    m.pause();
    const stream = Buffer.concat([...saveSnapshot(m), Buffer.from('trailing junk')]);
    const [a, b] = createChannelPair();
    const target = new VirtMachine({ memoryBytes: RAM });
    const receiving = receiveMigration(target, b).then(() => null, (e: Error) => e);
    await a.send(stream);
    const failure = await receiving;
    expect(failure?.message).toMatch(/^commit: 13 unexpected bytes after the END section$/);
    expect(target.state).not.toBe('running');
  });
});
