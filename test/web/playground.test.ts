/**
 * The playground in a real browser (Debian's chromium through playwright-core): the bundle is
 * built, served from loopback, and the guests run in the page's Web Worker. Screenshots go to
 * test-output/web/. Skipped when /usr/bin/chromium is absent (CI installs it).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEVER_COLOUR, TAG_COLOURS } from '../../src/web/ui/tag-palette.js';
import { ROOT, SHOTS, FREED, cellAt, pixelAt, state, uartText, uartWrapping } from './support/viewer-page.js';
import { buildPlayground, chromiumAvailable, launchChromium, type Browser } from './support/chromium.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

const expected = (guest: string) => readFileSync(join(ROOT, 'guests/expected', `${guest}.out`), 'latin1');

describe.runIf(chromiumAvailable)('playground in chromium', () => {
  let bundle: string;
  let server: StaticServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    bundle = await mkdtemp(join(tmpdir(), 'tagvisor-web-'));
    buildPlayground(bundle);
    server = await serveStatic(bundle);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) await rm(bundle, { recursive: true, force: true });
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${server.url}${query}`);
    return page;
  }

  it('runs the use-after-free demo: UART, the fault with its tags, and the retagged granule on the map', async () => {
    const page = await open('?guest=demo');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    expect(await uartText(page)).toBe(expected('demo'));
    await expect.poll(() => page.locator('.status').textContent()).toMatch(/^shutdown: guest-exit 0 · [\d,]+ instructions/);

    const row = page.locator('.fault-list tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getAttribute('data-logical-tag')).toBe('2');
    expect(await row.getAttribute('data-allocation-tag')).toBe('4');
    const cells = await row.locator('td').allTextContents();
    expect(cells).toEqual(['1', expect.stringMatching(/^0x4008[0-9a-f]{4}$/), '0x0200000040500010', '0x40500010', '2', '4', '1', 'read', 'sync', '1']);
    // The map starts on the tagged pages, zoomed in (at the zoom that fits 256 MiB, page-2, they
    // are specks): the freed granule's page is in view with bigger cells.
    await expect.poll(() => page.locator('.tag-map').getAttribute('data-zoom')).not.toBe('page-2');
    const start = (await cellAt(page, FREED))!;
    expect(start.x).toBeGreaterThanOrEqual(0);
    expect(start.px).toBeGreaterThan(2);
    // The UART panel wraps the demo's long lines between words, never inside one.
    const wrapping = await uartWrapping(page);
    expect(wrapping.broken).toEqual([]);
    expect(wrapping.screenLines).toBeGreaterThan(wrapping.textLines);
    await page.screenshot({ path: join(SHOTS, 'playground-demo.png'), fullPage: true });

    await row.click();
    await expect.poll(() => page.locator('.tag-map').getAttribute('data-highlight')).toBe('0x40500010');
    expect(await page.locator('.tag-map').getAttribute('data-zoom')).toBe('granule-8');
    // The granule's tags arrive from the worker; then its cell must be painted in tag 4's colour.
    await expect.poll(async () => (await cellAt(page, FREED))?.tag, { timeout: 10_000 }).toBe(4);
    const cell = (await cellAt(page, FREED))!;
    expect(cell.x).toBeGreaterThanOrEqual(0);
    await expect.poll(() => pixelAt(page, cell.x + cell.px / 2, cell.y + cell.px / 2)).toBe(TAG_COLOURS[4]);
    // Its neighbours: the allocator's header granule (tag 0) and a granule of a never-tagged page.
    const header = (await cellAt(page, FREED - 16))!;
    expect(header.tag).toBe(0);
    expect(await pixelAt(page, header.x + 4, header.y + 4)).toBe(TAG_COLOURS[0]);
    expect(await page.locator('.map-info').textContent()).toBe('granule 0x40500010: tag 4; page 0x40500000: mixed tags, mostly 0');
    await page.screenshot({ path: join(SHOTS, 'playground-fault-focus.png'), fullPage: true });

    // Reset: the guest runs again from the start, after a marker in the terminal.
    await page.click('button.control-reset');
    await expect.poll(() => row.count()).toBe(2);
    await expect.poll(() => state(page)).toBe('shutdown');
    expect(await uartText(page)).toBe(expected('demo').repeat(2));
    expect(await page.locator('.terminal .console').textContent()).toBe('\n── reset ──\n');
    await page.close();
  });

  it('pauses, steps and continues a running guest, showing the vCPU state', async () => {
    const page = await open('?guest=bench-int');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('running');
    await page.click('button.control-pause');
    await expect.poll(() => state(page)).toBe('paused');
    const pc = page.locator('[data-reg="pc"] .value');
    await expect.poll(() => pc.count()).toBe(1);
    const before = await pc.textContent();
    expect(await page.locator('[data-fact="EL"]').textContent()).toBe('EL1h');
    expect(await page.locator('[data-fact="TCF (EL1)"]').textContent()).toMatch(/^(none|sync|async|asymmetric)$/);
    const count = async () => Number((await page.locator('.status').textContent())!.match(/([\d,]+) instructions/)![1]!.replaceAll(',', ''));
    const n = await count();
    await page.click('button.control-step');
    await expect.poll(count).toBe(n + 1);
    await expect.poll(() => pc.textContent()).not.toBe(before);
    expect(await page.locator('.status').textContent()).toMatch(/^paused \(step\)/);
    await page.screenshot({ path: join(SHOTS, 'playground-paused.png'), fullPage: true });
    await page.click('button.control-resume');
    await expect.poll(() => state(page)).toBe('running');
    expect(await page.locator('.register-view').getAttribute('class')).toContain('stale');
    await page.click('button.control-pause');
    await expect.poll(() => state(page)).toBe('paused');
    await page.close();
  });

  it('runs a dropped ELF, and says clearly what is wrong with a bad one', async () => {
    const page = await open('?autorun=0');
    await expect.poll(() => page.locator('.guest-menu option').count()).toBeGreaterThan(10);
    const drop = (name: string, bytes: number[]) =>
      page.evaluate(([fileName, data]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(data as number[])], fileName as string));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }, [name, bytes] as const);
    await drop('notes.txt', [...Buffer.from('these are not the instructions you are looking for\n'.repeat(3))]);
    await expect.poll(() => page.locator('.notice-text').textContent()).toBe('notes.txt cannot run: not an ELF file (bad magic)');
    await drop('tiny.elf', [0x7f, 0x45, 0x4c, 0x46]);
    await expect.poll(() => page.locator('.notice-text').textContent()).toBe('tiny.elf cannot run: file too short for an ELF header (4 bytes)');
    await page.screenshot({ path: join(SHOTS, 'playground-bad-elf.png'), fullPage: true });
    // A real guest through the file chooser: its transcript is QEMU's.
    await page.setInputFiles('input.guest-file', { name: 'heap.elf', mimeType: 'application/octet-stream', buffer: readFileSync(join(ROOT, 'guests/build/heap.elf')) });
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    expect(await uartText(page)).toBe(expected('heap'));
    expect(await page.locator('.notice').isHidden()).toBe(true);
    await expect.poll(() => page.locator('.fault-list tbody tr').count()).toBeGreaterThan(1);
    await page.close();
  });

  it('maps a 1 GiB guest: a cell per page, never-tagged pages apart from tagged ones', async () => {
    const page = await open('?guest=demo&mem=1024');
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe('shutdown');
    expect(await page.locator('.viewer').getAttribute('data-guest')).toBe('demo');
    expect(await page.locator('.tag-map').getAttribute('data-zoom')).not.toBe('page-1'); // on the tagged pages
    await page.click('.map-tools button[title="show all RAM"]');
    expect(await page.locator('.tag-map').getAttribute('data-zoom')).toBe('page-1');
    expect(await page.locator('.map-range').textContent()).toBe('0x40000000 – 0x7fffffff');
    const heap = (await cellAt(page, FREED))!;
    expect(heap.page).toBe('mixed tags, mostly 0');
    const far = (await cellAt(page, 0x7000_0000))!;
    expect(far.page).toBe('never tagged');
    await expect.poll(() => pixelAt(page, far.x, far.y)).toBe(NEVER_COLOUR);
    expect(await pixelAt(page, heap.x, heap.y)).not.toBe(NEVER_COLOUR);
    await page.screenshot({ path: join(SHOTS, 'playground-1gib.png'), fullPage: true });

    // The mouse and the map's tools: hover, Ctrl+wheel zoom, wheel scroll, fit, go to an address.
    const map = page.locator('.tag-map');
    const box = (await page.locator('canvas.tag-canvas').boundingBox())!;
    const scale = box.width / 1024;
    await page.mouse.move(box.x + (heap.x + 0.5) * scale, box.y + (heap.y + 0.5) * scale);
    await expect.poll(() => page.locator('.map-info').textContent()).toBe('page 0x40500000: mixed tags, mostly 0');
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(() => map.getAttribute('data-zoom')).toBe('page-2');
    await page.mouse.wheel(0, 100);
    await expect.poll(() => map.getAttribute('data-top-row')).not.toBe('0');
    await page.click('.map-tools button[title="show all RAM"]');
    await expect.poll(() => map.getAttribute('data-zoom')).toBe('page-1');
    await page.fill('.map-goto', '0x40500010');
    await page.press('.map-goto', 'Enter');
    await expect.poll(() => map.getAttribute('data-highlight')).toBe('0x40500010');
    await expect.poll(async () => (await cellAt(page, FREED))?.tag).toBe(4);
    await page.close();
  });

  it('logged no page errors', () => {
    expect(problems).toEqual([]);
  });
});
