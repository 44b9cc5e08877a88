/** `run --restore` and the monitor's `snapshot-load` read snapshots with a bound (dist/ needed). */
import { describe, expect, it } from 'vitest';
import { listening, start } from './cli-support.js';
import { join } from 'node:path';
import { ROOT } from './cli-support.js';

describe('snapshot files that never end', () => {
  it('run --restore /dev/zero: one line, exit 2, within seconds', async () => {
    const started = Date.now();
    const run = start('run', '-m', '16M', '--restore', '/dev/zero');
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/^tagvisor: \/dev\/zero: larger than any snapshot this VM can hold \(at most \d+ bytes\)\n$/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('snapshot load /dev/zero through the monitor: refused, the VM unchanged', async () => {
    const vm = start('run', '-m', '16M', '--monitor', 'tcp:127.0.0.1:0', '--start-paused', join(ROOT, 'guests/build/demo.elf'));
    try {
      const port = await listening(vm, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
      const load = start('snapshot', 'load', '--monitor', `tcp:127.0.0.1:${port}`, '/dev/zero');
      expect(await load.exit).toBe(1);
      expect(load.stderr()).toMatch(/^tagvisor: \/dev\/zero: larger than any snapshot this VM can hold \(at most \d+ bytes\); the VM is unchanged\n$/);
    } finally {
      vm.child.kill();
      await vm.exit;
    }
  });
});
