/**
 * The downtime bound (docs/migration-protocol.md §6, "Convergence"): the policy's decisions on
 * measured rounds, and a guest that dirties memory faster than the link carries it converging by
 * auto-converge. Assertions are about the mechanism (throttle engaged, what was expected and
 * reported), not wall-clock figures: those are bench numbers on this shared machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import { ConvergencePolicy, createChannelPair, MigrationSource, receiveMigration, THROTTLE_INITIAL, THROTTLE_MAX, type MigrationChannel } from '../../src/vmm/migration/index.js';

const MIB = 2 ** 20;

describe('the convergence policy', () => {
  // 100 MiB/s of page work once the first round is measured; 1 ms of round trip; 64 KiB of states.
  const policy = (maxRounds = Infinity) => new ConvergencePolicy(50, maxRounds, 64 * 1024, 1);
  const round0 = { workBytes: 100 * MIB, elapsedMs: 1001 };

  it('stops and copies as soon as the rest fits the bound at the measured rate, and not before', () => {
    const p = policy();
    expect(p.decide(1, { ...round0, dirtyBytes: 10 * MIB })).toEqual({ kind: 'continue' }); // ~101 ms
    const stop = p.decide(2, { workBytes: 10 * MIB, elapsedMs: 101, dirtyBytes: 1.5 * MIB });
    expect(stop.kind).toBe('stop-and-copy');
    // The paused copy runs at half the rounds' pipelined rate: (1.5 MiB + 64 KiB) at 50 MiB/s, plus the round trip,
    // and starts only within 80 % of the bound.
    expect(stop.kind === 'stop-and-copy' && stop.expectedDowntimeMs).toBeCloseTo(((1.5 * MIB + 64 * 1024) / (50 * MIB)) * 1000 + 1, 3);
    expect(stop.kind === 'stop-and-copy' && stop.expectedDowntimeMs).toBeLessThanOrEqual(40);
    // 2 MiB would take ~42 ms: under the bound, but not under 80 % of it.
    expect(policy().decide(1, { workBytes: 100 * MIB, elapsedMs: 1001, dirtyBytes: 2 * MIB })).toEqual({ kind: 'continue' });
    expect(stop.kind === 'stop-and-copy' && stop.forced).toBe(false);
  });

  it('throttles a guest that outpaces the link in growing steps up to 99 %, then gives up rather than overshoot', () => {
    const p = policy();
    let decision = p.decide(1, { ...round0, dirtyBytes: 80 * MIB });
    const steps: number[] = [p.throttle];
    for (let round = 2; decision.kind === 'continue' && round < 100; round++) {
      decision = p.decide(round, { workBytes: 80 * MIB, elapsedMs: 801, dirtyBytes: 80 * MIB });
      if (steps.at(-1) !== p.throttle) steps.push(p.throttle);
    }
    expect(steps[0]).toBe(0);
    expect(steps[1]).toBeCloseTo(THROTTLE_INITIAL);
    expect(steps[2]).toBeCloseTo(THROTTLE_INITIAL + 0.1);
    expect(steps.at(-1)).toBe(THROTTLE_MAX);
    expect(decision.kind).toBe('give-up');
    expect(decision.kind === 'give-up' && decision.reason).toMatch(/did not converge: .* throttled 99 %.* above the maximum downtime of 50 ms/);
  });

  it('when the fixed costs alone exceed the bound, nothing dirty is waited for forever: it gives up', () => {
    const p = new ConvergencePolicy(50, Infinity, 0, 1, 80); // saving and loading the states: 80 ms
    let decision = p.decide(1, { ...round0, dirtyBytes: 0 });
    for (let round = 2; decision.kind === 'continue' && round < 100; round++) decision = p.decide(round, { workBytes: 0, elapsedMs: 1, dirtyBytes: 0 });
    expect(decision.kind).toBe('give-up');
    expect(decision.kind === 'give-up' && decision.reason).toMatch(/^did not converge: after 11 rounds .*~81 ms/);
  });

  it('an explicit round limit forces the stop-and-copy and says it was forced', () => {
    const p = policy(3);
    p.decide(1, { ...round0, dirtyBytes: 80 * MIB });
    p.decide(2, { workBytes: 80 * MIB, elapsedMs: 801, dirtyBytes: 80 * MIB });
    const forced = p.decide(3, { workBytes: 80 * MIB, elapsedMs: 801, dirtyBytes: 80 * MIB });
    expect(forced).toMatchObject({ kind: 'stop-and-copy', forced: true });
    expect(forced.kind === 'stop-and-copy' && forced.expectedDowntimeMs).toBeGreaterThan(50);
  });
});

/** A channel whose A-to-B direction carries about `bytesPerMs`: slower than the guest dirties. */
function slowLink(channel: MigrationChannel, bytesPerMs: number): MigrationChannel {
  const send = channel.send.bind(channel);
  channel.send = async (bytes) => {
    await new Promise((resolve) => setTimeout(resolve, bytes.length / bytesPerMs));
    await send(bytes);
  };
  return channel;
}

describe('a guest that dirties faster than the link', () => {
  it('converges by auto-converge: the vCPU is throttled, the expected downtime fits the bound, both sides report theirs', async () => {
    const ram = 64 * MIB;
    const source = new VirtMachine({ memoryBytes: ram });
    const target = new VirtMachine({ memoryBytes: ram });
    source.loadElf(readFileSync(join(import.meta.dirname, '../../guests/build/bench-dirty.elf')));
    source.vm.memory.dma.write(0x41ff_f000, Uint8Array.of(1)); // sweep the 32 MiB window forever
    source.runSlice(2_000_000);
    const [a, b] = createChannelPair();
    const migration = new MigrationSource(source, slowLink(a, 200_000), { maxDowntimeMs: 200 });
    const throttles: number[] = [];
    migration.onProgress = (p) => throttles.push(p.throttlePercent);
    let done = false;
    const driving = (async () => {
      while (!done) {
        source.runSlice(20_000); // runs nothing while auto-converge holds the vCPU back
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    })();
    const [progress] = await Promise.all([migration.run().finally(() => (done = true)), receiveMigration(target, b), driving]);
    expect(progress.error).toBeUndefined();
    expect(progress.status).toBe('completed');
    expect(Math.max(...throttles)).toBeGreaterThanOrEqual(THROTTLE_INITIAL * 100);
    expect(progress.forced).toBe(false);
    expect(progress.expectedDowntimeMs).toBeLessThanOrEqual(200);
    expect(progress.downtimeMs).toBeGreaterThan(0);
    expect(progress.targetDowntimeMs).toBeGreaterThan(0);
    expect(progress.targetDowntimeMs).toBeLessThanOrEqual(progress.downtimeMs);
    expect(source.throttle).toBe(0);
    // What the destination holds is exactly the source's memory and tags at the pause.
    const read = (m: VirtMachine) => {
      const data = new Uint8Array(32 * MIB);
      m.vm.memory.debug.readData(0x4200_0000, data);
      return { data: Buffer.from(data), tags: Buffer.from(m.vm.memory.debug.readTags(0x4200_0000, 32 * MIB)) };
    };
    const [there, here] = [read(target), read(source)];
    expect(there.data.equals(here.data)).toBe(true);
    expect(there.tags.equals(here.tags)).toBe(true);
  }, 120_000);
});
