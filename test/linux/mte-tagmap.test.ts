/**
 * The Linux guest's tag map and memory activity, live (issue 14; docs/linux.md, "The tag map of a
 * Linux guest"): `tagvisor run --monitor --web` boots Debian's kernel with the MTE initramfs,
 * paused until a `ws` viewer (test/web/support/viewer-client.ts) is watching. /init reads the
 * virtio disk (tv_disk=1), then runs check_buffer_fill, whose buffers get random tags.
 *
 * - The viewer's map starts with every page never tagged; while the kselftest runs, pages holding
 *   non-zero tags appear and pages change summary from one update to the next.
 * - Mid-test the JSON monitor stops the guest; its `read-tags` of a page the map shows as tagged
 *   gives that page's summary, and `query-mte`'s tagged-pages is the map's count of pages used as
 *   tagged memory.
 * - The activity samples show the disk read as `dma` (at least the disk's 256 pages written into
 *   guest RAM, ring reads) and the monitor's reads as `debug`, exactly the pages it read (the
 *   viewer's own map reads are not counted).
 * - With chromium (/usr/bin/chromium), the viewer's page watches the same run from the start: at
 *   the end its activity totals are the ws viewer's and its UART has the disk line.
 *   Screenshot: test-output/web/live-linux.png.
 *
 * Needs the package cache (scripts/fetch-linux-packages), the cross compiler and the CLI in
 * dist/ with its web bundle (npm run build); skipped with the reason printed without the first two.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorClient } from '../../src/node/monitor/client.js';
import type { DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { ACTIVITY_CLASS_NAMES, PAGE_NEVER, PAGE_TAG_MASK, PAGE_UNTAGGED, summaryOf, type HostMessageOf } from '../../src/web/protocol.js';
import { listening, start, until, type Proc } from '../migration/cli-support.js';
import type { Page } from 'playwright-core';
import { chromiumAvailable, launchChromium, type Browser } from '../web/support/chromium.js';
import { noteMissingTool } from '../support/reference-tools.js';
import { ViewerClient } from '../web/support/viewer-client.js';
import { SHOTS, state, uartText } from '../web/support/viewer-page.js';
import { MEMORY_MIB, MTE_INITRAMFS, kselftestResults, mteAppend, prepareMteInitramfs } from './mte-run.js';

const TIMEOUT_MS = 900_000;
const TEST = 'check_buffer_fill';
const RAM_BASE = 0x4000_0000;
const DISK_BYTES = 1 << 20;
const DEBUG = ACTIVITY_CLASS_NAMES.indexOf('debug');
const DMA = ACTIVITY_CLASS_NAMES.indexOf('dma');
const GUEST = ACTIVITY_CLASS_NAMES.indexOf('guest');

const kernel = prepareMteInitramfs();
if (typeof kernel === 'string') console.log(`test/linux/mte-tagmap.test.ts skipped: ${kernel}`);
noteMissingTool('linux', typeof kernel !== 'string');
const withChromium = noteMissingTool('chromium', chromiumAvailable);

/** A page summary that holds a non-zero tag (uniform, or as the most common tag of a mixed page). */
const holdsTag = (value: number): boolean => (value & (PAGE_NEVER | PAGE_UNTAGGED)) === 0 && (value & PAGE_TAG_MASK) !== 0;

/** The map as the viewer built it from every page-tags message up to `upTo` (an index into its messages). */
function mapAt(viewer: ViewerClient, upTo = viewer.messages.length): Map<number, number> {
  const map = new Map<number, number>();
  for (const m of viewer.messages.slice(0, upTo)) if (m.type === 'page-tags') m.pages.forEach((page, i) => map.set(page, m.values[i]!));
  return map;
}

/** The index of the first message after which the UART output contains `text` (messages.length when never). */
function whenPrinted(viewer: ViewerClient, text: string): number {
  let uart = '';
  for (const [i, m] of viewer.messages.entries()) {
    if (m.type === 'output' && m.stream === 'uart') uart += m.text;
    if (uart.includes(text)) return i;
  }
  return viewer.messages.length;
}

const sum = (samples: HostMessageOf<'activity'>[], field: 'data' | 'tags' | 'reads', cls: number): number => samples.reduce((n, s) => n + s[field][cls]!, 0);

describe.skipIf(typeof kernel === 'string')("a Linux guest's tag map and memory activity in the live viewer and the JSON monitor", () => {
  let dir = '';
  let proc: Proc;
  let viewer: ViewerClient;
  let disk: Buffer;
  let status: number | null;
  /** What the monitor saw while the guest was stopped mid-test. */
  let probe: { page: number; tags: string; summary: number; taggedPages: number; mapTagged: number; debugReadPages: number };
  /** Messages received before the monitor's stop (the running guest's updates). */
  let beforeStop = 0;
  let browser: Browser | null = null;
  let page: Page | null = null;
  const problems: string[] = [];

  beforeAll(async () => {
    const k = kernel as DebianKernel;
    dir = mkdtempSync(join(tmpdir(), 'tagvisor-linux-tagmap-'));
    disk = Buffer.alloc(DISK_BYTES, 0);
    for (let i = 0; i < DISK_BYTES; i += 4) disk.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(join(dir, 'disk.img'), disk);
    proc = start('run', '-m', `${MEMORY_MIB}M`, '--no-reboot', '--stats', '--kernel', k.image, '--initrd', MTE_INITRAMFS, '--append', `${mteAppend('kselftest', [TEST])} tv_disk=1`,
      '--drive', join(dir, 'disk.img'), '--monitor', 'tcp:127.0.0.1:0', '--web', 'tcp:127.0.0.1:0', '--start-paused');
    try {
      const webPort = await listening(proc, /web viewer on http:\/\/127\.0\.0\.1:(\d+)\//);
      const monitorPort = await listening(proc, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
      viewer = await ViewerClient.open(`ws://127.0.0.1:${webPort}/ws`);
      await viewer.until('page-tags', (m) => m.full);
      if (withChromium) {
        browser = await launchChromium();
        page = await browser.context.newPage();
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        await page.goto(`http://127.0.0.1:${webPort}/`);
        for (const end = Date.now() + 60_000; (await state(page)) !== 'paused'; await new Promise((resolve) => setTimeout(resolve, 100))) {
          if (Date.now() > end) throw new Error('the page never showed the paused VM');
        }
      }
      const monitor = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: monitorPort });
      try {
        await monitor.execute('cont');
        // Mid-test: the first update, after the test started, that shows a page with a non-zero tag.
        const started = (): number => whenPrinted(viewer, `kselftest: start ${TEST}`);
        // The test allocates and frees its tagged buffers in a loop: the map seen at a stop may
        // hold no tagged page (all freed a moment before), so stop again at a later update.
        let map = new Map<number, number>();
        let page: number | undefined;
        for (let attempt = 0; page === undefined; attempt++) {
          if (attempt === 20) throw new Error('20 stops during the test found no page holding a tag');
          if (attempt > 0) await monitor.execute('cont');
          const from = Math.max(started(), viewer.messages.length);
          await until(() => viewer.messages.slice(from).some((m) => m.type === 'page-tags' && [...m.values].some(holdsTag)), 'a tagged page in the map during the test', TIMEOUT_MS);
          const stopAt = viewer.messages.length;
          await monitor.execute('stop');
          await until(() => viewer.messages.slice(stopAt).some((m) => m.type === 'status' && m.state === 'paused'), 'the status paused', 60_000);
          beforeStop = viewer.messages.length;
          // The stop's flush has the map as it is now; then the monitor reads what the map shows.
          map = mapAt(viewer);
          page = [...map.entries()].find(([, v]) => holdsTag(v))?.[0];
        }
        const debugBefore = sum(viewer.all('activity'), 'reads', DEBUG);
        const read = (await monitor.execute('read-tags', { addr: RAM_BASE + page * 4096, size: 4096, space: 'physical' })) as { tags: string };
        await monitor.execute('read-memory', { addr: RAM_BASE + page * 4096, size: 3 * 4096, space: 'physical' });
        const mte = (await monitor.execute('query-mte')) as { 'tagged-pages': number };
        await monitor.execute('cont');
        await until(() => sum(viewer.all('activity'), 'reads', DEBUG) > debugBefore, 'the debug reads in an activity sample', 60_000);
        probe = { page, tags: read.tags, summary: map.get(page)!, taggedPages: mte['tagged-pages'], mapTagged: [...map.values()].filter((v) => (v & PAGE_NEVER) === 0).length, debugReadPages: sum(viewer.all('activity'), 'reads', DEBUG) - debugBefore };
      } finally {
        monitor.close();
      }
      status = await Promise.race([proc.exit, new Promise<null>((resolve) => setTimeout(resolve, TIMEOUT_MS))]);
      await until(() => viewer.closed !== null, 'the viewer to be closed at the end', 30_000);
      const samples = viewer.all('activity');
      const tagged = [...mapAt(viewer).values()].filter(holdsTag).length;
      console.log(`Linux tag map: ${viewer.all('page-tags').length} page-tags updates, ${tagged} pages with non-zero tags at the end, ` +
        `page ${probe.page} read by the monitor (query-mte tagged-pages ${probe.taggedPages}); activity: dma ${sum(samples, 'data', DMA)} page-writes, ` +
        `${sum(samples, 'reads', DMA)} page reads, guest tags ${sum(samples, 'tags', GUEST)}, debug reads ${sum(samples, 'reads', DEBUG)}`);
    } finally {
      proc.child.kill('SIGKILL');
    }
  }, TIMEOUT_MS * 2);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the guest reads the whole disk through virtio-blk, the kselftest passes, and the guest powers off (status 0)', () => {
    expect(status, proc.stderr()).toBe(0);
    const md5 = createHash('md5').update(disk).digest('hex');
    expect(proc.stdout()).toMatch(new RegExp(`^init: /dev/vda: ${DISK_BYTES / 512} sectors, md5 ${md5}\\r?$`, 'm'));
    expect(kselftestResults(proc.stdout())).toContain(`kselftest: ${TEST} exit 0`);
    expect(kselftestResults(proc.stdout()).filter((l) => l.startsWith('not ok'))).toEqual([]);
  });

  it('the map starts with no page used as tagged memory; while the kselftest runs, tagged pages appear and change', () => {
    const full = viewer.all('page-tags')[0]!;
    expect(full.full).toBe(true);
    expect(full.pages.length).toBe((MEMORY_MIB << 20) / 4096);
    expect(full.values.every((v) => v === PAGE_NEVER)).toBe(true);
    const started = whenPrinted(viewer, `kselftest: start ${TEST}`);
    expect([...mapAt(viewer, started).values()].some(holdsTag)).toBe(false); // booting tags nothing
    // The running guest's updates during the test: pages with non-zero tags, and pages whose summary changed.
    const updates = viewer.messages.slice(started, beforeStop).filter((m): m is HostMessageOf<'page-tags'> => m.type === 'page-tags');
    const seen = new Map<number, Set<number>>();
    for (const m of updates) m.pages.forEach((page, i) => seen.set(page, (seen.get(page) ?? new Set()).add(m.values[i]!)));
    expect([...seen.values()].filter((values) => [...values].some(holdsTag)).length).toBeGreaterThan(0);
    expect([...seen.values()].filter((values) => values.size > 1).length).toBeGreaterThan(0);
    // Until the end the guest keeps retagging (the test's later buffers), and the activity shows its tag writes.
    const after = viewer.messages.slice(beforeStop).filter((m): m is HostMessageOf<'page-tags'> => m.type === 'page-tags' && !m.full);
    expect(after.some((m) => [...m.values].some(holdsTag))).toBe(true);
    expect(sum(viewer.all('activity'), 'tags', GUEST)).toBeGreaterThan(0);
  });

  it("the JSON monitor, the guest stopped, reads the page's tags as the map shows them and counts the map's tagged pages", () => {
    expect(probe.tags).toMatch(/^[0-9a-f]{256}$/);
    const tags = [...probe.tags].map((digit) => parseInt(digit, 16));
    expect(summaryOf(tags)).toBe(probe.summary);
    expect(probe.taggedPages).toBe(probe.mapTagged);
  });

  it("the activity shows the disk's DMA and the monitor's reads as debug, exactly the pages it read", () => {
    const samples = viewer.all('activity');
    expect(sum(samples, 'data', DMA)).toBeGreaterThanOrEqual(DISK_BYTES / 4096);
    expect(sum(samples, 'reads', DMA)).toBeGreaterThan(0);
    expect(probe.debugReadPages).toBe(1 + 3); // read-tags: one page; read-memory: three
    expect(sum(samples, 'reads', DEBUG)).toBe(4);
  });

  it.runIf(withChromium)('the viewer page in chromium watched the same run: the same activity totals, the disk line on its UART', async () => {
    const p = page!;
    const totals = (await p.evaluate(() => (globalThis as unknown as { tagvisor: { viewer: { activity: { totals: number[][] } } } }).tagvisor.viewer.activity.totals)) as number[][];
    const samples = viewer.all('activity');
    expect(totals[DMA]).toEqual(['data', 'tags', 'reads'].map((field) => sum(samples, field as 'data', DMA)));
    expect(totals[DEBUG]![2]).toBe(4);
    expect(await uartText(p)).toContain('init: /dev/vda: 2048 sectors');
    expect(Number(await p.locator('.activity-panel').getAttribute('data-tagged-pages'))).toBeGreaterThan(0);
    mkdirSync(SHOTS, { recursive: true });
    await p.screenshot({ path: join(SHOTS, 'live-linux.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
