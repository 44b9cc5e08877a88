/**
 * The live viewer in a real browser (Debian's chromium through playwright-core) against a real
 * `tagvisor run --web ... --start-paused guests/build/demo.elf` process: the page connects,
 * shows the paused vCPU, watches the use-after-free granule, and once the guest runs shows the
 * UART text, the fault with its tags, and the granule's new tag on the map. Read-only is checked
 * with the JSON monitor continuing the guest. Screenshots: test-output/web/live-*.png. Skipped
 * when /usr/bin/chromium is absent (CI installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { NEVER_COLOUR, TAG_COLOURS } from '../../src/web/ui/tag-palette.js';
import { ROOT, SHOTS, FREED, cellAt, pixelAt, state, uartText, uartWrapping } from './support/viewer-page.js';
import { buildPlayground, chromiumAvailable, launchChromium, type Browser } from './support/chromium.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const DEMO_OUT = readFileSync(join(ROOT, 'guests/expected/demo.out'), 'latin1');
const TOKEN = 'live-viewer-token-0123456789';

interface Run {
  readonly child: ChildProcess;
  readonly url: string;
  readonly monitorPort: number | null;
  readonly exited: Promise<number | null>;
  stdout: string;
}

describe.runIf(chromiumAvailable)('the live viewer in chromium (tagvisor run --web)', () => {
  let bundle: string;
  let browser: Browser;
  const runs: Run[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    bundle = await mkdtemp(join(ROOT, 'test-output/live-web-'));
    buildPlayground(bundle);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const run of runs) run.child.kill('SIGKILL');
    await browser?.close();
    if (bundle) await rm(bundle, { recursive: true, force: true });
  });

  /** Starts tagvisor paused with the viewer (and the monitor), the bundle from this test's build. */
  async function start(args: string[], guest = 'demo'): Promise<Run> {
    const child = spawn(process.execPath, [CLI, 'run', '--web', 'tcp:127.0.0.1:0', '--start-paused', ...args, join(ROOT, `guests/build/${guest}.elf`)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TAGVISOR_WEB_DIR: bundle },
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const exited = new Promise<number | null>((resolve) => child.on('close', (status) => {
      clearTimeout(timer);
      resolve(status);
    }));
    const run = { child, exited, stdout: '' } as { -readonly [K in keyof Run]: Run[K] };
    child.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString('latin1')));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const web = /web viewer on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
        const monitor = /monitor listening on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
        if (web && (monitor || !args.includes('--monitor'))) {
          run.url = web[1]!;
          run.monitorPort = monitor ? Number(monitor[1]) : null;
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`tagvisor exited early: ${stderr}`)));
    });
    runs.push(run);
    return run;
  }

  async function open(url: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(url);
    return page;
  }

  it('watches the demo from paused: vCPU, step, the fault with its tags, the retagged granule', async () => {
    const run = await start(['--web-control']);
    const page = await open(run.url);
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('paused');
    expect(await page.locator('.viewer').getAttribute('data-control')).toBe('on');
    expect(await page.locator('.live-badge').textContent()).toBe('demo.elf · control enabled');
    await expect.poll(() => page.locator('[data-reg="pc"] .value').textContent()).toBe('0000000040080000');
    expect(await page.locator('[data-fact="EL"]').textContent()).toBe('EL1h');
    // The SIMD&FP registers are in the panel too (reset values).
    expect(await page.locator('[data-reg="fpcr"] .value').textContent()).toBe('0000000000000000');
    expect(await page.locator('.simdregs [data-reg="v31"] .value').textContent()).toBe('0000000000000000');

    // Step one instruction from the page.
    await page.click('button.control-step');
    await expect.poll(() => page.locator('.status').textContent()).toMatch(/^paused \(step\) · 1 instructions/);
    await expect.poll(() => page.locator('[data-reg="pc"] .value').textContent()).toBe('0000000040080004');

    // Watch the granule the guest will free: zoomed in, it is not tagged memory yet.
    await page.fill('.map-goto', '0x40500010');
    await page.press('.map-goto', 'Enter');
    await expect.poll(() => page.locator('.tag-map').getAttribute('data-zoom')).toBe('granule-8');
    const before = (await cellAt(page, FREED))!;
    expect(before.tag).toBeNull();
    expect(before.page).toBe('never tagged');
    await expect.poll(() => pixelAt(page, before.x + 4, before.y + 4)).toBe(NEVER_COLOUR);
    await page.screenshot({ path: join(SHOTS, 'live-paused.png'), fullPage: true });

    // Continue: the guest allocates (tag 2), frees (retags 4) and faults on the stale pointer.
    await page.click('button.control-resume');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    await expect.poll(() => uartText(page)).toBe(DEMO_OUT);
    await expect.poll(() => page.locator('.status').textContent()).toMatch(/^shutdown: guest-exit 0 · [\d,]+ instructions/);
    const row = page.locator('.fault-list tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('data-logical-tag')).toBe('2');
    expect(await row.getAttribute('data-allocation-tag')).toBe('4');
    const cells = await row.locator('td').allTextContents();
    expect(cells).toEqual(['1', expect.stringMatching(/^0x4008[0-9a-f]{4}$/), '0x0200000040500010', '0x40500010', '2', '4', '1', 'read', 'sync', '1']);
    await expect.poll(async () => (await cellAt(page, FREED))?.tag).toBe(4);
    const after = (await cellAt(page, FREED))!;
    await expect.poll(() => pixelAt(page, after.x + after.px / 2, after.y + after.px / 2)).toBe(TAG_COLOURS[4]);
    expect((await cellAt(page, FREED - 16))!.tag).toBe(0); // the allocator's header granule
    // Memory activity: the guest wrote tags; the process ended and said why.
    expect(await page.locator('.activity-panel').isVisible()).toBe(true);
    expect(Number(await page.locator('.activity-panel').getAttribute('data-tagged-pages'))).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.notice-text').textContent()).toBe('disconnected: the VM has ended (guest-exit 0); tagvisor exited');
    expect(await page.locator('button.control-resume').isDisabled()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'live-demo.png'), fullPage: true });

    // The fault row still centres the map on its granule (the picture stays after the end).
    await page.click('.map-tools button[title="show all RAM"]');
    await row.click();
    await expect.poll(() => page.locator('.tag-map').getAttribute('data-highlight')).toBe('0x40500010');
    await page.screenshot({ path: join(SHOTS, 'live-fault-focus.png'), fullPage: true });
    expect(await run.exited).toBe(0);
    expect(run.stdout).toBe(DEMO_OUT);
    await page.close();
  });

  it('is read-only by default: the buttons are disabled, the JSON monitor continues the guest', async () => {
    const run = await start(['--monitor', 'tcp:127.0.0.1:0']);
    const page = await open(run.url);
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('paused');
    expect(await page.locator('.viewer').getAttribute('data-control')).toBe('off');
    expect(await page.locator('.live-badge').textContent()).toBe('demo.elf · read-only');
    for (const button of ['pause', 'resume', 'step', 'reset']) expect(await page.locator(`button.control-${button}`).isDisabled(), button).toBe(true);
    expect(await page.locator('button.control-resume').getAttribute('title')).toMatch(/--web-control/);
    // A command sent anyway (as a script in the page could) is refused by the server.
    await page.evaluate(() => (globalThis as unknown as { tagvisor: { connection: { send(c: unknown): void } } }).tagvisor.connection.send({ type: 'resume' }));
    await expect.poll(() => page.locator('.notice-text').textContent()).toMatch(/^cont: the viewer is read-only/);
    expect(await state(page)).toBe('paused');
    await page.screenshot({ path: join(SHOTS, 'live-read-only.png'), fullPage: true });

    const monitor = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: run.monitorPort! });
    await monitor.execute('cont');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    await expect.poll(() => page.locator('.fault-list tbody tr').count()).toBe(1);
    await expect.poll(() => uartText(page)).toBe(DEMO_OUT);
    monitor.close();
    expect(await run.exited).toBe(0);
    await page.close();
  });

  it('shows a live migration of a retagging guest: progress, the map kept current, the end', async () => {
    // The destination: a tagvisor waiting for the stream (same machine options).
    const destination = spawn(process.execPath, [CLI, 'run', '--incoming', 'tcp:127.0.0.1:0', '-m', '128M'], { stdio: ['ignore', 'ignore', 'pipe'] });
    runs.push({ child: destination } as Run);
    const target = await new Promise<string>((resolve) => {
      let text = '';
      destination.stderr!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /waiting for an incoming migration on (127\.0\.0\.1:\d+)/.exec(text);
        if (match) resolve(`tcp:${match[1]}`);
      });
    });
    // The source: bench-dirty retagging its window forever (its FOREVER word set before boot).
    const run = await start(['--monitor', 'tcp:127.0.0.1:0', '-m', '128M'], 'bench-dirty');
    const monitor = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: run.monitorPort! });
    await monitor.execute('write-memory', { addr: 0x41ff_f000, data: '0100000000000000', space: 'physical' });
    const page = await open(run.url);
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('paused');
    await monitor.execute('cont');
    await expect.poll(() => state(page)).toBe('running');
    // The retagged window fills with tags on the map.
    await expect.poll(async () => Number(await page.locator('.activity-panel').getAttribute('data-tagged-pages')), { timeout: 20_000 }).toBeGreaterThan(1000);
    const tagged = async () => (await cellAt(page, 0x4280_0000))?.page;
    await expect.poll(tagged).not.toBe('never tagged');
    await monitor.execute('migrate', { uri: target, 'max-rounds': 5 });
    await expect.poll(() => page.locator('.migration-panel').getAttribute('data-status'), { timeout: 30_000 }).toBe('completed');
    expect(await page.locator('.migration-panel [data-fact="pages sent"]').textContent()).toMatch(/^[\d,]+ \(RAM: 32,768 pages\)$/);
    expect(await page.locator('.migration-panel [data-fact="downtime"]').textContent()).toMatch(/^[\d.]+ ms$/);
    await expect.poll(() => page.locator('.notice-text').textContent()).toBe('disconnected: the VM has ended (migrated); tagvisor exited');
    expect(await page.locator('.activity-panel tr[data-class="migration"] td').nth(5).textContent()).not.toBe('0'); // pages read to be sent
    await page.screenshot({ path: join(SHOTS, 'live-migration.png'), fullPage: true });
    expect(await run.exited).toBe(0);
    monitor.close();
    destination.kill('SIGKILL');
    await page.close();
  });

  it('with --auth-token-file: the page opened with ?token= works; without the token it only says so', async () => {
    const tokenFile = join(bundle, 'viewer.token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const run = await start(['--web-control', '--auth-token-file', tokenFile]);
    const refused = await open(run.url);
    await expect.poll(() => refused.locator('.notice-text').textContent(), { timeout: 15_000 }).toMatch(/^disconnected: authentication required/);
    expect(await state(refused)).not.toBe('paused'); // it never learnt anything about the VM
    expect(await uartText(refused)).toBe('');
    await refused.close();

    const page = await open(`${run.url}?token=${TOKEN}`);
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('paused');
    await page.click('button.control-resume');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    await expect.poll(() => uartText(page)).toBe(DEMO_OUT);
    // The live viewer's UART panel wraps between words too (the playground's test says why).
    const wrapping = await uartWrapping(page);
    expect(wrapping.broken).toEqual([]);
    expect(wrapping.screenLines).toBeGreaterThan(wrapping.textLines);
    expect(await run.exited).toBe(0);
    await page.close();
  });

  it('logged no page errors', () => {
    expect(problems).toEqual([]);
  });
});
