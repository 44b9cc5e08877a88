/**
 * The live viewer's WebSocket under a hostile or careless client: the authentication token
 * (`--auth-token-file`), and backpressure for a viewer that sends commands without reading the
 * replies (its output stays under the documented bound; everything arrives once it reads).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runToCompletion } from '../../src/node/run-guest.js';
import { WEB_AUTH_TIMEOUT_MS, WEB_CONGESTED_BYTES, WebServer } from '../../src/node/web/web-server.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { Monitor } from '../../src/vmm/monitor/index.js';

const DEMO = join(import.meta.dirname, '../../guests/build/demo.elf');
const TOKEN = 'viewer-token-0123456789';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** demo.elf paused, with a viewer server (stand-in page files: the WebSocket is what is tested). */
async function serve(authToken?: string): Promise<{ web: WebServer; url: string }> {
  const assets = await mkdtemp(join(tmpdir(), 'tagvisor-assets-'));
  cleanup.push(() => rm(assets, { recursive: true, force: true }));
  for (const file of ['live.html', 'live.js', 'style.css']) await writeFile(join(assets, file), '');
  const machine = new VirtMachine({ memoryBytes: 64 << 20 });
  machine.loadElf(await readFile(DEMO));
  const monitor = new Monitor(machine);
  const web = await WebServer.listen(monitor, { kind: 'tcp', host: '127.0.0.1', port: 0 }, { name: 'demo.elf', control: false, assets, ...(authToken ? { authToken } : {}) });
  machine.pause();
  const run = runToCompletion(machine);
  cleanup.push(async () => {
    machine.terminate('monitor');
    await run;
    await web.close();
    monitor.dispose();
  });
  return { web, url: `ws://127.0.0.1:${web.address.port}/ws` };
}

/** Opens a viewer connection; resolves with its messages so far and how it closed (if it did). */
async function open(url: string) {
  const ws = new WebSocket(url);
  const seen: { messages: Record<string, unknown>[]; closed: { code: number; reason: string } | null } = { messages: [], closed: null };
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (!binary) seen.messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  });
  ws.on('close', (code, reason) => (seen.closed = { code, reason: reason.toString() }));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  cleanup.push(() => ws.terminate());
  return { ws, seen };
}

async function until(predicate: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the viewer with --auth-token-file', () => {
  it('sends nothing until the token comes, in the URL or as the first message; a wrong one closes', async () => {
    const { url } = await serve(TOKEN);
    const inUrl = await open(`${url}?token=${TOKEN}`);
    await until(() => inUrl.seen.messages.some((m) => m.type === 'loaded'));

    const first = await open(url);
    await new Promise((r) => setTimeout(r, 200));
    expect(first.seen.messages).toEqual([]); // nothing about the VM before the token
    first.ws.send(JSON.stringify({ type: 'authenticate', token: TOKEN }));
    await until(() => first.seen.messages.some((m) => m.type === 'loaded'));

    const wrong = await open(`${url}?token=nope`);
    wrong.ws.send(JSON.stringify({ type: 'execute', execute: 'query-status', id: 1 }));
    await until(() => wrong.seen.closed !== null);
    expect(wrong.seen.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/^authentication required/) as unknown });
    expect(wrong.seen.messages).toEqual([]);
  });
});

describe('the viewer with --auth-token-file, a client that never presents it', () => {
  it(`is closed after ${WEB_AUTH_TIMEOUT_MS} ms, saying why, having learnt nothing`, async () => {
    const { url } = await serve(TOKEN);
    const silent = await open(url);
    const opened = Date.now();
    await until(() => silent.seen.closed !== null, WEB_AUTH_TIMEOUT_MS + 5_000);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(WEB_AUTH_TIMEOUT_MS - 100);
    expect(silent.seen.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/^authentication required: \?token=/) as unknown });
    expect(silent.seen.messages).toEqual([]);
  });
});

describe('a viewer that does not read', () => {
  it('300 read-memory commands of 64 KiB queue at most the bound; all replies arrive once it reads', async () => {
    const { web, url } = await serve();
    const viewer = await open(url);
    await until(() => viewer.seen.messages.some((m) => m.type === 'loaded'));
    viewer.ws.pause(); // stops reading its socket
    for (let id = 1; id <= 300; id++) viewer.ws.send(JSON.stringify({ type: 'execute', execute: 'read-memory', arguments: { addr: '0x40000000', size: 65536, space: 'physical' }, id }));
    let peak = 0;
    for (let i = 0; i < 60; i++) {
      peak = Math.max(peak, web.queuedBytes());
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(peak).toBeGreaterThan(WEB_CONGESTED_BYTES / 2);
    expect(peak).toBeLessThanOrEqual(WEB_CONGESTED_BYTES + 2 * 140 * 1024);
    viewer.ws.resume();
    await until(() => viewer.seen.messages.filter((m) => m.type === 'reply').length === 300, 60_000);
    expect(viewer.seen.messages.filter((m) => m.type === 'reply').map((m) => m.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  }, 90_000);
});
