import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const GUEST = join(ROOT, 'guests/build/bench-mte.elf');
const EXPECTED = readFileSync(join(ROOT, 'guests/expected/bench-mte.out'), 'latin1');

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(...args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('latin1')));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString('latin1')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a server-like tagvisor and waits until it printed the port it listens on. */
async function listening(proc: Proc, pattern: RegExp): Promise<number> {
  await until(() => pattern.test(proc.stderr()), `a listening port in: ${proc.stderr()}`);
  return Number(pattern.exec(proc.stderr())![1]);
}

describe('live migration between two tagvisor processes', () => {
  it('moves a running MTE guest: output continues on the destination, use-after-free caught there', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M');
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '64M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    await until(() => source.stdout().includes('bench-mte'), 'the guest to start');
    const migrate = spawnSync(process.execPath, [CLI, 'migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`], { encoding: 'latin1', timeout: 60_000 });
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toMatch(/^migration completed in [\d.]+ s over \d+ rounds$/m);
    expect(migrate.stdout).toMatch(/^downtime: [\d.]+ ms$/m);
    expect(migrate.stdout).toMatch(/^tags: [\d.]+ MiB \(\d+ pages\)$/m);
    expect(await source.exit).toBe(0);
    expect(await destination.exit).toBe(0);
    expect(source.stdout() + destination.stdout()).toBe(EXPECTED);
    expect(destination.stdout()).toMatch(/use after free: ESR=96000011/);
  });

  it('a destination that is not there: migrate fails, the source runs on as if nothing happened', async () => {
    const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '64M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    const migrate = spawnSync(process.execPath, [CLI, 'migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', 'tcp:127.0.0.1:1'], { encoding: 'latin1', timeout: 60_000 });
    expect(migrate.status).toBe(1);
    expect(migrate.stderr).toMatch(/cannot connect to tcp:127\.0\.0\.1:1/);
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });

  it('an incoming stream that is not a migration: the destination exits 2 and never runs a guest', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M');
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
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
    const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '64M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    await until(() => source.stdout().includes('bench-mte'), 'the guest to start');
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
    expect(both.stderr).toMatch(/exactly one of <guest\.elf>, --incoming/);
  });
});

describe('protected VMs through the CLI', () => {
  it('migrates encrypted with --key-file on both ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-key-'));
    const key = join(dir, 'vm.key');
    writeFileSync(key, 'ab'.repeat(32) + '\n');
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '64M', '--protected', '--key-file', key);
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const source = start('run', '--protected', '--key-file', key, '--monitor', 'tcp:127.0.0.1:0', '-m', '64M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    await until(() => source.stdout().includes('bench-mte'), 'the guest to start');
    const migrate = spawnSync(process.execPath, [CLI, 'migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`], { encoding: 'latin1', timeout: 60_000 });
    expect(migrate.status).toBe(0);
    expect(await source.exit).toBe(0);
    expect(await destination.exit).toBe(0);
    expect(source.stdout() + destination.stdout()).toBe(EXPECTED);
  });

  it('a protected VM without --key-file refuses to migrate; the VM runs on', async () => {
    const source = start('run', '--protected', '--monitor', 'tcp:127.0.0.1:0', '-m', '64M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    const migrate = spawnSync(process.execPath, [CLI, 'migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', 'tcp:127.0.0.1:9'], { encoding: 'latin1', timeout: 60_000 });
    expect(migrate.status).toBe(1);
    expect(migrate.stderr).toMatch(/migrates only encrypted/);
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });
});

describe('a destination killed during migration', () => {
  it('the source notices, keeps running and finishes the guest itself', async () => {
    const destination = start('run', '--incoming', 'tcp:127.0.0.1:0', '-m', '256M');
    const port = await listening(destination, /incoming migration on 127\.0\.0\.1:(\d+)/);
    const source = start('run', '--monitor', 'tcp:127.0.0.1:0', '-m', '256M', GUEST);
    const monitor = await listening(source, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
    await until(() => source.stdout().includes('bench-mte'), 'the guest to start');
    // Freeze the destination, start the migration, and kill the destination once the source is
    // connected and waiting on it: the connection dies under the source mid-migration.
    destination.child.kill('SIGSTOP');
    const migrate = start('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`);
    const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: monitor });
    for (let i = 0; i < 1000; i++) {
      const progress = (await client.execute('query-migrate')) as { status: string };
      if (progress.status !== 'none') break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    client.close();
    destination.child.kill('SIGKILL');
    expect(await migrate.exit).toBe(1);
    expect(migrate.stderr()).toMatch(/migration failed: .*; the source VM keeps running/);
    expect(await source.exit).toBe(0);
    expect(source.stdout()).toBe(EXPECTED);
  });
});
