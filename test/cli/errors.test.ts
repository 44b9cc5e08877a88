import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guest, ROOT, tagvisor, until, withMonitor } from './cli-process.js';

/** What a new user trips on: each mistake gets one line naming what is wrong, and a documented exit status. */

const dirs: string[] = [];
const servers: Server[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-errors-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A port something else already listens on. */
async function busyPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function expectOneLine(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(message);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('tagvisor --version', () => {
  it.each(['--version', '-V'])('%s prints the package.json version and exits 0', (flag) => {
    const run = tagvisor(flag);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout).toBe(`${version}\n`);
    expect(run.status).toBe(0);
  });
});

describe('bad usage names what is wrong (exit status 2, one line)', () => {
  it.each(['999T', '4G', '512K', 'lots'])('-m %s names the supported range', (size) => {
    const run = tagvisor('run', '-m', size, guest('demo'));
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, /supported range 1M\.\.3G/);
  });

  it.each(['1M', '4M'])('-m %s too small for the demo: refused before it runs, naming the -m it needs', (size) => {
    const run = tagvisor('run', '-m', size, guest('demo'));
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expectOneLine(run.stderr, /lies outside guest RAM \(0x40000000-0x40[14]00000\); it needs at least -m 6M$/m);
  });

  it('run <a directory> says it is a directory', () => {
    const dir = tempDir();
    const run = tagvisor('run', dir);
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, new RegExp(`^tagvisor: ${dir}: is a directory$`, 'm'));
  });

  it('run --restore <a directory> says it is a directory', () => {
    const dir = tempDir();
    const run = tagvisor('run', '--restore', dir);
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, /: is a directory$/m);
  });

  it('run --incoming on a port in use exits 2 naming --incoming, without a stack trace', async () => {
    const port = await busyPort();
    const run = tagvisor('run', '--incoming', `tcp:127.0.0.1:${port}`);
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, new RegExp(`^tagvisor: --incoming tcp:127\\.0\\.0\\.1:${port}: address already in use`));
  });

  it.each(['--monitor', '--gdb', '--web'])('%s on a port in use names the option', async (option) => {
    const port = await busyPort();
    const run = tagvisor('run', option, `tcp:127.0.0.1:${port}`, guest('demo'));
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, new RegExp(`^tagvisor: ${option} tcp:127\\.0\\.0\\.1:${port}: address already in use`));
  });
});

describe('--monitor unix:<path> (docs/monitor-api.md)', () => {
  it('a regular file at the path: says it is not a socket and leaves the file alone', () => {
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, 'keep me');
    const run = tagvisor('run', '--monitor', `unix:${file}`, guest('demo'));
    expect(run.status).toBe(2);
    expectOneLine(run.stderr, new RegExp(`^tagvisor: --monitor unix:${file}: ${file} exists and is not a socket`));
    expect(run.stderr).not.toMatch(/already in use/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('a stale socket (nobody listening) is replaced; a socket in use is refused', async () => {
    const path = join(tempDir(), 'vm.sock');
    // A process that dies without cleaning up leaves a stale socket file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await until(() => statSync(path, { throwIfNoEntry: false })?.isSocket() === true, 'the socket');
    const inUse = tagvisor('run', '--monitor', `unix:${path}`, guest('demo'));
    expect(inUse.status).toBe(2);
    expectOneLine(inUse.stderr, /--monitor unix:.*: address already in use/);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.on('exit', resolve));
    expect(statSync(path).isSocket()).toBe(true);
    const run = tagvisor('run', '--monitor', `unix:${path}`, guest('demo'));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});

describe('migrate and snapshot: the operation failed = exit status 1', () => {
  it.each([
    ['snapshot save', ['snapshot', 'save']],
    ['snapshot load', ['snapshot', 'load']],
  ])('%s with an unreachable monitor exits 1 naming the monitor', async (_name, command) => {
    const port = await closedPort();
    const run = tagvisor(...command, '--monitor', `tcp:127.0.0.1:${port}`, join(tempDir(), 'vm.snap'));
    expect(run.status).toBe(1);
    expectOneLine(run.stderr, new RegExp(`cannot reach the monitor at tcp:127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('migrate with an unreachable monitor exits 1', async () => {
    const port = await closedPort();
    const run = tagvisor('migrate', '--monitor', `tcp:127.0.0.1:${port}`, '--to', 'tcp:127.0.0.1:1');
    expect(run.status).toBe(1);
    expectOneLine(run.stderr, /cannot reach the monitor at /);
  });

  it('bad usage of migrate is still exit status 2', () => {
    expect(tagvisor('migrate', '--to', 'tcp:127.0.0.1:1').status).toBe(2);
  });

  it('snapshot save into a missing folder names the user\'s path, not a temporary file', async () => {
    const { proc, port, monitor } = await withMonitor('--start-paused', guest('demo'));
    try {
      const file = join(tempDir(), 'missing', 'vm.snap');
      const run = tagvisor('snapshot', 'save', '--monitor', `tcp:127.0.0.1:${port}`, file);
      expect(run.status).toBe(1);
      expectOneLine(run.stderr, new RegExp(`^tagvisor: cannot write ${file}: no such directory: ${join(file, '..')}$`, 'm'));
      expect(run.stderr).not.toMatch(/\.tmp-/);
    } finally {
      await monitor.execute('quit');
      monitor.close();
      expect(await proc.exit).toBe(0);
    }
  });
});
