import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../src/node/listen-address.js';
import { CLI, GDB_TAGS_ELF, RawClient } from '../support/debugger.js';

/** Runs the built CLI synchronously (for runs that end by themselves). */
function tagvisor(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('listen addresses', () => {
  it('parses tcp and unix forms, binding to loopback by default', () => {
    expect(parseListenAddress('tcp:127.0.0.1:1234', false)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1234 });
    expect(parseListenAddress('tcp::4444', true)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4444 });
    expect(parseListenAddress('tcp:[::1]:0', false)).toEqual({ kind: 'tcp', host: '::1', port: 0 });
    expect(parseListenAddress('tcp:localhost:80', false)).toEqual({ kind: 'tcp', host: 'localhost', port: 80 });
    expect(parseListenAddress('unix:/tmp/m.sock', true)).toEqual({ kind: 'unix', path: '/tmp/m.sock' });
    for (const [bad, unix] of [['unix:/tmp/x', false], ['unix:', true], ['tcp:host', false], ['tcp:h:99999', true], ['1234', false], ['tcp:a b:1', false], ['udp:h:1', true]] as const) {
      expect(() => parseListenAddress(bad, unix), bad).toThrow();
    }
  });
});

describe('tagvisor run --gdb / --monitor', () => {
  it.each([
    [['--gdb', 'nonsense'], /--gdb.*'nonsense': expected tcp:<host>:<port>/],
    [['--gdb', 'unix:/tmp/gdb.sock'], /only tcp/],
    [['--monitor', 'tcp:127.0.0.1:70000'], /port 70000 is out of range/],
    [['--monitor', 'unix:'], /expected unix:<path>/],
    [['--wait-gdb'], /--wait-gdb needs --gdb/],
  ])('bad usage %j exits 2 with one line', (args, message) => {
    const run = tagvisor('run', ...args, GDB_TAGS_ELF);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an address in use is a one-line error with status 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'run', '--monitor', `tcp:127.0.0.1:${port}`, GDB_TAGS_ELF], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (status) => resolve({ status, stderr }));
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(`tagvisor: --monitor tcp:127.0.0.1:${port}: address already in use (another process is listening there)\n`);
    } finally {
      blocker.close();
    }
  });

  it('without a client the guest runs as usual', () => {
    const run = tagvisor('run', '--monitor', 'tcp:127.0.0.1:0', '--gdb', 'tcp:127.0.0.1:0', GDB_TAGS_ELF);
    expect(run.status).toBe(3);
    expect(run.stdout).toContain('tags after:  3333aa00');
  });

  it('--wait-gdb holds the guest; the monitor sees it paused and quit ends the run with status 0', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', '--monitor', 'tcp:127.0.0.1:0', GDB_TAGS_ELF], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const port = await new Promise<number>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const match = /monitor listening on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
    });
    const client = await RawClient.open(port);
    client.write('{"execute":"qmp_capabilities"}\n{"execute":"query-status","id":1}\n{"execute":"quit","id":2}\n');
    expect(await exited).toBe(0);
    clearTimeout(timer);
    await client.until((r) => r.includes('"SHUTDOWN"'));
    expect(client.received).toContain('{"return":{"status":"paused","running":false,"stop-reason":"pause","instructions":0},"id":1}');
    expect(client.received).toContain('{"return":{},"id":2}');
    expect(stdout).toBe('');
    client.close();
  });
});
