/**
 * Runs of Debian's kernel with the MTE initramfs (scripts/build-linux-mte-initramfs; docs/linux.md,
 * "The MTE initramfs") on Tagvisor, through two Tagvisor processes and a live migration, and on
 * QEMU; and the lines of their console logs that carry results.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { findDebianKernel, type DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { listening, ROOT, start, until, type Proc } from '../migration/cli-support.js';
import { runQemu } from '../support/qemu.js';

export const MTE_INITRAMFS = join(ROOT, '.cache/linux-mte/initramfs.cpio');
/** Guest RAM in MiB unless a run asks for more (the boot test's size). */
export const MEMORY_MIB = 256;

/**
 * Builds the initramfs when the cache lacks it or its inputs changed (a no-op otherwise). Returns
 * the kernel, or why these tests cannot run here (no package cache, no cross compiler); a build
 * that fails otherwise throws.
 */
export function prepareMteInitramfs(): DebianKernel | string {
  const kernel = findDebianKernel(ROOT);
  if (typeof kernel === 'string') return kernel;
  const build = spawnSync(join(ROOT, 'scripts/build-linux-mte-initramfs'), { encoding: 'utf8', timeout: 600_000 });
  if (build.status === 2) return build.stderr.trim();
  if (build.status !== 0 || !existsSync(MTE_INITRAMFS)) throw new Error(`scripts/build-linux-mte-initramfs failed (${build.status}): ${build.stderr}`);
  return kernel;
}

/** The command line: the boot test's (docs/linux.md), quiet, and what /init runs. */
export function mteAppend(runs: string, tests?: readonly string[]): string {
  return `console=ttyAMA0 nokaslr panic=-1 quiet tv_run=${runs}${tests ? ` tv_tests=${tests.join(',')}` : ''}`;
}

export interface Finished {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** Tag-check faults the guest took, from --stats (a destination carries the count it received). */
export const tagCheckFaultsOf = (run: Finished): number => Number(/^tag_check_faults: (\d+)$/m.exec(run.stderr)?.[1] ?? NaN);

/** Instructions the process executed, from --stats (a destination counts from its arrival). */
export const instructionsOf = (run: Finished): number => Number(/^instructions: (\d+)$/m.exec(run.stderr)?.[1] ?? NaN);

/** Instructions the guest executed over all the processes it ran on. */
export const totalInstructions = (runs: readonly Finished[]): number => runs.reduce((sum, run) => sum + instructionsOf(run), 0);

async function finish(proc: Proc, ms: number): Promise<Finished> {
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), ms);
  const status = await proc.exit;
  clearTimeout(timer);
  return { stdout: proc.stdout(), stderr: proc.stderr(), status };
}

const sizeArgs = (memoryMiB: number): string[] => ['-m', `${memoryMiB}M`, '--no-reboot', '--stats'];
const bootArgs = (kernel: DebianKernel, append: string, memoryMiB: number): string[] =>
  ['run', ...sizeArgs(memoryMiB), '--kernel', kernel.image, '--initrd', MTE_INITRAMFS, '--append', append];

/** One Tagvisor process from boot to poweroff. */
export function runTagvisor(kernel: DebianKernel, append: string, ms: number, memoryMiB = MEMORY_MIB): Promise<Finished> {
  return finish(start(...bootArgs(kernel, append, memoryMiB)), ms);
}

/** tagged-heap's tagged_free in the build's symbol copy: a breakpoint there has the block's tagged pointer in x0. */
export function taggedFreeAddress(): bigint {
  const nm = spawnSync('aarch64-linux-gnu-nm', [join(ROOT, '.cache/linux-mte/bin/tagged-heap.debug')], { encoding: 'utf8' });
  const match = /^([0-9a-f]+) t tagged_free\b/m.exec(nm.stdout ?? '');
  if (!match) throw new Error(`no tagged_free in tagged-heap.debug: ${nm.stderr}`);
  return BigInt(`0x${match[1]}`);
}

/**
 * One Tagvisor process from boot to poweroff with gdb-multiarch attached (batch mode, no
 * executable: the guest is the whole machine), running `commands` after `target remote`.
 */
export async function runTagvisorWithGdb(kernel: DebianKernel, append: string, commands: readonly string[], ms: number): Promise<{ run: Finished; gdb: Finished }> {
  const proc = start(...bootArgs(kernel, append, MEMORY_MIB), '--gdb', 'tcp:127.0.0.1:0');
  const port = await listening(proc, /gdb stub listening on tcp:127\.0\.0\.1:(\d+)/);
  // A busy machine answers slower than gdb's default 2 s, which desynchronises the session.
  const gdb = spawn('gdb-multiarch', ['-nx', '-q', '-batch', ...['set confirm off', 'set pagination off', 'set remotetimeout 120', `target remote 127.0.0.1:${port}`, ...commands].flatMap((c) => ['-ex', c])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  gdb.stdout.on('data', (b: Buffer) => (stdout += b.toString('latin1')));
  gdb.stderr.on('data', (b: Buffer) => (stderr += b.toString('latin1')));
  const gdbExit = new Promise<number | null>((resolve) => gdb.on('close', resolve));
  const run = await finish(proc, ms);
  const timer = setTimeout(() => gdb.kill('SIGKILL'), 30_000);
  const status = await gdbExit;
  clearTimeout(timer);
  return { run, gdb: { stdout, stderr, status } };
}

export interface MigratedRun {
  /** The console of every process in turn: the source's up to the first hop, then the next one's... */
  readonly stdout: string;
  readonly source: Finished;
  readonly destination: Finished;
  /** Every process in order: the source, each destination. */
  readonly processes: Finished[];
  /** What `tagvisor migrate` printed (its summary), per migration. */
  readonly reports: string[];
}

/**
 * Where the guest moves to a new tagvisor process: once the console shows `at` (text /init or a
 * test prints) or `at` milliseconds after the current process started; by a live migration
 * (`tagvisor migrate`) or by a snapshot (the monitor's stop and snapshot-save, quit, then
 * `run --restore` in a new process).
 */
export interface Hop {
  readonly at: string | number;
  readonly by: 'migrate' | 'snapshot';
}

const monitorOf = (proc: Proc): Promise<number> => listening(proc, /monitor listening on tcp:127\.0\.0\.1:(\d+)/);
const nextArgs = (memoryMiB: number): string[] => [...sizeArgs(memoryMiB), '--monitor', 'tcp:127.0.0.1:0'];

async function migrate(from: Proc, memoryMiB: number, deadline: number, reports: string[]): Promise<Proc> {
  const monitor = await monitorOf(from);
  const next = start('run', '--incoming', 'tcp:127.0.0.1:0', ...nextArgs(memoryMiB));
  const port = await listening(next, /incoming migration on 127\.0\.0\.1:(\d+)/);
  const migrated = await finish(start('migrate', '--monitor', `tcp:127.0.0.1:${monitor}`, '--to', `tcp:127.0.0.1:${port}`, '--max-downtime', '1000'), deadline - Date.now());
  if (migrated.status !== 0) {
    // The source's own account says why it closed the monitor; its log is otherwise lost.
    await Promise.race([from.exit, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    throw new Error(`tagvisor migrate failed (${migrated.status}): ${migrated.stderr}\nsource stderr: ${from.stderr().slice(-4000)}\ndestination stderr: ${next.stderr().slice(-4000)}`);
  }
  reports.push(migrated.stdout + migrated.stderr);
  return next;
}

async function snapshot(from: Proc, memoryMiB: number, file: string): Promise<Proc> {
  const client = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port: await monitorOf(from) });
  try {
    await client.execute('stop');
    await client.execute('snapshot-save', { file });
    // quit ends the process, which may close the connection before its reply arrives.
    await client.execute('quit').catch((error: unknown) => {
      if (!(error instanceof Error && error.message.includes('closed the connection'))) throw error;
    });
  } finally {
    client.close();
  }
  return start('run', '--restore', file, ...nextArgs(memoryMiB));
}

/**
 * Boots on one tagvisor process and moves the running guest to a new process at each of `hops`,
 * so it ends on the last one. Snapshots go to files in `dir`.
 */
export async function runMigrated(kernel: DebianKernel, append: string, hops: readonly Hop[], ms: number, dir = tmpdir(), memoryMiB = MEMORY_MIB): Promise<MigratedRun> {
  const deadline = Date.now() + ms;
  let current = start(...bootArgs(kernel, append, memoryMiB), '--monitor', 'tcp:127.0.0.1:0');
  const finished: Finished[] = [];
  const reports: string[] = [];
  try {
    for (const [i, hop] of hops.entries()) {
      const consoleSoFar = (): string => finished.map((f) => f.stdout).join('') + current.stdout();
      if (typeof hop.at === 'string') await until(() => consoleSoFar().includes(hop.at as string), `"${hop.at}" on the console`, deadline - Date.now());
      else await new Promise((resolve) => setTimeout(resolve, hop.at as number));
      const next = hop.by === 'migrate' ? await migrate(current, memoryMiB, deadline, reports) : await snapshot(current, memoryMiB, join(dir, `linux-mte-${process.pid}-${i}.snapshot`));
      finished.push(await finish(current, deadline - Date.now()));
      current = next;
    }
    finished.push(await finish(current, deadline - Date.now()));
  } finally {
    current.child.kill('SIGKILL');
  }
  return { stdout: finished.map((f) => f.stdout).join(''), source: finished[0]!, destination: finished.at(-1)!, processes: finished, reports };
}

/** QEMU 10 booting the same Image and initramfs (its own device tree: the tests compare results, not boot logs). */
export async function runQemuMte(kernel: DebianKernel, append: string, ms: number, memoryMiB = MEMORY_MIB): Promise<Finished> {
  const run = await runQemu(kernel.image, { memoryMiB, timeoutMs: ms, extraArgs: ['-no-reboot', '-initrd', MTE_INITRAMFS, '-append', append] });
  return { stdout: run.stdout.toString('latin1'), stderr: run.stderr.toString('latin1'), status: run.status };
}

/**
 * The result lines of a console log: the kselftests' TAP output and /init's `kselftest:` lines
 * (without the uptime, which is each machine's own clock), "\r\n" read as "\n".
 */
export function kselftestResults(log: string): string[] {
  return log
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((line) => /^(TAP version |1\.\.|ok |not ok |# |kselftest: )/.test(line))
    .map((line) => line.replace(/ \(uptime [0-9.]+ s\)$/, ''));
}
