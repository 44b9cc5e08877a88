import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MONITOR_CONNECTIONS } from '../../src/node/monitor/monitor-server.js';
import type { ListenAddress } from '../../src/node/listen-address.js';
import { RawClient } from '../support/debugger.js';
import { serveMonitor } from './serve-monitor.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const served = (address: ListenAddress) => serveMonitor(address, (step) => cleanup.push(step));

function lines(client: RawClient): Record<string, unknown>[] {
  return client.received
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function negotiated(client: RawClient): Promise<void> {
  await client.until((r) => r.includes('"QMP"'));
  client.write('{"execute":"qmp_capabilities"}\n');
  await client.until((r) => r.includes('"return"'));
}

describe('monitor over sockets', () => {
  it('serves several TCP clients; one sending garbage affects only itself; events reach all', async () => {
    const { server } = await served({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const good = await RawClient.open(port);
    const bad = await RawClient.open(port);
    await negotiated(good);
    await negotiated(bad);
    bad.write(`{"execute": "query-status", "x": "${'y'.repeat(300_000)}"}\n`);
    bad.write('\u0000\u00ff{{{\n');
    await bad.until((r) => (r.match(/"JSONParsing"/g) ?? []).length === 2);
    good.write('{"execute":"cont","id":1}\n');
    await good.until((r) => r.includes('"SHUTDOWN"'));
    await bad.until((r) => r.includes('"SHUTDOWN"'));
    expect(lines(good).filter((m) => 'event' in m).map((m) => m.event)).toEqual(['RESUME', 'SHUTDOWN']);
    expect(lines(good).filter((m) => 'error' in m)).toEqual([]);
    expect(lines(bad).find((m) => m.event === 'SHUTDOWN')).toMatchObject({ data: { guest: true, reason: 'guest-exit', 'exit-code': 3 } });
    good.close();
    bad.close();
  });

  it('serves a unix socket; quit ends the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-monitor-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'monitor.sock');
    const { run } = await served({ kind: 'unix', path });
    const client = await RawClient.openUnix(path);
    await negotiated(client);
    client.write('{"execute":"query-status","id":"s"}\n{"execute":"quit","id":"q"}\n');
    const outcome = await run;
    expect(outcome).toMatchObject({ status: 0, why: 'quit from the monitor' });
    await client.until((r) => r.includes('"SHUTDOWN"'));
    expect(lines(client).slice(2)).toMatchObject([
      { id: 's', return: { status: 'paused' } },
      { id: 'q', return: {} },
      { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } },
    ]);
    client.close();
  });

  it(`refuses connections beyond ${MAX_MONITOR_CONNECTIONS}`, async () => {
    const { server } = await served({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const port = server.address.kind === 'tcp' ? server.address.port : 0;
    const clients = await Promise.all(Array.from({ length: MAX_MONITOR_CONNECTIONS }, () => RawClient.open(port)));
    for (const c of clients) await c.until((r) => r.includes('"QMP"'));
    const extra = await RawClient.open(port);
    await extra.until((r) => r.includes('too many monitor connections'));
    await extra.until(() => extra.closed);
    for (const c of clients) c.close();
  });
});
