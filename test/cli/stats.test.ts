import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guest, ROOT, tagvisor, until, withMonitor } from './cli-process.js';

/** `--stats` and `--max-insns` count the instructions this process ran, not a snapshot's past. */

const dir = mkdtempSync(join(tmpdir(), 'tagvisor-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const statLine = (stderr: string, name: string): number => Number(new RegExp(`^${name}: ([\\d.]+)$`, 'm').exec(stderr)?.[1] ?? NaN);

describe('--stats after --restore', () => {
  it('counts only the instructions run after the restore: before + after = a whole run', async () => {
    const snapshot = join(dir, 'mid.snap');
    const { proc, monitor } = await withMonitor('-m', '64M', guest('bench-mte'));
    await until(() => proc.stdout().includes('bench-mte'), 'the guest to start');
    await monitor.execute('stop');
    const before = ((await monitor.execute('query-status')) as { instructions: number }).instructions;
    await monitor.execute('snapshot-save', { file: snapshot });
    await monitor.execute('quit');
    monitor.close();
    expect(await proc.exit).toBe(0);
    expect(before).toBeGreaterThan(0);

    const whole = tagvisor('run', '--stats', '-m', '64M', guest('bench-mte'));
    const restored = tagvisor('run', '--restore', snapshot, '--stats', '-m', '64M');
    expect(whole.status).toBe(0);
    expect(restored.status).toBe(0);
    expect(before + statLine(restored.stderr, 'instructions')).toBe(statLine(whole.stderr, 'instructions'));
    expect(readFileSync(join(ROOT, 'guests/expected/bench-mte.out'), 'latin1').endsWith(restored.stdout)).toBe(true);

    // --max-insns counts the same way: a limit below the snapshot's past still runs that many.
    const limited = tagvisor('run', '--restore', snapshot, '--stats', '--max-insns', '5000', '-m', '64M');
    expect(limited.status).toBe(124);
    expect(statLine(limited.stderr, 'instructions')).toBe(5000);
  });
});
