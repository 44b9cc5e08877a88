/**
 * The live viewer's server (`tagvisor run --web`, src/node/web/web-server.ts) at the protocol
 * level, with the `ws` package as the client: the opening picture, tag-check faults, the
 * read-only default and --web-control, the tag map while a migration owns the dirty log, and the
 * server's refusals (other origins, other Host names, too many viewers, a missing bundle).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../scripts/build-web.mjs';
import { registerMigrationCommands } from '../../src/node/migration-commands.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { MAX_WEB_CLIENTS, WebServer } from '../../src/node/web/web-server.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { Monitor } from '../../src/vmm/monitor/index.js';
import { PAGE_NEVER, type HostMessageOf } from '../../src/web/protocol.js';
import { ViewerClient } from './support/viewer-client.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const DEMO = join(ROOT, 'guests/build/demo.elf');
const FREED = 0x4050_0010; // demo.elf's use-after-free granule
const FREED_PAGE = Math.floor((FREED - 0x4000_0000) / 4096);

interface Served {
  readonly machine: VirtMachine;
  readonly monitor: Monitor;
  readonly web: WebServer;
  readonly url: string;
  readonly run: Promise<unknown>;
}

let assets: string;
const served: Served[] = [];
const clients: ViewerClient[] = [];

/** demo.elf (or `elf`) paused at its first instruction, run by the CLI's run loop, with a viewer server. */
async function serve(control: boolean, elf = DEMO, memoryBytes = 64 << 20): Promise<Served> {
  const machine = new VirtMachine({ memoryBytes });
  machine.loadElf(await readFile(elf));
  const monitor = new Monitor(machine);
  registerMigrationCommands(monitor);
  const web = await WebServer.listen(monitor, { kind: 'tcp', host: '127.0.0.1', port: 0 }, { name: 'demo.elf', control, assets });
  machine.pause();
  const run = runToCompletion(machine);
  const s = { machine, monitor, web, url: `ws://127.0.0.1:${web.address.port}/ws`, run };
  served.push(s);
  return s;
}

/** The HTTP status of GET / with this Host header (fetch does not let a caller set Host). */
function statusOf(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path: '/', headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject);
  });
}

async function connect(s: Served, headers: Record<string, string> = {}): Promise<ViewerClient> {
  const client = await ViewerClient.open(s.url, headers);
  clients.push(client);
  return client;
}

/** Resumes the VM the way the JSON monitor would: the registry, with the monitor's context. */
async function monitorCommand(s: Served, name: string, args: Record<string, unknown> = {}): Promise<unknown> {
  return s.monitor.registry.execute({ ...s.monitor.context, afterReply: (action) => action() }, name, args);
}

beforeAll(async () => {
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  assets = await mkdtemp(join(ROOT, 'test-output/live-assets-'));
  await buildWeb(assets);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const s of served.splice(0)) {
    s.machine.terminate('monitor');
    await s.run;
    await s.web.close();
    s.monitor.dispose();
  }
});

afterAll(async () => {
  await rm(assets, { recursive: true, force: true });
});

describe('the live viewer protocol', () => {
  it('opens with the whole picture, then streams the demo: UART, the fault with its tags, the retagged granule; read-only refuses control', async () => {
    const s = await serve(false);
    const viewer = await connect(s);
    const loaded = await viewer.until('loaded');
    expect(loaded).toMatchObject({ name: 'demo.elf', entry: '0x40080000', ramBase: 0x4000_0000, pages: 16384, mte: true });
    expect(viewer.messages[1]).toMatchObject({ type: 'session', control: false });
    expect((viewer.messages[1] as HostMessageOf<'session'>).commands).toEqual(['query-commands', 'query-cpus', 'query-migrate', 'query-mte', 'query-status', 'read-memory', 'read-tags']);
    expect(await viewer.until('status')).toMatchObject({ state: 'paused', stopReason: 'pause', instructions: 0 });
    const full = await viewer.until('page-tags', (m) => m.full);
    expect(full.pages.length).toBe(16384);
    expect(full.values.every((v) => v === PAGE_NEVER)).toBe(true); // nothing used as tagged memory yet
    expect((await viewer.until('cpu')).cpu).toMatchObject({ el: 1, pc: '0x0000000040080000' });

    // Read-only: the buttons' commands and changing monitor commands are refused, the VM stays put.
    for (const command of [{ type: 'resume' }, { type: 'step' }, { type: 'reset' }, { type: 'execute', execute: 'write-tags', arguments: { addr: FREED, size: 16, tags: '7', space: 'physical' } }] as const) {
      const reply = await viewer.command(command);
      expect(reply).toMatchObject({ ok: false, error: { class: 'AccessDenied', desc: expect.stringContaining('--web-control') } });
    }
    expect(await viewer.command({ type: 'execute', execute: 'quit' })).toMatchObject({ ok: false, error: { class: 'CommandNotFound', desc: "'quit' is not available in the live viewer (use the JSON monitor)" } });
    expect(await viewer.command({ type: 'execute', execute: 'query-status' })).toMatchObject({ ok: true, value: { status: 'paused', 'stop-reason': 'pause' } });
    expect(await viewer.command({ type: 'execute', execute: 'read-tags', arguments: { addr: 'x' } })).toMatchObject({ ok: false, error: { class: 'InvalidParameter' } });
    expect(s.machine.state).toBe('paused');

    // Watch the freed granule's page, then let the monitor continue the guest.
    viewer.ws.send(JSON.stringify({ type: 'granule-window', firstPage: FREED_PAGE, pageCount: 1 }));
    await viewer.until('granule-tags', (m) => m.pages[0] === FREED_PAGE && m.tags[1] === 0xff); // never tagged yet
    await monitorCommand(s, 'cont');
    const faults = await viewer.until('faults', (m) => m.faults.length > 0);
    expect(faults.faults[0]).toMatchObject({ seq: 1, addr: '0x0200000040500010', pa: FREED, logicalTag: 2, allocationTag: 4, size: 1, write: false, sync: true, el: 1 });
    expect(faults.suppressed).toBe(0);
    await viewer.until('status', (m) => m.state === 'shutdown');
    expect(viewer.all('status').at(-1)).toMatchObject({ state: 'shutdown', shutdown: 'guest-exit 0' });
    const uart = viewer.all('output').filter((m) => m.stream === 'uart').map((m) => m.text).join('');
    expect(uart).toBe(await readFile(join(ROOT, 'guests/expected/demo.out'), 'latin1'));
    // The map saw the heap page become tagged, and the granule retagged 4.
    const granules = viewer.all('granule-tags').filter((m) => m.pages[0] === FREED_PAGE).at(-1)!;
    expect(granules.tags[(FREED % 4096) / 16]).toBe(4);
    expect(viewer.all('page-tags').some((m) => !m.full && [...m.pages].includes(FREED_PAGE))).toBe(true);
    // Activity: the guest's tag writes, counted and sampled.
    const guestTags = viewer.all('activity').reduce((sum, m) => sum + m.tags[0]!, 0);
    expect(guestTags).toBeGreaterThan(0);
    expect(viewer.all('activity').at(-1)!.taggedPages).toBeGreaterThan(0);
  });

  it('with --web-control: step, continue and write-tags go through the monitor registry and its checks', async () => {
    const s = await serve(true);
    const viewer = await connect(s);
    expect(await viewer.until('session')).toMatchObject({ control: true, commands: expect.arrayContaining(['stop', 'cont', 'step', 'system_reset', 'write-tags']) });
    await viewer.until('status', (m) => m.state === 'paused');
    expect(await viewer.command({ type: 'step' })).toMatchObject({ ok: true, command: 'step' });
    expect(await viewer.until('status', (m) => m.instructions === 1)).toMatchObject({ state: 'paused', stopReason: 'step' });
    await viewer.until('cpu', (m) => m.cpu.pc === '0x0000000040080004');

    // A debug tag write: the map sees it (tag epochs), and the activity counts it as 'debug'.
    const page = 0x4060_0000;
    expect(await viewer.command({ type: 'execute', execute: 'write-tags', arguments: { addr: page, size: 4096, tags: '7', space: 'physical' } })).toMatchObject({ ok: true, value: {} });
    const pageIndex = (page - 0x4000_0000) / 4096;
    const update = await viewer.until('page-tags', (m) => !m.full && [...m.pages].includes(pageIndex));
    expect(update.values[[...update.pages].indexOf(pageIndex)]).toBe(7);
    await viewer.until('activity', (m) => m.tags[2] === 1 && m.tagChangedPages >= 1);
    // The registry's state checks apply: no step while running, no stop after shutdown.
    expect(await viewer.command({ type: 'resume' })).toMatchObject({ ok: true, command: 'cont' });
    await viewer.until('faults', (m) => m.faults.some((f) => f.allocationTag === 4));
    await viewer.until('status', (m) => m.state === 'shutdown');
    expect(await viewer.command({ type: 'pause' })).toMatchObject({ ok: false, error: { class: 'InvalidState', desc: "'stop' is not allowed while the VM is shutdown (allowed: running, paused)" } });
    expect(await viewer.command({ type: 'step' })).toMatchObject({ ok: false, error: { class: 'InvalidState' } });
    expect(await viewer.command({ type: 'execute', execute: 'migrate', arguments: { uri: 'tcp:127.0.0.1:1' } })).toMatchObject({ ok: false, error: { class: 'CommandNotFound' } });
  });

  it('a viewer that connects late gets the output and faults so far; two viewers do not disturb each other', async () => {
    const s = await serve(false);
    const first = await connect(s);
    await first.until('page-tags', (m) => m.full);
    await monitorCommand(s, 'cont');
    await first.until('status', (m) => m.state === 'shutdown');
    const late = await connect(s);
    expect((await late.until('faults')).faults[0]).toMatchObject({ pa: FREED, logicalTag: 2, allocationTag: 4 });
    expect((await late.until('output')).text).toContain('blocked by a tag check fault');
    const full = await late.until('page-tags', (m) => m.full);
    expect(full.values[FREED_PAGE]).toBe(first.all('page-tags').flatMap((m) => [...m.pages].map((p, i) => [p, m.values[i]!] as const)).filter(([p]) => p === FREED_PAGE).at(-1)![1]);
    expect(await late.until('cpu')).toBeTruthy();
  });

  it("keeps the tag map current while a migration owns the dirty log, and shows the migration's progress", async () => {
    const s = await serve(true);
    const viewer = await connect(s);
    await viewer.until('page-tags', (m) => m.full);
    // A migration's dirty logging, its rounds taking and clearing the tag log, then logging off.
    // All in one turn of the event loop, so no flush comes between the write and the log's take.
    s.machine.setDirtyLogging(true);
    s.machine.vm.memory.debug.writeTags(0x4070_0000, 4096, Uint8Array.of(0xa));
    expect(s.machine.takeDirtyLogs()[0]!.tags.count()).toBe(1); // migration took the log, and cleared it
    s.machine.setDirtyLogging(false);
    s.web.hub.flush();
    const page = (0x4070_0000 - 0x4000_0000) / 4096;
    const update = await viewer.until('page-tags', (m) => !m.full && [...m.pages].includes(page));
    expect(update.values[[...update.pages].indexOf(page)]).toBe(0xa);
    expect(s.machine.vm.memory.space.ramRegions[0]!.dirtyLogging).toBe(false);
    // MIGRATION events reach the viewer as they reach monitor clients.
    s.monitor.events.emit('MIGRATION', { status: 'active', round: 2, 'total-pages': 16384, 'pages-sent': 9000, 'remaining-pages': 12 });
    expect(await viewer.until('migration', (m) => m.progress.status === 'active')).toMatchObject({ progress: { round: 2, 'pages-sent': 9000 } });
    expect(await viewer.command({ type: 'execute', execute: 'query-migrate' })).toMatchObject({ ok: true, value: { status: 'none' } });
  });
});

describe('the live viewer server', () => {
  it('serves the page with a strict policy, and nothing else', async () => {
    const s = await serve(false);
    const base = `http://127.0.0.1:${s.web.address.port}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="live.js">');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await fetch(`${base}/live.js`)).headers.get('content-type')).toMatch(/javascript/);
    for (const path of ['/index.html', '/worker.js', '/../package.json', '/guests/demo.elf']) expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses other origins, other Host names and one viewer too many', async () => {
    const s = await serve(true);
    const port = s.web.address.port;
    await expect(connect(s, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(s, { origin: `http://127.0.0.1:${port + 1}` })).rejects.toThrow('HTTP 403');
    await expect(connect(s, { host: `rebound.example:${port}` })).rejects.toThrow('HTTP 421');
    expect(await statusOf(port, `rebound.example:${port}`)).toBe(421);
    expect(await statusOf(port, `localhost:${port}`)).toBe(200);
    const own = await connect(s, { origin: `http://127.0.0.1:${port}` });
    await own.until('session');
    const more = [];
    for (let i = 1; i < MAX_WEB_CLIENTS; i++) more.push(await connect(s, { origin: `http://localhost:${port}`, host: `localhost:${port}` }));
    await expect(connect(s)).rejects.toThrow('HTTP 503');
    expect(s.machine.state).toBe('paused');
  });

  it('closes viewers with the reason when the run ends', async () => {
    const s = await serve(true);
    const viewer = await connect(s);
    await viewer.until('session');
    await viewer.command({ type: 'resume' });
    await s.run;
    await s.web.close('the VM has ended (guest-exit 0); tagvisor exited');
    await viewer.until('status', (m) => m.state === 'shutdown');
    await expect.poll(() => viewer.closed).toEqual({ code: 1001, reason: 'the VM has ended (guest-exit 0); tagvisor exited' });
  });
});

describe('tagvisor run --web', () => {
  const tagvisor = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

  it('needs the web bundle, and says so in one line', () => {
    const run = tagvisor(['--web', 'tcp:127.0.0.1:0', DEMO], { TAGVISOR_WEB_DIR: join(ROOT, 'test-output/no-such-bundle') });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`tagvisor: --web: the viewer's files are missing (${join(ROOT, 'test-output/no-such-bundle/live.html')}): run npm run build:web\n`);
  });

  it.each([
    [['--web-control', DEMO], 'tagvisor: --web-control needs --web tcp:<host>:<port>\n'],
    [['--web', 'unix:/tmp/x', DEMO], expect.stringMatching(/only tcp:<host>:<port> is supported here/)],
  ])('bad usage %j exits 2 with one line', (args, message) => {
    const run = tagvisor(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toEqual(message);
  });
});
