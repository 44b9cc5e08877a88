/**
 * Fuzz target: the live viewer's WebSocket messages, in process (what web-server.ts does with a
 * text frame once the viewer is authenticated: JSON.parse, then LiveSession.handle), from valid commands
 * mutated, and deeply nested arguments (docs/fuzzing.md). No message may produce an internal error (a GenericError carrying a
 * JavaScript exception), and a command with an id always gets its reply.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import { Monitor } from '../../src/vmm/monitor/index.js';
import { LiveHub, type LiveSession } from '../../src/web/host/live-host.js';
import type { HostMessage } from '../../src/web/protocol.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, type FuzzTarget } from './harness.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf'));
const commands = [
  { type: 'execute', execute: 'query-status', id: 1 },
  { type: 'execute', execute: 'read-memory', arguments: { addr: 0x4008_0000, size: 32 }, id: 2 },
  { type: 'execute', execute: 'read-tags', arguments: { addr: 0x4008_0000, size: 64 }, id: 3 },
  { type: 'execute', execute: 'write-tags', arguments: { addr: 0x4010_0000, size: 32, tag: 3 }, id: 4 },
  { type: 'granule-window', firstPage: 0, pageCount: 16 },
  { type: 'pause', id: 5 },
  { type: 'step', id: 6 },
  { type: 'load', id: 7 },
];
const seeds = commands.map((c) => new TextEncoder().encode(JSON.stringify(c)));
const JS_ERROR = /TypeError|RangeError|ReferenceError|SyntaxError|is not a function|Cannot read prop|Maximum call stack/;

class Fixture {
  readonly machine = new VirtMachine({ memoryBytes: 16 * 2 ** 20 });
  readonly hub: LiveHub;
  readonly session: LiveSession;
  messages: HostMessage[] = [];

  constructor() {
    this.machine.loadElf(demo);
    this.machine.pause();
    this.hub = new LiveHub(new Monitor(this.machine), { name: 'demo.elf', control: true });
    this.session = this.hub.connect({ post: (m) => void this.messages.push(m), congested: () => false });
  }
}

let fixture = new Fixture();

export const websocketTarget: FuzzTarget<Uint8Array> = {
  name: 'websocket-messages',
  input: fc.oneof(
    { weight: 20, arbitrary: mutatedSeeds(seeds) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 100_000 }).map((depth) => new TextEncoder().encode(`{"type":"execute","execute":"read-memory","arguments":${'['.repeat(depth)}${']'.repeat(depth)},"id":9}`)),
    },
  ),
  async run(frame) {
    if (fixture.machine.state !== 'paused') fixture = new Fixture();
    fixture.messages = [];
    const text = new TextDecoder().decode(frame);
    let command: unknown;
    try {
      command = JSON.parse(text);
    } catch {
      return 'refused'; // the server answers "invalid JSON" itself
    }
    fixture.session.handle(command);
    await fixture.session.idle();
    const shown = JSON.stringify(fixture.messages, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    if (JS_ERROR.test(shown)) throw new Error(`internal error reached the viewer: ${shown.slice(0, 300)}`);
    const id = (command as { id?: unknown } | null)?.id;
    const replies = fixture.messages.filter((m) => m.type === 'reply' || m.type === 'error');
    if (Number.isSafeInteger(id) && (command as { type?: unknown }).type !== 'granule-window' && replies.length === 0) throw new Error('a command with an id got no reply');
    return replies.some((m) => m.type === 'error' || (m.type === 'reply' && !m.ok)) ? 'refused' : 'accepted';
  },
  show: (frame) => JSON.stringify(new TextDecoder().decode(frame.subarray(0, 200))),
};

describe('fuzzing live-viewer WebSocket messages', () => {
  it('replies, no internal error, no hang', async () => {
    const report = await fuzz(websocketTarget, fuzzOptions(1500));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
