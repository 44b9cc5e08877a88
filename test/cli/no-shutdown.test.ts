import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guest, nextEvent, tagvisor, until, withMonitor } from './cli-process.js';

/** `tagvisor run --no-shutdown` (README.md): a finished guest stays inspectable until `quit`. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

describe('tagvisor run --no-shutdown', () => {
  it('after the guest exits, memory and tags stay readable and savable; quit exits with the guest\'s status', async () => {
    const { proc, port, monitor } = await withMonitor('--no-shutdown', guest('demo'));
    try {
      await until(() => /the guest ended \(semihosting exit 0\); --no-shutdown keeps the VM/.test(proc.stderr()), 'the guest to end');
      const status = (await monitor.execute('query-status')) as { status: string; shutdown: { kind: string } };
      expect(status.status).toBe('shutdown');
      expect(status.shutdown.kind).toBe('semihosting-exit');
      // The demo's freed block: "hello, MTE" still there, retagged 4 by free(); the stale
      // pointer (tag 2) reads it without a tag check (the debug access class).
      const memory = (await monitor.execute('read-memory', { addr: '0x0200000040500010', size: 10, space: 'virtual' })) as { data: string };
      expect(memory.data).toBe(hex('hello, MTE'));
      const tags = (await monitor.execute('read-tags', { addr: '0x40500010', size: 32, space: 'physical' })) as { tags: string };
      expect(tags.tags).toBe('44');
      const dir = mkdtempSync(join(tmpdir(), 'tagvisor-noshut-'));
      dirs.push(dir);
      const save = tagvisor('snapshot', 'save', '--monitor', `tcp:127.0.0.1:${port}`, join(dir, 'after.snap'));
      expect(save.stderr).toBe('');
      expect(save.status).toBe(0);
      expect(statSync(join(dir, 'after.snap')).size).toBeGreaterThan(0);
      const shutdown = nextEvent(monitor, 'SHUTDOWN');
      await monitor.execute('quit');
      expect(await shutdown).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    } finally {
      monitor.close();
    }
    expect(await proc.exit).toBe(0);
  });

  it('the exit status after quit is the guest\'s own (semihosting exit 42)', async () => {
    const { proc, monitor } = await withMonitor('--no-shutdown', guest('exit-code'));
    await until(() => proc.stderr().includes('the guest ended (semihosting exit 42)'), 'the guest to end');
    // Still there: it did not exit on its own.
    expect(proc.child.exitCode).toBeNull();
    await monitor.execute('quit');
    monitor.close();
    expect(await proc.exit).toBe(42);
    expect(proc.stdout()).toMatch(/exiting with status 42/);
  });

  it('without --no-shutdown the process ends with the guest, monitor or not', () => {
    const run = tagvisor('run', '--monitor', 'tcp:127.0.0.1:0', guest('exit-code'));
    expect(run.status).toBe(42);
  });

  it('needs the monitor, the only front end that can quit the kept VM', () => {
    for (const frontEnd of [[], ['--gdb', 'tcp:127.0.0.1:0'], ['--web', 'tcp:127.0.0.1:0']]) {
      const run = tagvisor('run', '--no-shutdown', ...frontEnd, guest('exit-code'));
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^tagvisor: --no-shutdown needs --monitor \(/);
    }
  });
});
