/**
 * The monitor under hostile clients (fixed inputs found by fuzzing): a request nested 100,000
 * levels deep, and a client that sends requests without reading the replies.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MONITOR_OUTPUT_BOUND } from '../../src/node/monitor/monitor-server.js';
import { encodeLine } from '../../src/vmm/monitor/protocol.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../src/vmm/monitor/json-limits.js';
import { eventually, RawClient } from '../support/debugger.js';
import { serveMonitor } from './serve-monitor.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

const served = () => serveMonitor({ kind: 'tcp', host: '127.0.0.1', port: 0 }, (step) => cleanup.push(step));

const replies = (client: RawClient) => client.received.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('JSON nesting', () => {
  it('finds nesting deeper than the bound, ignoring brackets inside strings', () => {
    expect(nestedDeeperThan(deepArray(MAX_JSON_DEPTH))).toBe(false);
    expect(nestedDeeperThan(deepArray(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestedDeeperThan(`{"id": "${'['.repeat(1000)}\\"["}`)).toBe(false);
  });

  it('the encoder never throws: an unencodable message becomes a GenericError line', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const line = encodeLine({ return: {}, id: deep });
    expect(JSON.parse(line)).toEqual({ error: { class: 'GenericError', desc: 'the reply could not be encoded as JSON' } });
  });

  it('an id nested 100,000 levels deep is refused, before and after negotiation; the connection and the VM carry on', async () => {
    const { machine, port } = await served();
    const client = await RawClient.open(port);
    cleanup.push(() => client.close());
    await client.until((r) => r.includes('"QMP"'));
    const deep = `{"execute":"query-status","id":${deepArray(100_000)}}\n`;
    client.write(deep);
    client.write('{"execute":"qmp_capabilities"}\n');
    client.write(deep);
    client.write('{"execute":"query-status","id":2}\n');
    await client.until((r) => r.includes('"id":2'));
    const [, refusedBefore, negotiated, refusedAfter, status] = replies(client);
    const refusal = { error: { class: 'JSONParsing', desc: `arrays and objects nested deeper than ${MAX_JSON_DEPTH} levels` } };
    expect(refusedBefore).toEqual(refusal);
    expect(negotiated).toEqual({ return: {} });
    expect(refusedAfter).toEqual(refusal);
    expect(status).toMatchObject({ id: 2, return: { status: 'paused' } });
    expect(machine.state).toBe('paused');
  });
});

describe('a client that never reads', () => {
  it('1,500 read-memory requests queue at most the bound of output; every reply arrives once it reads', async () => {
    const { server, port } = await served();
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // never reads, until the end
    cleanup.push(() => void socket.destroy());
    const requests = ['{"execute":"qmp_capabilities"}'];
    for (let i = 0; i < 1500; i++) requests.push(`{"execute":"read-memory","arguments":{"addr":"0x40000000","size":16384,"space":"physical"},"id":${i}}`);
    socket.write(`${requests.join('\n')}\n`);
    let peak = 0;
    const sample = () => (peak = Math.max(peak, server.queuedBytes().output));
    // Enough time for the server to have queued everything, were it unbounded (~200 MB).
    for (let i = 0; i < 40; i++) {
      sample();
      await new Promise((r) => setTimeout(r, 25));
    }
    sample();
    const oneReply = 2 * 16384 + 100;
    expect(peak).toBeGreaterThan(MONITOR_OUTPUT_BOUND / 2);
    expect(peak).toBeLessThanOrEqual(MONITOR_OUTPUT_BOUND + oneReply);
    expect(server.queuedBytes().input).toBeLessThanOrEqual(1 << 20);
    // Now it reads: all 1,500 replies come, in order.
    let received = '';
    let lines = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const cut = received.lastIndexOf('\n');
      if (cut >= 0) {
        lines += received.slice(0, cut + 1).split('\n').length - 1;
        received = received.slice(cut + 1);
      }
    });
    socket.resume();
    await eventually(() => lines === 1502, 60_000); // greeting, negotiation, 1,500 replies
    expect(server.queuedBytes()).toEqual({ output: 0, input: 0 });
  }, 90_000);
});
