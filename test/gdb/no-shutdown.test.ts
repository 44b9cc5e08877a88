import { describe, expect, it } from 'vitest';
import { guest, listening, withMonitor } from '../cli/cli-process.js';
import { gdbMultiarchAvailable, runGdb, TAG_BUFFER } from '../support/debugger.js';

/**
 * gdb attached to `tagvisor run --no-shutdown` (docs/gdb.md): when the guest ends, gdb is told
 * the exit (`W03;process:1`: "exited with code 03") as without --no-shutdown, and gdb lets go of
 * the finished process as it does of any exited one. The VM stays for the monitor (memory, tags,
 * status) until its `quit`, and tagvisor then exits with the guest's status; a gdb that connects
 * again hears that the target is not running. gdb-tags exits 3 (guests/tests/gdb-tags.c).
 */

const GDB_PORT = /gdb stub listening on tcp:127\.0\.0\.1:(\d+)/;

describe.skipIf(!gdbMultiarchAvailable())('gdb-multiarch and tagvisor run --no-shutdown', () => {
  it('gdb is told the exit; the VM stays for the monitor until quit, then the guest\'s status', async () => {
    const { proc, monitor } = await withMonitor('--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', '--no-shutdown', guest('gdb-tags'));
    try {
      const port = await listening(proc, GDB_PORT);
      const gdb = await runGdb(port, ['continue', 'info registers pc']);
      expect(gdb.stdout).toContain('[Inferior 1 (process 1) exited with code 03]');
      expect(gdb.stderr).toContain('The program has no registers now.');
      expect(proc.stderr()).toContain('the guest ended (semihosting exit 3); --no-shutdown keeps the VM');
      expect(proc.stdout()).toContain('load through tagged_ptr: no fault\n');

      // gdb has gone; the process has not, and the monitor still sees the finished VM.
      expect(proc.child.exitCode).toBeNull();
      expect(await monitor.execute('query-status')).toMatchObject({ status: 'shutdown', shutdown: { kind: 'semihosting-exit', code: 3 } });
      expect(await monitor.execute('read-tags', { addr: `0x${TAG_BUFFER.toString(16)}`, size: 128, space: 'physical' })).toMatchObject({ tags: '3333aa00' });
      // A gdb that connects again is told the program exited (W on `?`), so it does not attach.
      const again = await runGdb(port, ['info registers pc']);
      expect(again.stderr).toContain('The target is not running');
      expect(proc.child.exitCode).toBeNull();

      await monitor.execute('quit');
    } finally {
      monitor.close();
    }
    expect(await proc.exit).toBe(3);
  });

  it('without --no-shutdown the process ends with the guest, as gdb is told', async () => {
    const { proc, monitor } = await withMonitor('--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', guest('gdb-tags'));
    monitor.close();
    const gdb = await runGdb(await listening(proc, GDB_PORT), ['continue']);
    expect(gdb.stdout).toContain('[Inferior 1 (process 1) exited with code 03]');
    expect(await proc.exit).toBe(3);
  });
});
