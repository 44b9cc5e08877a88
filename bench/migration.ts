/**
 * Migration benchmark, from one run on loopback (the targets of issue 15 in docs/benchmarks.md):
 * - round-0 stream throughput, guest running, as a fraction of raw TCP between two Node processes;
 * - downtime of a 256 MiB guest that dirties memory and tags continuously (bench-dirty), measured
 *   on both sides, with the maximum downtime at its default (50 ms);
 * - total time of an idle 1 GiB guest (RAM full of incompressible data, vCPU paused) against the
 *   time raw TCP needs for 1 GiB;
 * - tag bytes on the wire per GiB of guest RAM for a freshly booted guest and for a guest that
 *   tagged all its RAM with random tags;
 * - post-copy of a 1 GiB dirtying guest to a `tagvisor run --incoming` process: the time from
 *   the migration's start to the guest running there, and until every page has arrived.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { connectChannel } from '../src/node/migration-tcp.js';
import { runToCompletion } from '../src/node/run-guest.js';
import { VirtMachine } from '../src/vmm/index.js';
import { MigrationSource, PageEncoder, type MigrationProgress } from '../src/vmm/migration/index.js';
import { PageWorkers } from '../src/node/migration/page-workers.js';
import type { BenchModule } from './main.js';
import { report } from './report.js';

const ROOT = join(import.meta.dirname, '../..');
const RAM = 256 * 2 ** 20;
const FOREVER_FLAG = 0x41ff_f000;

function child(script: string, args: string[] = []): { proc: ChildProcessWithoutNullStreams; line: (prefix: string) => Promise<string> } {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/bench/children', script), ...args]);
  let buffered = '';
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  const match = (): void => {
    for (let w = 0; w < waiters.length; w++) {
      const found = lines.findIndex((text) => text.startsWith(waiters[w]!.prefix));
      if (found < 0) continue;
      waiters.splice(w--, 1)[0]!.resolve(lines.splice(found, 1)[0]!);
    }
  };
  proc.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    match();
  });
  proc.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const line = (prefix: string): Promise<string> =>
    new Promise((resolve, reject) => {
      waiters.push({ prefix, resolve });
      match();
      proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before printing '${prefix}'`)));
    });
  return { proc, line };
}

/** Raw TCP: 512 MiB in 1 MiB writes to a sink process. */
async function rawTcpBytesPerSecond(): Promise<number> {
  const sink = child('tcp-sink.js');
  const port = Number((await sink.line('port')).split(' ')[1]);
  const chunk = new Uint8Array(2 ** 20).fill(0x5a);
  const total = 512;
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent++;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  const [, bytes, , seconds] = (await sink.line('bytes')).split(' ');
  return Number(bytes) / Number(seconds);
}

/** A guest of `ram` bytes running bench-dirty forever, with RAM above 64 MiB filled with incompressible data. */
function dirtyGuest(ram = RAM): VirtMachine {
  const machine = new VirtMachine({ memoryBytes: ram });
  machine.loadElf(readFileSync(join(ROOT, 'guests/build/bench-dirty.elf')));
  machine.vm.memory.dma.write(FOREVER_FLAG, Uint8Array.of(1));
  const noise = new Uint8Array(2 ** 20);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  for (let at = 0x4400_0000; at < 0x4000_0000 + ram; at += noise.length) machine.vm.memory.dma.write(at, noise);
  return machine;
}

interface LiveRun {
  /** Wire bytes per second of round 0. */
  round0BytesPerSecond: number;
  progress: MigrationProgress;
  /** CPU seconds (all threads) the source's process and the destination's spent on the migration. */
  sourceCpuSeconds: number;
  targetCpuSeconds: number;
}

/** Migrates `machine` to a child destination of the same size, the guest running (or paused, `idle`) on this thread. */
async function migrateToChild(machine: VirtMachine, idle: boolean): Promise<LiveRun> {
  const target = child('migration-target.js', [String(machine.memoryBytes)]);
  const port = Number((await target.line('port')).split(' ')[1]);
  if (idle) machine.pause();
  else machine.runSlice(2_000_000); // the guest is in its dirtying loop
  const cpuBefore = process.cpuUsage();
  const channel = await connectChannel('127.0.0.1', port);
  const running = runToCompletion(machine, { sliceSize: 200_000 });
  // The idle guest's figure is its total time: a bound of 500 ms keeps a busy machine's state save from failing it.
  const source = new MigrationSource(machine, channel, { encoders: (regions) => PageWorkers.encoders(regions), ...(idle ? { maxDowntimeMs: 500 } : {}) });
  let round0 = 0;
  source.onProgress = (p) => {
    if (p.round === 1 && round0 === 0) round0 = p.bandwidth;
  };
  const progress = await source.run();
  const cpu = process.cpuUsage(cpuBefore);
  // A failed migration leaves the guest running here (forever, for bench-dirty): end it.
  if (idle || progress.status !== 'completed') machine.terminate('monitor');
  await running;
  let targetCpuSeconds = NaN;
  if (progress.status !== 'completed') {
    target.proc.kill();
    console.log(`# migration failed: ${progress.error}`);
  } else targetCpuSeconds = Number((await target.line('received')).split(' ')[4]);
  return { round0BytesPerSecond: round0, progress, sourceCpuSeconds: (cpu.user + cpu.system) / 1e6, targetCpuSeconds };
}

/**
 * Post-copy of a 1 GiB guest running bench-dirty to a destination process (the CLI, which has
 * the page thread) that has waited 2 s: from the start (connecting included) to the guest
 * running there (the source's page connection is in), and to the last page.
 */
async function postcopyToCli(): Promise<{ switchMs: number; progress: MigrationProgress }> {
  const machine = dirtyGuest(2 ** 30);
  machine.runSlice(2_000_000); // the guest is in its dirtying loop
  const destination = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--incoming', 'tcp:127.0.0.1:0', '-m', '1G']);
  destination.stdout.resume();
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    destination.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const found = /incoming migration on 127\.0\.0\.1:(\d+)/.exec(text);
      if (found) resolve(Number(found[1]));
    });
    destination.once('exit', (code) => reject(new Error(`the destination exited (${code}): ${text}`)));
  });
  // In use the destination is started first and waits; right after its own start it would still
  // be starting its threads (docs/benchmarks.md gives that figure too).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const started = performance.now();
  let switchMs = 0;
  const source = new MigrationSource(machine, await connectChannel('127.0.0.1', port), { postcopy: (pagePort) => connectChannel('127.0.0.1', pagePort) });
  source.onProgress = (p) => {
    if (p.status === 'postcopy-active' && switchMs === 0) switchMs = performance.now() - started;
  };
  const progress = await source.run();
  if (progress.status !== 'completed') console.log(`# post-copy failed: ${progress.error}`);
  destination.kill();
  return { switchMs, progress };
}

/** Tag bytes a full stream of `machine` would carry, per GiB of its RAM. */
function tagBytesPerGib(machine: VirtMachine): number {
  const memory = machine.vm.memory.migration;
  const encoder = new PageEncoder(memory, () => {});
  for (const r of memory.layout()) for (let gpa = r.base; gpa < r.base + r.size; gpa += 4096) encoder.addTags(gpa, false);
  encoder.flush();
  return encoder.stats.tagBytes / (machine.memoryBytes / 2 ** 30);
}

export const migrationBench: BenchModule = {
  name: 'migration',
  async run() {
    const raw = await rawTcpBytesPerSecond();
    report('raw_tcp_mib_per_s', raw / 2 ** 20);
    const live = await migrateToChild(dirtyGuest(), false);
    report('migration_round0_mib_per_s', live.round0BytesPerSecond / 2 ** 20);
    report('migration_vs_raw_tcp_ratio', live.round0BytesPerSecond / raw);
    report('migration_dirtying_guest_completed', live.progress.status === 'completed' ? 1 : 0);
    report('migration_dirtying_guest_downtime_ms', live.progress.downtimeMs);
    report('migration_dirtying_guest_target_downtime_ms', live.progress.targetDowntimeMs);
    report('migration_dirtying_guest_expected_downtime_ms', live.progress.expectedDowntimeMs);
    report('migration_dirtying_guest_throttle_percent', live.progress.throttlePercent);
    report('migration_dirtying_guest_rounds', live.progress.round);
    report('migration_dirtying_guest_total_ms', live.progress.totalMs);

    const idle = await migrateToChild(dirtyGuest(2 ** 30), true);
    report('migration_idle_1gib_total_ms', idle.progress.totalMs);
    report('migration_idle_1gib_vs_raw_tcp_time_ratio', idle.progress.totalMs / 1000 / (2 ** 30 / raw));
    // Machine-independent cost: CPU seconds per GiB on each end (two cores shared by both ends here).
    report('migration_idle_1gib_source_cpu_s', idle.sourceCpuSeconds);
    report('migration_idle_1gib_destination_cpu_s', idle.targetCpuSeconds);

    const postcopy = await postcopyToCli();
    report('postcopy_1gib_completed', postcopy.progress.status === 'completed' ? 1 : 0);
    report('postcopy_1gib_to_guest_running_ms', postcopy.switchMs);
    report('postcopy_1gib_switch_over_ms', postcopy.progress.downtimeMs);
    report('postcopy_1gib_total_ms', postcopy.progress.totalMs);

    const booted = new VirtMachine({ memoryBytes: RAM });
    booted.loadElf(readFileSync(join(ROOT, 'guests/build/demo.elf')));
    await runToCompletion(booted);
    report('tag_bytes_per_gib_fresh_guest', Math.round(tagBytesPerGib(booted)));

    const tagged = new VirtMachine({ memoryBytes: RAM });
    const packed = new Uint8Array(128);
    let seed = 1;
    for (const r of tagged.vm.memory.migration.layout()) {
      for (let gpa = r.base; gpa < r.base + r.size; gpa += 4096) {
        for (let i = 0; i < packed.length; i++) packed[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        tagged.vm.memory.migration.writePageTags(gpa, packed);
      }
    }
    report('tag_bytes_per_gib_random_tags', Math.round(tagBytesPerGib(tagged)));
  },
};
