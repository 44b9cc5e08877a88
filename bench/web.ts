/**
 * The playground (docs/web.md) in Debian's chromium, driven by playwright-core, against Node in
 * this process, in the same run:
 *
 * - guest MIPS of bench-int in the playground's Web Worker vs an in-process Node run of the same
 *   machine (VirtMachine.runSlice), rounds interleaved, fastest of each counts; the UART output
 *   must agree;
 * - the viewer's frame time while a 1 GiB guest retags continuously (bench-dirty with its
 *   FOREVER word set): main-thread frame intervals and the tag map's paint and update cost, with
 *   the map zoomed out (a cell per page, all of RAM) and zoomed in on the retagged window;
 * - the same for the live viewer (`tagvisor run --web`, docs/web.md): the guest retags in a
 *   tagvisor process, the page gets the map over a WebSocket; frame times, map costs, and the
 *   guest's MIPS in that process while watched, against the in-process Node figure.
 *
 * Skipped (with a note) when /usr/bin/chromium is absent.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { VirtMachine } from '../src/vmm/index.js';
import type { MachineStatus } from '../src/web/protocol.js';
import type { Viewer } from '../src/web/viewer.js';
import type { GuestPicker } from '../src/web/ui/guest-picker.js';
import type { MachineConnection } from '../src/web/connection.js';
import { MonitorClient } from '../src/node/monitor/client.js';
import { buildPlayground, chromiumAvailable, launchChromium } from '../test/web/support/chromium.js';
import { serveStatic } from '../test/web/support/static-server.js';
import type { BenchModule } from './main.js';
import { report } from './report.js';

const ROOT = join(import.meta.dirname, '../..');
const ROUNDS = 3;
const FOREVER = 0x41ff_f000; // bench-dirty sweeps until stopped when this word is non-zero
const WINDOW = 0x4200_0000; // bench-dirty's retagged window (32 MiB)

type Hook = { tagvisor: { viewer: Viewer; picker: GuestPicker; connection: MachineConnection } };

interface GuestRun {
  readonly mips: number;
  readonly output: string;
}

/** bench-int in this process: the same machine and slices as the CLI, timing only runSlice. */
function nodeRun(elf: Uint8Array): GuestRun {
  const machine = new VirtMachine();
  let output = '';
  const decoder = new TextDecoder();
  machine.events.on('output', (bytes) => (output += decoder.decode(bytes, { stream: true })));
  machine.loadElf(elf);
  let ms = 0;
  while (machine.state === 'running') {
    const start = performance.now();
    machine.runSlice(4_000_000);
    ms += performance.now() - start;
  }
  return { mips: machine.instructions / ms / 1000, output };
}

/** bench-dirty on 1 GiB with FOREVER set, in this process, for `ms`: guest MIPS (nothing watches tags). */
function nodeRetagMips(elf: Uint8Array, ms: number): number {
  const machine = new VirtMachine({ memoryBytes: 1024 << 20 });
  machine.loadElf(elf);
  machine.vm.memory.dma.write(FOREVER, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
  const start = performance.now();
  while (performance.now() - start < ms) machine.runSlice(1_000_000);
  return machine.instructions / (performance.now() - start) / 1000;
}

/** bench-int in the playground: guest MIPS from the worker's own run-loop time. */
async function browserRun(page: Page, url: string): Promise<GuestRun & { wallMips: number }> {
  await page.goto(`${url}?guest=bench-int&autorun=0`);
  await page.waitForFunction(() => document.querySelectorAll('.guest-menu option').length > 0);
  const result = await page.evaluate(
    () =>
      new Promise<{ status: MachineStatus; wallMs: number }>((resolve) => {
        const { connection, picker } = (globalThis as unknown as Hook).tagvisor;
        let start = 0;
        connection.on('loaded', () => (start = performance.now()));
        connection.on('status', (status) => {
          if (status.state === 'shutdown') resolve({ status, wallMs: performance.now() - start });
        });
        void picker.runSelected();
      }),
  );
  const output = await page.evaluate(() => (globalThis as unknown as Hook).tagvisor.viewer.terminal.text);
  const { instructions, runMs } = result.status;
  return { mips: instructions / runMs / 1000, wallMips: instructions / result.wallMs / 1000, output };
}

interface FrameFigures {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly paintMs: number;
  readonly updateMs: number;
  readonly updatesPerSecond: number;
  /** Guest MIPS of the worker's run loop, and over wall time (tag map upkeep included). */
  readonly mips: number;
  readonly wallMips: number;
}

/** Frame intervals and map costs over `ms` while the guest runs, at the current zoom. */
async function frameFigures(page: Page, ms: number): Promise<FrameFigures> {
  return page.evaluate(
    (duration) =>
      new Promise<FrameFigures>((resolve) => {
        const { viewer } = (globalThis as unknown as Hook).tagvisor;
        const stats = viewer.tagMap.stats;
        const before = { ...stats, status: viewer.status()! };
        const intervals: number[] = [];
        let last = performance.now();
        const end = last + duration;
        const frame = (now: number) => {
          intervals.push(now - last);
          last = now;
          if (now < end) return void requestAnimationFrame(frame);
          intervals.sort((a, b) => a - b);
          const at = (q: number) => intervals[Math.min(intervals.length - 1, Math.floor(q * intervals.length))]!;
          const status = viewer.status()!;
          const frames = Math.max(1, stats.frames - before.frames);
          resolve({
            p50: at(0.5),
            p95: at(0.95),
            max: intervals[intervals.length - 1]!,
            paintMs: (stats.paintMs - before.paintMs) / frames,
            updateMs: (stats.updateMs - before.updateMs) / Math.max(1, stats.updates - before.updates),
            updatesPerSecond: ((stats.updates - before.updates) * 1000) / duration,
            mips: (status.instructions - before.status.instructions) / (status.runMs - before.status.runMs) / 1000,
            wallMips: (status.instructions - before.status.instructions) / duration / 1000,
          });
        };
        requestAnimationFrame(frame);
      }),
    ms,
  );
}

async function retagging(page: Page, url: string): Promise<{ out: FrameFigures; in: FrameFigures }> {
  await page.goto(`${url}?autorun=0&mem=1024`);
  await page.waitForFunction(() => document.querySelectorAll('.guest-menu option').length > 0);
  const elf = [...(await readFile(join(ROOT, 'guests/build/bench-dirty.elf')))];
  await page.evaluate(
    ([bytes, forever]) => {
      const { connection } = (globalThis as unknown as Hook).tagvisor;
      const data = new Uint8Array(bytes as number[]).buffer;
      connection.send({ type: 'load', name: 'bench-dirty', bytes: data, memoryBytes: 1024 << 20, mte: true, pokes: [{ gpa: forever as number, value: 1 }] });
    },
    [elf, FOREVER] as const,
  );
  await page.waitForFunction(() => (globalThis as unknown as Hook).tagvisor.viewer.status()?.state === 'running');
  await page.waitForTimeout(1000); // the first sweeps tag the window's pages
  await page.click('.map-tools button[title="show all RAM"]'); // the map would follow the tagged window
  const zoomedOut = await frameFigures(page, 3000);
  await page.evaluate((gpa) => (globalThis as unknown as Hook).tagvisor.viewer.tagMap.centreOn(gpa), WINDOW + 0x80_0000);
  await page.waitForTimeout(500);
  const zoomedIn = await frameFigures(page, 3000);
  await page.evaluate(() => (globalThis as unknown as Hook).tagvisor.connection.send({ type: 'pause' }));
  return { out: zoomedOut, in: zoomedIn };
}

/**
 * The live viewer: `tagvisor run -m 1G --web` on bench-dirty with FOREVER set (through the JSON
 * monitor, before the first instruction), the page in chromium, figures as for the playground.
 * The guest MIPS come from the viewer's status (instructions over the time the VM ran, wall clock
 * in that process: the viewer's flushes included); the same process is measured for 3 s before
 * the page connects (through the monitor's query-status), which gives the cost of watching.
 */
async function liveRetagging(page: Page, bundle: string): Promise<{ out: FrameFigures; in: FrameFigures; unwatchedMips: number }> {
  const cli = join(ROOT, 'dist/src/cli/main.js');
  const child = spawn(process.execPath, [cli, 'run', '-m', '1G', '--web', 'tcp:127.0.0.1:0', '--monitor', 'tcp:127.0.0.1:0', '--start-paused', join(ROOT, 'guests/build/bench-dirty.elf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TAGVISOR_WEB_DIR: bundle },
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    let stderr = '';
    const { url, port } = await new Promise<{ url: string; port: number }>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const web = /web viewer on (\S+) /.exec(stderr);
        const monitor = /monitor listening on tcp:127\.0\.0\.1:(\d+)/.exec(stderr);
        if (web && monitor) resolve({ url: web[1]!, port: Number(monitor[1]) });
      });
      void exited.then(() => reject(new Error(`tagvisor exited: ${stderr}`)));
    });
    const monitor = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port });
    await monitor.execute('write-memory', { addr: FOREVER, data: '0100000000000000', space: 'physical' });
    await monitor.execute('cont');
    // The same process before any viewer connects: its guest MIPS unwatched (monitor only).
    const instructions = async () => Number(((await monitor.execute('query-status')) as { instructions: number }).instructions);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [i0, t0] = [await instructions(), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const unwatchedMips = (await instructions() - i0) / (performance.now() - t0) / 1000;
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as Hook).tagvisor.viewer.status()?.state === 'running');
    await page.waitForTimeout(1000);
    await page.click('.map-tools button[title="show all RAM"]'); // the map would follow the tagged window
    const zoomedOut = await frameFigures(page, 3000);
    await page.evaluate((gpa) => (globalThis as unknown as Hook).tagvisor.viewer.tagMap.centreOn(gpa), WINDOW + 0x80_0000);
    await page.waitForTimeout(500);
    const zoomedIn = await frameFigures(page, 3000);
    await monitor.execute('quit').catch(() => undefined);
    monitor.close();
    return { out: zoomedOut, in: zoomedIn, unwatchedMips };
  } finally {
    child.kill();
    await exited;
  }
}

export const webBench: BenchModule = {
  name: 'web',
  async run() {
    if (!chromiumAvailable) {
      console.log('# /usr/bin/chromium not installed (apt-get install chromium): no playground figures');
      return;
    }
    const bundle = await mkdtemp(join(tmpdir(), 'tagvisor-web-bench-'));
    buildPlayground(bundle);
    const server = await serveStatic(bundle);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const elf = await readFile(join(ROOT, 'guests/build/bench-int.elf'));
      const node: GuestRun[] = [];
      const web: (GuestRun & { wallMips: number })[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) node.push(nodeRun(elf));
        web.push(await browserRun(page, server.url));
        if (round % 2 === 1) node.push(nodeRun(elf));
      }
      if (web.some((r) => r.output !== node[0]!.output)) throw new Error('bench-int: the playground and Node disagree on the UART output');
      const best = <T extends GuestRun>(runs: T[]): T => runs.reduce((a, b) => (b.mips > a.mips ? b : a));
      report('node_int_guest_mips', best(node).mips);
      report('web_int_guest_mips', best(web).mips);
      report('web_int_wall_mips', best(web).wallMips);
      report('web_vs_node_guest_mips_ratio', best(web).mips / best(node).mips);

      const retagNode = nodeRetagMips(await readFile(join(ROOT, 'guests/build/bench-dirty.elf')), 3000);
      const frames = await retagging(page, server.url);
      report('node_1gib_retag_guest_mips', retagNode);
      for (const [zoom, f] of [['page', frames.out], ['granule', frames.in]] as const) {
        report(`web_1gib_retag_${zoom}_zoom_frame_p50_ms`, f.p50);
        report(`web_1gib_retag_${zoom}_zoom_frame_p95_ms`, f.p95);
        report(`web_1gib_retag_${zoom}_zoom_frame_max_ms`, f.max);
        report(`web_1gib_retag_${zoom}_zoom_map_paint_ms`, f.paintMs);
        report(`web_1gib_retag_${zoom}_zoom_map_update_ms`, f.updateMs);
        report(`web_1gib_retag_${zoom}_zoom_map_updates_per_s`, f.updatesPerSecond);
        report(`web_1gib_retag_${zoom}_zoom_guest_mips`, f.mips);
        report(`web_1gib_retag_${zoom}_zoom_wall_mips`, f.wallMips);
        report(`web_vs_node_1gib_retag_${zoom}_zoom_wall_mips_ratio`, f.wallMips / retagNode);
      }
      const live = await liveRetagging(page, bundle);
      report('live_1gib_retag_unwatched_guest_mips', live.unwatchedMips);
      for (const [zoom, f] of [['page', live.out], ['granule', live.in]] as const) {
        report(`live_1gib_retag_${zoom}_zoom_frame_p50_ms`, f.p50);
        report(`live_1gib_retag_${zoom}_zoom_frame_p95_ms`, f.p95);
        report(`live_1gib_retag_${zoom}_zoom_frame_max_ms`, f.max);
        report(`live_1gib_retag_${zoom}_zoom_map_paint_ms`, f.paintMs);
        report(`live_1gib_retag_${zoom}_zoom_map_update_ms`, f.updateMs);
        report(`live_1gib_retag_${zoom}_zoom_map_updates_per_s`, f.updatesPerSecond);
        report(`live_1gib_retag_${zoom}_zoom_guest_mips`, f.mips);
        report(`live_vs_node_1gib_retag_${zoom}_zoom_guest_mips_ratio`, f.mips / retagNode);
        report(`live_watched_vs_unwatched_1gib_retag_${zoom}_zoom_guest_mips_ratio`, f.mips / live.unwatchedMips);
      }
    } finally {
      await browser.close();
      await server.close();
      await rm(bundle, { recursive: true, force: true });
    }
  },
};
