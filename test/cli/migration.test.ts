import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, INCOMING_PORT, listening, ROOT, start, withMonitor } from './cli-process.js';

const GUEST = join(ROOT, 'guests/build/bench-mte.elf');
const EXPECTED = readFileSync(join(ROOT, 'guests/expected/bench-mte.out'), 'latin1');

/**
 * Every source starts paused (--start-paused) and runs only when the test says so, so no test
 * depends on the guest still running when the migration or snapshot begins: those that want a
 * running guest continue it just before; the others migrate or fail while it waits.
 */
function migrate(monitorPort: number, to: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, 'migrate', '--monitor', `tcp:127.0.0.1:${monitorPort}`, '--to', to], { encoding: 'latin1', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('live migration between two tagvisor processes', () => {
  it('moves a running MTE guest: output continues on the destination, use-after-free caught there', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M');
    const port = await listening(destination, INCOMING_PORT);
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '-m', '64M', GUEST);
    // Continue the guest and migrate at once: it has seconds of work left, the migration needs far less.
    await client.execute('cont');
    client.close();
    const moved = migrate(monitor, `tcp:127.0.0.1:${port}`);
    expect(moved.stderr).toBe('');
    expect(moved.status).toBe(0);
    expect(moved.stdout).toMatch(/^migration completed in [\d.]+ s over \d+ rounds$/m);
    expect(moved.stdout).toMatch(/^downtime: [\d.]+ ms$/m);
    expect(moved.stdout).toMatch(/^tags: [\d.]+ MiB \(\d+ pages\)$/m);
    expect(await source.exit).toBe(0);
    expect(await destination.exit).toBe(0);
    expect(source.stdout() + destination.stdout()).toBe(EXPECTED);
    expect(destination.stdout()).toMatch(/use after free: ESR=96000011/);
  });

  it('a destination that is not there: migrate fails, the source runs on as if nothing happened', async () => {
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '-m', '64M', GUEST);
    const failed = migrate(monitor, 'tcp:127.0.0.1:1');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/cannot connect to tcp:127\.0\.0\.1:1/);
    expect(((await client.execute('query-status')) as { status: string }).status).toBe('paused');
    await client.execute('cont');
    client.close();
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });

  it('an incoming stream that is not a migration: the destination exits 2 and never runs a guest', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M');
    const port = await listening(destination, INCOMING_PORT);
    const { connect } = await import('node:net');
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.end('GET / HTTP/1.1\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect(await destination.exit).toBe(2);
    expect(destination.stderr()).toMatch(/incoming migration failed: .*; the guest was not started/);
    expect(destination.stdout()).toBe('');
  });
});

describe('snapshots through the CLI', () => {
  it('snapshot save from a running VM, then run --restore continues from that point', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-snap-'));
    const file = join(dir, 'vm.snap');
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '-m', '64M', GUEST);
    // Continue, then save at once: the save pauses the running guest around it.
    await client.execute('cont');
    client.close();
    const save = spawnSync(process.execPath, [CLI, 'snapshot', 'save', '--monitor', `tcp:127.0.0.1:${monitor}`, file], { encoding: 'latin1', timeout: 60_000 });
    expect(save.stderr).toBe('');
    expect(save.stdout).toMatch(/^saved [\d.]+ MiB to /);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED); // the source carried on after the save
    const restored = spawnSync(process.execPath, [CLI, 'run', '--restore', file, '-m', '64M'], { encoding: 'latin1', timeout: 120_000 });
    expect(restored.status).toBe(0);
    expect(restored.stdout.length).toBeGreaterThan(0);
    expect(EXPECTED.endsWith(restored.stdout)).toBe(true);
  });

  it('run --restore refuses a snapshot for another RAM size, and a corrupted file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-snap-'));
    const bogus = join(dir, 'bogus.snap');
    spawnSync('sh', ['-c', `head -c 5000 /dev/urandom > ${bogus}`]);
    const bad = spawnSync(process.execPath, [CLI, 'run', '--restore', bogus], { encoding: 'latin1' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exactly one boot source', () => {
    const both = spawnSync(process.execPath, [CLI, 'run', '--incoming', 'tcp:127.0.0.1:0', GUEST], { encoding: 'latin1' });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/exactly one of <guest\.elf>, /);
  });
});

describe('protected VMs through the CLI', () => {
  it('migrates encrypted with --key-file on both ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-key-'));
    const key = join(dir, 'vm.key');
    writeFileSync(key, 'ab'.repeat(32) + '\n');
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M', '--protected', '--key-file', key);
    const port = await listening(destination, INCOMING_PORT);
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '--protected', '--key-file', key, '-m', '64M', GUEST);
    await client.execute('cont');
    client.close();
    expect(migrate(monitor, `tcp:127.0.0.1:${port}`).status).toBe(0);
    expect(await source.exit).toBe(0);
    expect(await destination.exit).toBe(0);
    expect(source.stdout() + destination.stdout()).toBe(EXPECTED);
  });

  it('a protected VM without --key-file refuses to migrate; the VM runs on', async () => {
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '--protected', '-m', '64M', GUEST);
    const refused = migrate(monitor, 'tcp:127.0.0.1:9');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/migrates only encrypted/);
    await client.execute('cont');
    client.close();
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });
});

describe('a destination killed during migration', () => {
  it('the source notices, keeps running and finishes the guest itself', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '256M');
    const port = await listening(destination, INCOMING_PORT);
    const { proc: source, port: monitor, monitor: client } = await withMonitor('--start-paused', '-m', '256M', GUEST);
    // Freeze the destination, start the migration, and kill the destination once the source is
    // connected and waiting on it: the connection dies under the source mid-migration.
    destination.child.kill('SIGSTOP');
    const migrating = start('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`);
    for (let i = 0; i < 1000; i++) {
      const progress = (await client.execute('query-migrate')) as { status: string };
      if (progress.status !== 'none') break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    destination.child.kill('SIGKILL');
    expect(await migrating.exit).toBe(1);
    expect(migrating.stderr()).toMatch(/migration failed: .*; the source VM keeps running/);
    // It was paused before the migration and is paused after it: continue it to the end.
    expect(((await client.execute('query-status')) as { status: string }).status).toBe('paused');
    await client.execute('cont');
    client.close();
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });
});
