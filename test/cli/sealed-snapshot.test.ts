import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorCommandError } from '../../src/node/monitor/client.js';
import { guest, ROOT, tagvisor, until, withMonitor } from './cli-process.js';

/**
 * A protected VM's snapshot is sealed with its key (docs/protected-vm.md): end to end through the
 * CLI, the right key restores it and the guest finishes as if never stopped; a wrong key, no key
 * or no --protected are refused with one line and exit status 2 (a bad input file, README.md),
 * and the file is left as it was, so a later restore with the right key still works.
 */

const dir = mkdtempSync(join(tmpdir(), 'tagvisor-sealed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = join(dir, 'vm.key'); // 64 hex digits
const OTHER_KEY = join(dir, 'other.key'); // 32 raw bytes
const SNAPSHOT = join(dir, 'mid.snap');
const EXPECTED = readFileSync(join(ROOT, 'guests/expected/bench-mte.out'), 'latin1');
const FIRST_LINE = 'bench-mte (MTE on)\n';
/** A string in the guest's runtime, so in its RAM: a plain snapshot of it holds these bytes. */
const GUEST_STRING = '*** unexpected exception: %s';

const digest = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
let sealedDigest = '';

/** Exit 2 and exactly one line on stderr matching `message`; nothing ran (no guest output). */
function expectRefused(result: ReturnType<typeof tagvisor>, message: RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.status).toBe(2);
}

beforeAll(async () => {
  writeFileSync(KEY, `${'0123456789abcdef'.repeat(4)}\n`);
  writeFileSync(OTHER_KEY, Buffer.alloc(32, 0x5a));
  // bench-mte runs for seconds after its first line: the snapshot is taken mid-run.
  const { proc, port, monitor } = await withMonitor('--protected', '--key-file', KEY, '-m', '64M', guest('bench-mte'));
  try {
    await until(() => proc.stdout().includes(FIRST_LINE), 'the guest to start');
    await monitor.execute('stop');
    const save = tagvisor('snapshot', 'save', '--monitor', `tcp:127.0.0.1:${port}`, SNAPSHOT);
    expect(save.stderr).toBe('');
    expect(save.stdout).toMatch(/^saved [\d.]+ [KM]iB to /);
    expect(save.status).toBe(0);
    await monitor.execute('quit');
  } finally {
    monitor.close();
  }
  expect(await proc.exit).toBe(0);
  expect(proc.stdout()).toBe(FIRST_LINE);
  sealedDigest = digest(SNAPSHOT);
}, 120_000);

describe('sealed snapshots through the CLI', () => {
  it("hold no plaintext: a string of the guest's image (in a plain snapshot's pages) is not in the file", () => {
    expect(readFileSync(guest('bench-mte')).includes(Buffer.from(GUEST_STRING))).toBe(true);
    expect(readFileSync(SNAPSHOT).includes(Buffer.from(GUEST_STRING))).toBe(false);
  });

  it('a wrong key, no key, or no --protected are refused with one line (exit 2); the file is unchanged', () => {
    expectRefused(
      tagvisor('run', '--protected', '--key-file', OTHER_KEY, '-m', '64M', '--restore', SNAPSHOT),
      /^tagvisor: .*mid\.snap: sealed chunk 0 failed authentication: tampered, or sealed with another key/,
    );
    expectRefused(
      tagvisor('run', '--protected', '-m', '64M', '--restore', SNAPSHOT),
      /^tagvisor: .*mid\.snap: a protected VM restores only from an encrypted snapshot \(give its key\)/,
    );
    expectRefused(
      tagvisor('run', '-m', '64M', '--restore', SNAPSHOT),
      /^tagvisor: .*mid\.snap: capability mismatch: the source is a protected VM and the destination is not/,
    );
    expectRefused(tagvisor('run', '--key-file', KEY, '-m', '64M', '--restore', SNAPSHOT), /^tagvisor: --key-file is for protected VMs \(--protected\)/);
    expect(digest(SNAPSHOT)).toBe(sealedDigest);
  });

  it('the right key restores it, after the refusals: the guest finishes where it stopped, nothing lost', () => {
    const restored = tagvisor('run', '--protected', '--key-file', KEY, '-m', '64M', '--restore', SNAPSHOT);
    expect(restored.stderr).toBe('');
    expect(restored.status).toBe(0);
    expect(FIRST_LINE + restored.stdout).toBe(EXPECTED);
    expect(digest(SNAPSHOT)).toBe(sealedDigest);
  });

  it("the monitor's snapshot-load with another key is refused and the running VM is unchanged", async () => {
    const { proc, monitor } = await withMonitor('--protected', '--key-file', OTHER_KEY, '--start-paused', '-m', '64M', guest('bench-mte'));
    try {
      const refusal = await monitor.execute('snapshot-load', { file: SNAPSHOT }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(MonitorCommandError);
      expect((refusal as MonitorCommandError).errorClass).toBe('InvalidParameter');
      expect((refusal as MonitorCommandError).desc).toMatch(/failed authentication.*; the VM is unchanged$/);
      // Still the paused VM at its entry: it runs its own guest from the start to the end.
      expect(await monitor.execute('query-status')).toMatchObject({ status: 'paused', instructions: 0 });
      await monitor.execute('cont');
      expect(await proc.exit).toBe(0);
    } finally {
      monitor.close();
    }
    expect(proc.stdout()).toBe(EXPECTED);
    expect(digest(SNAPSHOT)).toBe(sealedDigest);
  });
});
