import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expected } from '../support/golden.js';
import { guestDevices } from '../support/guest-devices.js';
import { gdbMultiarchAvailable, runGdb, TAG_BUFFER } from '../support/debugger.js';
import { guest, listening, start, tagvisor, withMonitor } from './cli-process.js';

/**
 * A protected VM end to end through the CLI (docs/protected-vm.md): `tagvisor run --protected`
 * refuses its devices' DMA into private memory (the disks stay as they were) while a driver that
 * shares its bounce pool works, and gdb-multiarch on `--gdb` gets no memory and no registers
 * unless `--protected=debug`, where each access is audited. The monitor socket's side is
 * test/monitor/cli-memory.test.ts.
 */

const drivesOf = (drives: readonly string[]): string[] => drives.flatMap((spec) => ['--drive', spec]);

describe('tagvisor run --protected: device DMA', () => {
  it('a driver that hands the device private memory gets no data moved; the device is reset; the disks are unchanged', () => {
    const devices = guestDevices('virtio-blk');
    try {
      const files = devices.drives.map((spec) => /file=([^,]+)/.exec(spec)![1]!);
      const before = files.map((file) => readFileSync(file));
      const run = tagvisor('run', '--protected', ...drivesOf(devices.drives), '--max-insns', '50000000', guest('virtio-blk'));
      expect(run.stdout).toMatch(/read sector 0: status 255 used len 0/);
      expect(run.stdout).toMatch(/write sectors 8-15: status 255 used len 0/);
      expect(run.stderr).toMatch(/^tagvisor: virtio-mmio slot 31 \(virtio-blk\): queue 0: .* refused: page is private to the protected VM .*; device needs reset$/m);
      expect(run.status).toBe(124); // the driver waits for answers that never come
      files.forEach((file, i) => expect(readFileSync(file).equals(before[i]!), file).toBe(true));
    } finally {
      devices.dispose();
    }
  });

  it('through the bounce pool the guest shares (--dma bounce) the disk works as on QEMU', () => {
    const devices = guestDevices('virtio-blk-bounce');
    try {
      const run = tagvisor('run', '--protected', '--dma', 'bounce', ...drivesOf(devices.drives), guest('virtio-blk-bounce'));
      const truth = expected('virtio-blk-bounce');
      expect(run.stdout).toBe(truth.out);
      expect(run.status).toBe(truth.status);
    } finally {
      devices.dispose();
    }
  });
});

const GDB_PORT = /gdb stub listening on tcp:127\.0\.0\.1:(\d+)/;
const BUFFER = `0x${TAG_BUFFER.toString(16)}`;
/**
 * Private RAM outside every section of the guest's ELF: where the target refuses a read, gdb
 * falls back to the ELF file's sections (zeros for the runtime's NOBITS RAM section), so the
 * refusal shows as "Cannot access memory" only outside them.
 */
const PRIVATE = '0x40800000';

describe.skipIf(!gdbMultiarchAvailable())('tagvisor run --protected --gdb with gdb-multiarch', () => {
  it('without =debug: no memory, no registers; the monitor continues the guest, unchanged', async () => {
    const { proc, monitor } = await withMonitor('--protected', '--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', guest('gdb-tags'));
    try {
      const gdb = await runGdb(await listening(proc, GDB_PORT), [`x/2xg ${PRIVATE}`, 'info registers pc', 'set $x0 = 0x1234']);
      const all = gdb.stdout + gdb.stderr;
      expect(all).toContain(`Cannot access memory at address ${PRIVATE}`);
      // The stub sends every register as unavailable: gdb cannot find the pc and gives up.
      expect(all).toContain('PC register is not available');
      await monitor.execute('cont');
    } finally {
      monitor.close();
    }
    expect(await proc.exit).toBe(expected('gdb-tags').status);
    expect(proc.stdout()).toBe(expected('gdb-tags').out);
    expect(proc.stderr()).not.toMatch(/audit/);
  });

  it('with --protected=debug the same session works, and is audited on stderr', async () => {
    const proc = start('run', '--protected=debug', '--gdb', 'tcp:127.0.0.1:0', '--wait-gdb', guest('gdb-tags'));
    const gdb = await runGdb(await listening(proc, GDB_PORT), [`x/2xg ${BUFFER}`, 'p/x $pc', 'detach']);
    expect(gdb.stdout).toMatch(new RegExp(`${BUFFER}:\\s+0x0+\\s+0x0+`));
    expect(gdb.stdout).toContain('= 0x40080000');
    expect(await proc.exit).toBe(expected('gdb-tags').status);
    expect(proc.stderr()).toMatch(/^tagvisor: audit: debug read of all registers$/m);
    expect(proc.stderr()).toMatch(new RegExp(`^tagvisor: audit: debug read of data at ${BUFFER}`, 'm'));
  });
});
