/**
 * Fuzz target: migration streams as a destination receives them (receiveMigration into a fresh
 * machine), from a real stream mutated (docs/fuzzing.md).
 */
import { describe, expect, it } from 'vitest';
import { StateError } from '../../src/common/persist.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { CapabilityError, MigrationError, receiveMigration, SectionReader, StreamFormatError, type MigrationChannel, type RawSection } from '../../src/vmm/migration/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, WrongfulAcceptance, type FuzzTarget } from './harness.js';
import { showStream, STREAM_RAM, streamInputs, streamSeed, type StreamInput } from './stream-inputs.js';

class EndOfInput extends Error {}

let machine = new VirtMachine({ memoryBytes: STREAM_RAM });

/** The whole stream arrives at once; then the source is silent (end of input). */
class ReplayChannel implements MigrationChannel {
  private readonly reader = new SectionReader();
  readonly replies: number[] = [];

  constructor(bytes: Uint8Array) {
    this.reader.push(bytes);
  }

  send(bytes: Uint8Array): Promise<void> {
    this.replies.push(bytes[0]!);
    return Promise.resolve();
  }

  receive(): Promise<RawSection> {
    try {
      const section = this.reader.next();
      return section ? Promise.resolve(section) : Promise.reject(new EndOfInput('the source went silent'));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): void {}

  pendingBytes(): number {
    return this.reader.pending;
  }
}

export const migrationTarget: FuzzTarget<StreamInput> = {
  name: 'migration-streams',
  input: streamInputs(streamSeed()),
  async run(input) {
    // A destination that refused never ran: it can take the next stream (a fresh one is slow).
    if (machine.state !== 'created') machine = new VirtMachine({ memoryBytes: STREAM_RAM });
    try {
      await receiveMigration(machine, new ReplayChannel(input.bytes));
    } catch (error) {
      const cause = error instanceof MigrationError ? error.cause : error;
      if (!(error instanceof MigrationError)) throw error;
      if (cause instanceof StreamFormatError || cause instanceof StateError || cause instanceof CapabilityError || cause instanceof EndOfInput) {
        if (machine.state === 'running') throw new Error('a refused stream left the guest running');
        return 'refused';
      }
      throw cause;
    }
    if (input.mustRefuse) throw new WrongfulAcceptance(`accepted a stream with ${input.mustRefuse}`);
    if (machine.state !== 'running') throw new Error(`accepted, but the guest is ${machine.state}`);
    return 'accepted';
  },
  show: showStream,
};

describe('fuzzing migration streams', () => {
  it('no crash, no hang, no wrongful acceptance; a refused stream never runs the guest', async () => {
    const report = await fuzz(migrationTarget, fuzzOptions(300));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
