/**
 * Fuzz target: JSON monitor lines, in process (a Monitor session fed bytes), from valid requests
 * mutated (docs/fuzzing.md). Every line gets exactly one reply (return or error) and nothing is
 * an internal error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import type { MonitorSession } from '../../src/vmm/monitor/session.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, type FuzzTarget } from './harness.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf'));
const requests = [
  { execute: 'query-status' },
  { execute: 'query-commands' },
  { execute: 'query-mte' },
  { execute: 'query-cpus' },
  { execute: 'read-memory', arguments: { addr: 0x4008_0000, size: 64 }, id: 7 },
  { execute: 'read-tags', arguments: { addr: 0x4008_0000, size: 64 } },
  { execute: 'write-memory', arguments: { addr: 0x4010_0000, data: '00112233' } },
  { execute: 'write-tags', arguments: { addr: 0x4010_0000, size: 32, tag: 5 } },
  { execute: 'stop' },
  { execute: 'step' },
  { execute: 'translate', arguments: { va: '0x40080000' } },
  { execute: 'query-registers' },
];
const seeds = requests.map((r) => new TextEncoder().encode(JSON.stringify(r)));

class Fixture {
  readonly machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20 });
  readonly internalErrors: string[] = [];
  readonly monitor = new Monitor(this.machine, { log: (line) => void (/internal error/.test(line) && this.internalErrors.push(line)) });
  readonly replies: Record<string, unknown>[] = [];
  ended = false;
  readonly session: MonitorSession;

  constructor() {
    this.machine.loadElf(demo);
    this.machine.pause();
    this.session = this.monitor.connect({ write: (text) => void this.replies.push(JSON.parse(text) as Record<string, unknown>), congested: () => false, end: () => void (this.ended = true) });
    this.session.receive(new TextEncoder().encode('{"execute":"qmp_capabilities"}\n'));
  }
}

let fixture = new Fixture();

export const monitorTarget: FuzzTarget<Uint8Array> = {
  name: 'monitor-lines',
  input: mutatedSeeds(seeds).map((line) => line.filter((b) => b !== 0x0a)),
  async run(line) {
    if (fixture.ended || fixture.machine.state === 'shutdown' || fixture.machine.state === 'running') fixture = new Fixture();
    await fixture.session.idle();
    const before = fixture.replies.length;
    fixture.session.receive(Uint8Array.of(...line, 0x0a));
    await fixture.session.idle();
    if (fixture.internalErrors.length > 0) throw new Error(fixture.internalErrors[0]);
    const replies = fixture.replies.slice(before).filter((m) => 'return' in m || 'error' in m);
    if (fixture.ended) return 'refused';
    // A blank line is no request (QMP ignores it): no reply.
    const blank = new TextDecoder().decode(line).trim() === '';
    if (blank && replies.length === 0) return 'refused';
    if (replies.length !== 1) throw new Error(`${replies.length} replies to one line`);
    return 'error' in replies[0]! ? 'refused' : 'accepted';
  },
  show: (line) => JSON.stringify(new TextDecoder().decode(line)),
};

describe('fuzzing monitor lines', () => {
  it('one reply per line, no internal error, no hang', async () => {
    const report = await fuzz(monitorTarget, fuzzOptions(3000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
