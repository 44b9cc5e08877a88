/** Fuzz target: snapshot files (loadSnapshot), from a real snapshot mutated (docs/fuzzing.md). */
import { describe, expect, it } from 'vitest';
import { StateError } from '../../src/common/persist.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { CapabilityError, loadSnapshot, StreamFormatError } from '../../src/vmm/migration/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, WrongfulAcceptance, type FuzzTarget } from './harness.js';
import { showStream, STREAM_RAM, streamInputs, streamSeed, type StreamInput } from './stream-inputs.js';

const machine = new VirtMachine({ memoryBytes: STREAM_RAM });

export const snapshotTarget: FuzzTarget<StreamInput> = {
  name: 'snapshot-files',
  input: streamInputs(streamSeed()),
  run(input) {
    try {
      loadSnapshot(machine, input.bytes);
    } catch (error) {
      if (error instanceof StreamFormatError || error instanceof StateError || error instanceof CapabilityError) return 'refused';
      throw error;
    }
    if (input.mustRefuse) throw new WrongfulAcceptance(`accepted a snapshot with ${input.mustRefuse}`);
    return 'accepted';
  },
  show: showStream,
};

describe('fuzzing snapshot files', () => {
  it('no crash, no hang, no wrongful acceptance', async () => {
    const report = await fuzz(snapshotTarget, fuzzOptions(1500));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
