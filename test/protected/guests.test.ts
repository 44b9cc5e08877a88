import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDriveSpec } from '../../src/node/file-disk.js';
import { describe, expect, it } from 'vitest';
import { expected } from '../support/golden.js';
import { guestDevices } from '../support/guest-devices.js';
import { runGuest } from '../support/tagvisor-run.js';

const GUESTS = join(import.meta.dirname, '../../guests/build');

/**
 * A protected VM's guest sees the same machine: its MTE behaves identically on private memory,
 * and a driver that shares its bounce pool (and nothing else) gets its disk.
 */
describe('guests in a protected VM behave exactly as unprotected', () => {
  it.each(['mte-check', 'mte-async', 'mte-el0', 'mte-tagmem', 'mte-tagops', 'heap', 'demo', 'irq-timer'])('%s', async (guest) => {
    const truth = expected(guest);
    const result = await runGuest(join(GUESTS, `${guest}.elf`), { protected: { debug: false } });
    expect(result.stdout).toBe(truth.out);
    expect(result.status).toBe(truth.status);
  });

  it('virtio-blk through the bounce pool the guest shares: same transcript as QEMU', async () => {
    const guest = 'virtio-blk-bounce';
    const devices = guestDevices(guest);
    try {
      const truth = expected(guest);
      const result = await runGuest(join(GUESTS, `${guest}.elf`), { ...devices, protected: { debug: false } });
      expect(result.stdout).toBe(truth.out);
      expect(result.status).toBe(truth.status);
    } finally {
      devices.dispose();
    }
  });

  it('a driver that gives the device private memory sees its requests fail, and no data moves', async () => {
    // virtio-blk (the direct driver) hands the device its private rings and buffers: the device
    // refuses them (DEVICE_NEEDS_RESET) and the driver's requests come back unanswered.
    const guest = 'virtio-blk';
    const devices = guestDevices(guest);
    const files = devices.drives.map((spec) => parseDriveSpec(spec).file);
    try {
      const before = files.map((file) => readFileSync(file));
      const result = await runGuest(join(GUESTS, `${guest}.elf`), { ...devices, protected: { debug: false }, maxInsns: 50_000_000 });
      expect(result.stdout).toMatch(/read sector 0: status 255 used len 0/);
      expect(result.stdout).toMatch(/write sectors 8-15: status 255 used len 0/);
      files.forEach((file, i) => expect(readFileSync(file).equals(before[i]!)).toBe(true));
    } finally {
      devices.dispose();
    }
  });
});
