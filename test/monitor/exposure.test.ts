/**
 * Who may connect to the front ends and what a client may touch (docs/monitor-api.md, "Who may
 * connect"): loopback by default, a non-loopback address refused before anything listens unless a
 * token or --insecure is given, owner-only unix sockets, the monitor's token, and the files
 * snapshot-save / snapshot-load may touch. Also `run --start-paused` with no front end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCommand, type RunCommandOptions } from '../../src/cli/run-command.js';
import { exposureRefusal, isLoopback } from '../../src/node/listen-address.js';
import { registerMigrationCommands } from '../../src/node/migration-commands.js';
import { MonitorServer } from '../../src/node/monitor/monitor-server.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { CLI, GDB_TAGS_ELF, gdbTagsMachine, RawClient } from '../support/debugger.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  vi.restoreAllMocks();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-exposure-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** runCommand in this process, its stderr captured. */
async function run(options: Partial<RunCommandOptions>, guest: string | undefined = GDB_TAGS_ELF): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const status = await runCommand(guest, { memory: 64 * 2 ** 20, mte: true, ...options });
  vi.restoreAllMocks();
  return { status, stderr };
}

describe('tagvisor run: refusals before anything runs or listens (exit 2, one line)', () => {
  it('--start-paused with no front end (nothing could continue the guest; Node exited 13)', async () => {
    const result = await run({ startPaused: true });
    expect(result).toEqual({ status: 2, stderr: 'tagvisor: --start-paused needs --monitor, --gdb or --web (something to continue the guest from)\n' });
  });

  it.each([
    [{ monitor: { kind: 'tcp', host: '192.0.2.1', port: 4444 } }, /^tagvisor: --monitor tcp:192\.0\.2\.1:4444 is not a loopback address: .*--auth-token-file/],
    [{ web: { kind: 'tcp', host: '0.0.0.0', port: 0 } }, /^tagvisor: --web tcp:0\.0\.0\.0:0 is not a loopback address/],
    [{ gdb: { kind: 'tcp', host: '::', port: 0 } }, /^tagvisor: --gdb tcp:\[::\]:0 is not a loopback address and the gdb protocol has no authentication/],
  ] as const)('a non-loopback address without a token: %j', async (servers, message) => {
    const result = await run(servers);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a token does not open gdb to the network; a bad token file is refused', async () => {
    const dir = scratch();
    const good = join(dir, 'token');
    writeFileSync(good, 'a-token-of-24-characters\n');
    const gdb = await run({ gdb: { kind: 'tcp', host: '10.0.0.1', port: 0 }, authTokenFile: good });
    expect(gdb.stderr).toMatch(/--gdb .* has no authentication/);
    writeFileSync(join(dir, 'short'), 'short\n');
    expect(await run({ monitor: { kind: 'tcp', host: '127.0.0.1', port: 0 }, authTokenFile: join(dir, 'short') })).toEqual({ status: 2, stderr: expect.stringMatching(/^tagvisor: --auth-token-file .*short: the token must be one word of at least 16 characters/) as unknown });
    expect((await run({ authTokenFile: join(dir, 'missing') })).stderr).toMatch(/--auth-token-file .*missing: no such file/);
  });

  it('what counts as loopback; --insecure and a token', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback({ kind: 'tcp', host, port: 1 }), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.1', 'example.org', '128.0.0.1']) expect(isLoopback({ kind: 'tcp', host, port: 1 }), host).toBe(false);
    expect(isLoopback({ kind: 'unix', path: '/tmp/x' })).toBe(true);
    const everywhere = { gdb: { kind: 'tcp', host: '0.0.0.0', port: 1 }, monitor: { kind: 'tcp', host: '0.0.0.0', port: 2 } } as const;
    expect(exposureRefusal(everywhere, true, false)).toBeNull();
    expect(exposureRefusal({ monitor: everywhere.monitor }, false, true)).toBeNull();
  });
});

describe('the monitor: owner-only unix socket, authentication token', () => {
  async function serve(address: Parameters<typeof MonitorServer.listen>[1], authToken?: string) {
    const machine = gdbTagsMachine();
    const monitor = new Monitor(machine, authToken === undefined ? {} : { authToken });
    const server = await MonitorServer.listen(monitor, address);
    cleanup.push(async () => {
      await server.close();
      monitor.dispose();
    });
    return server;
  }

  it('creates its unix socket with mode 0600', async () => {
    const path = join(scratch(), 'monitor.sock');
    await serve({ kind: 'unix', path });
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('with a token: nothing before it; in qmp_capabilities or authenticate; three wrong tokens close the connection', async () => {
    const TOKEN = 'correct-horse-battery-staple';
    const server = await serve({ kind: 'tcp', host: '127.0.0.1', port: 0 }, TOKEN);
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const lines = (c: RawClient) => c.received.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const a = await RawClient.open(port);
    cleanup.push(() => a.close());
    a.write('{"execute":"qmp_capabilities","id":1}\n{"execute":"query-status","id":2}\n');
    a.write(`{"execute":"qmp_capabilities","arguments":{"token":"${TOKEN}"},"id":3}\n{"execute":"query-status","id":4}\n`);
    await a.until((r) => r.includes('"id":4'));
    expect(lines(a).slice(1)).toMatchObject([
      { id: 1, error: { class: 'AccessDenied', desc: expect.stringMatching(/^authentication required/) as unknown } },
      { id: 2, error: { class: 'CommandNotFound' } },
      { id: 3, return: {} },
      { id: 4, return: { status: 'running' } },
    ]);
    const b = await RawClient.open(port);
    cleanup.push(() => b.close());
    b.write(`{"execute":"authenticate","arguments":{"token":"${TOKEN}"},"id":1}\n{"execute":"qmp_capabilities","id":2}\n`);
    await b.until((r) => r.includes('"id":2'));
    expect(lines(b).slice(1)).toEqual([{ id: 1, return: {} }, { id: 2, return: {} }]);
    const c = await RawClient.open(port);
    for (let i = 0; i < 4; i++) c.write('{"execute":"authenticate","arguments":{"token":"guess-guess-guess"}}\n');
    await c.until((_r) => c.closed);
    expect(lines(c).slice(1)).toEqual(Array.from({ length: 3 }, () => ({ error: { class: 'AccessDenied', desc: 'wrong authentication token' } })));
  });
});

describe("the monitor's snapshot files", () => {
  async function commands(snapshotDir?: string) {
    const machine = gdbTagsMachine();
    machine.pause();
    const monitor = new Monitor(machine);
    registerMigrationCommands(monitor, snapshotDir === undefined ? {} : { snapshotDir });
    cleanup.push(() => monitor.dispose());
    return (name: string, file: string) => monitor.registry.execute({ ...monitor.context, afterReply: () => {} }, name, { file });
  }

  it('never replaces anything but a regular file: a device, a FIFO, a directory, a symlink to one', async () => {
    const dir = scratch();
    const save = await commands();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir, 'directory'));
    symlinkSync('/dev/null', join(dir, 'to-null'));
    for (const [file, what] of [['/dev/null', 'a device'], [fifo, 'a FIFO'], [join(dir, 'directory'), 'a directory'], [join(dir, 'to-null'), 'a device']] as const) {
      await expect(save('snapshot-save', file), file).rejects.toMatchObject({ errorClass: 'InvalidParameter', message: `${file} is ${what}, not a regular file: a snapshot never replaces one` });
    }
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(join(dir, 'to-null')).isSymbolicLink()).toBe(true);
    // A regular file, and a symlink to one (the file it points to is replaced, the link stays).
    writeFileSync(join(dir, 'old.snap'), 'old');
    symlinkSync(join(dir, 'old.snap'), join(dir, 'link.snap'));
    await expect(save('snapshot-save', join(dir, 'link.snap'))).resolves.toMatchObject({ bytes: expect.any(Number) as unknown });
    expect(lstatSync(join(dir, 'link.snap')).isSymbolicLink()).toBe(true);
    expect(statSync(join(dir, 'old.snap')).size).toBeGreaterThan(3);
  });

  it('--snapshot-dir: only paths inside it, after resolving symlinks and ..', async () => {
    const root = scratch();
    const dir = join(root, 'snapshots');
    mkdirSync(dir);
    symlinkSync(root, join(dir, 'escape'));
    const command = await commands(dir);
    await expect(command('snapshot-save', 'vm.snap')).resolves.toMatchObject({ bytes: expect.any(Number) as unknown });
    expect(statSync(join(dir, 'vm.snap')).isFile()).toBe(true);
    await expect(command('snapshot-load', join(dir, 'vm.snap'))).resolves.toEqual({});
    for (const file of ['../outside.snap', join(root, 'outside.snap'), 'escape/outside.snap', '/etc/passwd', '.']) {
      await expect(command('snapshot-save', file), file).rejects.toMatchObject({ errorClass: expect.stringMatching(/AccessDenied|InvalidParameter/) as unknown });
    }
    await expect(command('snapshot-load', '../snapshots/../outside.snap')).rejects.toMatchObject({ errorClass: 'AccessDenied' });
    await expect(command('snapshot-load', '/etc/passwd')).rejects.toMatchObject({ errorClass: 'AccessDenied' });
    expect(() => statSync(join(root, 'outside.snap'))).toThrow();
  });
});

describe('the CLI with --auth-token-file (dist/)', () => {
  it('tagvisor snapshot save needs the token of the monitor it drives', async () => {
    const dir = scratch();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'cli-token-0123456789abcdef\n');
    const child = spawn(process.execPath, [CLI, 'run', '--monitor', 'tcp:127.0.0.1:0', '--auth-token-file', tokenFile, '--snapshot-dir', dir, '--start-paused', GDB_TAGS_ELF], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    cleanup.push(() => void child.kill('SIGKILL'));
    const port = await new Promise<number>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const match = /monitor listening on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
    });
    const monitor = `tcp:127.0.0.1:${port}`;
    const snapshot = (...extra: string[]) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const save = spawn(process.execPath, [CLI, 'snapshot', 'save', '--monitor', monitor, ...extra, 'vm.snap'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      save.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      save.on('close', (status) => resolve({ status, stderr }));
    });
    const refused = await snapshot();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/authentication required/);
    expect(await snapshot('--auth-token-file', tokenFile)).toEqual({ status: 0, stderr: expect.any(String) as unknown });
    expect(statSync(join(dir, 'vm.snap')).isFile()).toBe(true);
    const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port }, 10_000, 'cli-token-0123456789abcdef');
    void client.execute('quit').catch(() => undefined);
    expect(await exited).toBe(0);
    expect(spawnSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' }).stdout).toMatch(/--auth-token-file <file>[\s\S]*--insecure[\s\S]*--snapshot-dir <dir>/);
  }, 60_000);
});
