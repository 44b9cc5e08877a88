/**
 * `tagvisor migrate --postcopy` when the destination dies mid-way (dist/ needed): migrate exits 1
 * with the post-copy advice, the source is paused in postmigrate with the guest's whole state (a
 * snapshot of it restores the guest where it moved), and the monitor's `cont` runs the guest to
 * the end there, printing what it prints without migrating (docs/migration-protocol.md §9).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { killedAfterEach, listening, ROOT, start, until } from './cli-support.js';

const running = killedAfterEach();

const HEAP = join(ROOT, 'guests/build/heap.elf');

describe('tagvisor migrate --postcopy when the destination dies', () => {
  it('exits 1 with the advice; the source stays paused (postmigrate) and cont finishes the guest there', async () => {
    const plain = start('run', '-m', '512M', HEAP);
    running.push(plain);
    // The destination's guest stays paused (--start-paused): its pages keep coming in the background.
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '512M', '--start-paused', '--monitor', 'tcp:127.0.0.1:0');
    running.push(destination);
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-postcopy-lost-'));
    const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '512M', '--start-paused', '--snapshot-dir', dir, HEAP);
    running.push(source);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    const migrate = start('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`, '--postcopy');
    running.push(migrate);
    await until(() => /incoming post-copy migration: guest running/.test(destination.stderr()), 'the switch-over');
    destination.child.kill('SIGKILL'); // long before 512 MiB of pages arrived
    expect(await migrate.exit).toBe(1);
    expect(migrate.stderr()).toMatch(/^tagvisor: post-copy migration failed: post-copy: .*; the source VM stays paused with its full state as it was when the guest moved: .*resume the source \(monitor `cont`\)/);
    const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: monitor });
    try {
      expect(await client.execute('query-status')).toMatchObject({ status: 'paused', 'stop-reason': 'postmigrate' });
      expect(await client.execute('query-migrate')).toMatchObject({ status: 'failed', outcome: 'postmigrate', postcopy: true });
      // The paused source can be kept: a snapshot of it restores the guest where it moved.
      expect(await client.execute('snapshot-save', { file: join(dir, 'kept.snap') })).toMatchObject({ bytes: expect.any(Number) });
      await client.execute('cont');
    } finally {
      client.close();
    }
    expect(await source.exit).toBe(await plain.exit);
    expect(source.stdout()).toBe(plain.stdout());
    const restored = start('run', '-m', '512M', '--restore', join(dir, 'kept.snap'));
    running.push(restored);
    expect(await restored.exit).toBe(await plain.exit);
    expect(restored.stdout().length).toBeGreaterThan(0);
    expect(plain.stdout().endsWith(restored.stdout())).toBe(true); // the rest of the run, from where it moved
    rmSync(dir, { recursive: true, force: true });
  });
});
