/** Fuzz target: flattened device trees (parseFdt), from the tree Tagvisor generates, mutated (docs/fuzzing.md). */
import { describe, expect, it } from 'vitest';
import { makeDeviceTree } from '../../src/vmm/boot/index.js';
import { FdtError, parseFdt } from '../../src/vmm/fdt/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, type FuzzTarget } from './harness.js';

const model = new VirtMachine({ memoryBytes: 64 * 2 ** 20 }).model();
const seeds = [makeDeviceTree(model, {}), makeDeviceTree(model, { bootargs: 'console=ttyAMA0 earlycon' })];

export const fdtTarget: FuzzTarget<Uint8Array> = {
  name: 'device-trees',
  input: mutatedSeeds(seeds),
  run(bytes) {
    try {
      parseFdt(bytes);
      return 'accepted';
    } catch (error) {
      if (error instanceof FdtError) return 'refused';
      throw error;
    }
  },
  show: (bytes) => `${bytes.length} bytes`,
};

describe('fuzzing device trees', () => {
  it('no crash, no hang', async () => {
    const report = await fuzz(fdtTarget, fuzzOptions(3000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
