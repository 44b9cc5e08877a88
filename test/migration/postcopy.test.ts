/**
 * Post-copy live migration (docs/migration-protocol.md §9; dist/ needed: `npm run build`): the
 * destination runs the guest as soon as the device states arrive and fetches each page with its
 * tags on first touch. A guest migrated that way prints what it prints without migrating; once
 * every page has arrived, data and tags equal the source's; a page connection lost mid-way ends
 * the destination (exit 74) and leaves the source paused with everything, so it can go on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { connectChannel } from '../../src/node/migration-tcp.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, MigrationSource } from '../../src/vmm/migration/index.js';
import { killedAfterEach, listening, ROOT, start, until, type Proc } from './cli-support.js';
import { TcpProxy } from './tcp-proxy.js';

const running = killedAfterEach();

const HEAP = join(ROOT, 'guests/build/heap.elf');
const RAM = 32 * 2 ** 20;

function spawn(...args: string[]): Proc {
  const proc = start(...args);
  running.push(proc);
  return proc;
}

/** A source machine in this process: heap.elf run part of the way, paused (so its pages and tags are known). */
function sourceMachine(): { m: VirtMachine; out: Uint8Array[] } {
  const m = new VirtMachine({ memoryBytes: RAM, mte: true });
  const out: Uint8Array[] = [];
  m.events.on('output', (bytes) => out.push(bytes.slice()));
  m.loadElf(readFileSync(HEAP));
  // Until it has printed a few lines (its heap is tagged by then), well before its end.
  while (Buffer.concat(out).toString('latin1').split('\n').length < 4 && m.state === 'running') m.runSlice(1000);
  if (m.state !== 'running') throw new Error('heap.elf ended before the migration');
  m.pause();
  return { m, out };
}

async function reference(): Promise<string> {
  const m = new VirtMachine({ memoryBytes: RAM, mte: true });
  const out: Uint8Array[] = [];
  m.events.on('output', (bytes) => out.push(bytes.slice()));
  m.loadElf(readFileSync(HEAP));
  await runToCompletion(m);
  return Buffer.concat(out).toString('latin1');
}

describe('post-copy live migration', () => {
  it.each(['interp', 'jit'])('a guest migrated with --postcopy prints what it prints without (destination on %s)', async (engine) => {
    const plain = spawn('run', '-m', '32M', HEAP);
    await plain.exit;
    const destination = spawn('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '32M', '--cpu-engine', engine, '--stats');
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const source = spawn('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '32M', '--start-paused', HEAP);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    const migrate = spawn('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`, '--postcopy');
    expect(await migrate.exit).toBe(0);
    expect(migrate.stdout()).toMatch(/^post-copy migration completed in [\d.]+ s\nswitch-over: [\d.]+ ms/);
    expect(await destination.exit).toBe(await plain.exit);
    expect(await source.exit).toBe(0);
    expect(destination.stderr()).toMatch(/incoming post-copy migration: guest running, pages arriving/);
    expect(destination.stdout()).toBe(plain.stdout());
    expect(destination.stdout()).toMatch(/heap: 5 bugs caught/); // the tag-check faults the guest expects, caught again
    expect(source.stdout()).toBe('');
  });

  it('once every page arrived, data and tags of every page equal the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-postcopy-'));
    try {
      const destination = spawn('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '32M', '--start-paused', '--monitor', 'tcp:127.0.0.1:0', '--snapshot-dir', dir);
      const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
      const { m } = sourceMachine();
      const source = new MigrationSource(m, await connectChannel('127.0.0.1', port), { postcopy: (p) => connectChannel('127.0.0.1', p) });
      const held: string[] = [];
      source.onProgress = (p) => {
        if (p.status !== 'postcopy-active' || held.length > 0) return;
        m.resume(); // a `cont` on the source while the guest runs at the destination
        held.push(m.state);
      };
      const progress = await source.run();
      expect(held).toEqual(['paused']);
      expect(progress).toMatchObject({ status: 'completed', postcopy: true, pagesSent: RAM / 4096 });
      const monitorPort = await listening(destination, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
      await until(() => /post-copy complete: every page arrived/.test(destination.stderr()), 'post-copy to complete');
      const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: monitorPort });
      try {
        await client.execute('snapshot-save', { file: join(dir, 'after.snap') });
      } finally {
        client.close();
      }
      const copy = new VirtMachine({ memoryBytes: RAM, mte: true });
      loadSnapshot(copy, readFileSync(join(dir, 'after.snap')));
      const [a, b] = [m, copy].map((x) => x.vm.memory.space.ramRegions[0]!);
      expect(Buffer.compare(a!.bytes, b!.bytes)).toBe(0);
      let tagged = 0;
      for (let page = 0; page < a!.pages; page++) {
        expect(b!.tags!.isInitialised(page)).toBe(a!.tags!.isInitialised(page));
        if (!a!.tags!.isInitialised(page)) continue;
        tagged++;
        expect(Buffer.compare(a!.tags!.packed.subarray(page * 128, page * 128 + 128), b!.tags!.packed.subarray(page * 128, page * 128 + 128))).toBe(0);
      }
      expect(tagged).toBeGreaterThan(0); // heap.elf has tagged its heap by then
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a page connection lost mid-way ends the destination (exit 74); the source stays paused and continues', async () => {
    const destination = spawn('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '32M', '--incoming-timeout', '2000');
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const { m, out } = sourceMachine();
    let proxy: TcpProxy | null = null;
    const source = new MigrationSource(m, await connectChannel('127.0.0.1', port), {
      postcopy: async (p) => {
        // The page connection goes through a proxy that stops carrying pages after 200 bytes
        // (less than the first raw page, the guest's code): the destination's guest waits for a
        // page that never comes, and its 2 s link timeout ends it.
        proxy = await TcpProxy.start(p, { stallAfter: 200 });
        return connectChannel('127.0.0.1', proxy.port, undefined, { idleTimeoutMs: 10_000 });
      },
    });
    try {
      const progress = await source.run();
      expect(progress).toMatchObject({ status: 'failed', outcome: 'postmigrate', postcopy: true });
      expect(progress.error).toMatch(/^post-copy: /);
      expect(m.state).toBe('paused');
      expect(await destination.exit).toBe(74);
      expect(destination.stderr()).toMatch(/tagvisor: post-copy migration failed: .*; the guest cannot continue here \(\d+ pages had not arrived\); the source keeps the VM paused as it was when it moved: resume it there \(monitor `cont`\)\n$/);
      // `cont` on the source: the guest goes on from where it moved, with all its memory and tags.
      m.resume();
      await runToCompletion(m);
      expect(Buffer.concat(out).toString('latin1')).toBe(await reference());
    } finally {
      (proxy as TcpProxy | null)?.close();
    }
  });
});
