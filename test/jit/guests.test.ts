import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestDevices } from '../support/guest-devices.js';
import { allGuests, documentedDifferences, expected, hasMte } from '../support/golden.js';
import { runGuest } from '../support/tagvisor-run.js';

/**
 * The guests' differential test (test/guests/differential.test.ts) on the JIT: every guest must
 * reproduce QEMU's recorded transcript and exit status with --cpu-engine jit too, each block
 * compiled at its first entry.
 */
const GUESTS_DIR = join(import.meta.dirname, '../../guests');

describe('guests on the JIT match QEMU', () => {
  it.each(allGuests())('%s', async (guest) => {
    const truth = expected(guest);
    const devices = guestDevices(guest);
    try {
      const result = await runGuest(join(GUESTS_DIR, 'build', `${guest}.elf`), { mte: hasMte(guest), ...devices, cpuEngine: 'jit' });
      expect(result.stdout, `documented differences from QEMU:\n${documentedDifferences(guest)}`).toBe(truth.out);
      expect(result.status).toBe(truth.status);
    } finally {
      devices.dispose();
    }
  });
});
