/**
 * CPU benchmark: an integer workload guest and an MTE-heavy guest, run on Tagvisor's two engines
 * (`--cpu-engine interp` and `jit`) and on QEMU (`qemu-system-aarch64 -M virt -cpu max`, when
 * installed) side by side in the same run.
 *
 * The guests repeat their workload `bench_repeat` times (a word the benchmark patches into the
 * image, guests/tests/bench-int.c) so that QEMU runs for at least about 2 s and start-up is a
 * small part of every figure; start-up itself is measured separately on a guest that exits at
 * once (exit-code.elf). Every case runs as a fresh process, interleaved round by round, and the
 * fastest round counts; wall times include start-up and compile time, as a user sees them.
 * TAGVISOR_BENCH_ROUNDS (default 2), TAGVISOR_BENCH_REPEAT_INT (default 12) and
 * TAGVISOR_BENCH_REPEAT_MTE (default 2) tune the run (QEMU needs ~0.2 s of CPU per bench-int
 * repetition and ~1.2 s per bench-mte one).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchModule } from './main.js';
import { report } from './report.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const GUEST = (name: string) => join(ROOT, 'guests/build', `${name}.elf`);
const ROUNDS = Number(process.env.TAGVISOR_BENCH_ROUNDS ?? 2);
const REPEAT_INT = Number(process.env.TAGVISOR_BENCH_REPEAT_INT ?? 12);
const REPEAT_MTE = Number(process.env.TAGVISOR_BENCH_REPEAT_MTE ?? 2);
/** The marker word before the repeat count in the bench guests' data ("REPT", little-endian). */
const REPEAT_MARKER = [0x52, 0x45, 0x50, 0x54, 0x01, 0x00, 0x00, 0x00];

interface Run {
  readonly seconds: number;
  /** CPU time of the process (user + system), when GNU time is installed. */
  readonly cpuSeconds?: number;
  readonly mips?: number;
  readonly instructions?: number;
  readonly stdout: string;
}

/** A copy of a bench guest that runs its workload `repeat` times. */
function repeated(guest: string, repeat: number, dir: string): string {
  const image = readFileSync(GUEST(guest));
  const at = image.indexOf(Buffer.from(REPEAT_MARKER));
  if (at < 0 || image.indexOf(Buffer.from(REPEAT_MARKER), at + 1) >= 0) throw new Error(`${guest}: no single bench_repeat marker in the image`);
  image.writeUInt32LE(repeat, at + 4);
  const path = join(dir, `${guest}-x${repeat}.elf`);
  writeFileSync(path, image);
  return path;
}

/** GNU time, when installed, reports the child's CPU time (user + system) on its last stderr line. */
const GNU_TIME = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { encoding: 'latin1' }).status === 0;

function timed(command: string, args: string[]): Run & { status: number | null; stderr: string } {
  const start = performance.now();
  const [file, argv] = GNU_TIME ? ['/usr/bin/time', ['-f', 'CPU_SECONDS %U %S', command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: 'latin1', timeout: 900_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = (performance.now() - start) / 1000;
  if (result.error) throw result.error;
  const cpu = /CPU_SECONDS ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr);
  const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined;
  return { seconds, ...(cpuSeconds === undefined ? {} : { cpuSeconds }), stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** exit-code.elf, the start-up case, ends with status 42. */
const statusOf = (image: string): number => (image.endsWith('exit-code.elf') ? 42 : 0);

function tagvisor(image: string, mte: boolean, engine: 'interp' | 'jit'): Run {
  const run = timed(process.execPath, [CLI, 'run', '--stats', '--cpu-engine', engine, '--mte', mte ? 'on' : 'off', image]);
  if (run.status !== statusOf(image)) throw new Error(`tagvisor ${image} (${engine}) exited ${run.status}: ${run.stderr}`);
  const mips = Number(/^mips: ([\d.]+)$/m.exec(run.stderr)?.[1]);
  const instructions = Number(/^instructions: (\d+)$/m.exec(run.stderr)?.[1]);
  return { ...run, mips, instructions };
}

function qemuAvailable(): boolean {
  const result = spawnSync('qemu-system-aarch64', ['--version'], { encoding: 'latin1' });
  const major = Number(/version (\d+)\./.exec(result.stdout ?? '')?.[1]);
  return result.status === 0 && major >= 8;
}

function qemu(image: string, mte: boolean): Run {
  const run = timed('qemu-system-aarch64', ['-M', `virt,mte=${mte ? 'on' : 'off'}`, '-cpu', 'max', '-m', '256', '-nographic', '-semihosting', '-kernel', image]);
  if (run.status !== statusOf(image)) throw new Error(`qemu ${image} exited ${run.status}`);
  return run;
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

export const cpuBench: BenchModule = {
  name: 'cpu',
  async run() {
    const withQemu = qemuAvailable();
    if (!withQemu) console.log('# qemu-system-aarch64 >= 8 not installed: Tagvisor figures only');
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-bench-'));
    try {
      const int = repeated('bench-int', REPEAT_INT, dir);
      const mte = repeated('bench-mte', REPEAT_MTE, dir);
      const empty = GUEST('exit-code');
      const cases: Record<string, () => Run> = {
        startup_tv: () => tagvisor(empty, true, 'jit'),
        interp_int: () => tagvisor(int, true, 'interp'),
        jit_int: () => tagvisor(int, true, 'jit'),
        interp_mte_on: () => tagvisor(mte, true, 'interp'),
        jit_mte_on: () => tagvisor(mte, true, 'jit'),
        interp_mte_off: () => tagvisor(mte, false, 'interp'),
        jit_mte_off: () => tagvisor(mte, false, 'jit'),
      };
      if (withQemu) {
        cases.startup_qemu = () => qemu(empty, true);
        cases.qemu_int = () => qemu(int, true);
        cases.qemu_mte_on = () => qemu(mte, true);
        cases.qemu_mte_off = () => qemu(mte, false);
      }
      const runs: Record<string, Run[]> = {};
      for (let round = 0; round < ROUNDS; round++) {
        const names = Object.keys(cases);
        if (round % 2 === 1) names.reverse();
        for (const name of names) (runs[name] ??= []).push(cases[name]!());
      }
      const r = (name: string): Run => best(runs[name]!);
      const s = (name: string): number => r(name).seconds;
      for (const [a, b] of [['interp_int', 'jit_int'], ['interp_mte_on', 'jit_mte_on']]) {
        if (r(a).stdout !== r(b).stdout || r(a).instructions !== r(b).instructions) throw new Error(`${a} and ${b} disagree on the output or the instruction count`);
      }
      if (withQemu && r('jit_int').stdout !== r('qemu_int').stdout) throw new Error('bench-int: Tagvisor and QEMU disagree on the output');
      if (withQemu && r('jit_mte_on').stdout !== r('qemu_mte_on').stdout) throw new Error('bench-mte: Tagvisor and QEMU disagree on the output');
      report('cpu_bench_int_repeat', REPEAT_INT);
      report('cpu_bench_mte_repeat', REPEAT_MTE);
      report('tagvisor_int_guest_instructions', r('jit_int').instructions!);
      report('tagvisor_mte_guest_instructions', r('jit_mte_on').instructions!);
      report('tagvisor_startup_seconds', s('startup_tv'));
      for (const engine of ['interp', 'jit']) {
        report(`tagvisor_${engine}_int_guest_mips`, r(`${engine}_int`).mips!);
        report(`tagvisor_${engine}_mte_guest_mips`, r(`${engine}_mte_on`).mips!);
        report(`tagvisor_${engine}_int_guest_seconds`, s(`${engine}_int`));
        report(`tagvisor_${engine}_mte_guest_seconds`, s(`${engine}_mte_on`));
        report(`tagvisor_${engine}_mte_on_off_time_ratio`, s(`${engine}_mte_on`) / s(`${engine}_mte_off`));
      }
      report('tagvisor_jit_vs_interp_time_ratio_int', s('jit_int') / s('interp_int'));
      report('tagvisor_jit_vs_interp_time_ratio_mte', s('jit_mte_on') / s('interp_mte_on'));
      if (withQemu) {
        report('qemu_startup_seconds', s('startup_qemu'));
        report('qemu_int_guest_seconds', s('qemu_int'));
        report('qemu_mte_guest_seconds', s('qemu_mte_on'));
        report('qemu_mte_on_off_time_ratio', s('qemu_mte_on') / s('qemu_mte_off'));
        for (const engine of ['interp', 'jit']) {
          report(`tagvisor_${engine}_vs_qemu_time_ratio_int`, s(`${engine}_int`) / s('qemu_int'));
          report(`tagvisor_${engine}_vs_qemu_time_ratio_mte`, s(`${engine}_mte_on`) / s('qemu_mte_on'));
        }
        // On a busy machine wall time also measures waiting for a core; CPU time does not.
        const c = (name: string): number | undefined => r(name).cpuSeconds;
        for (const [figure, a, b] of [
          ['tagvisor_jit_vs_qemu_cpu_time_ratio_int', 'jit_int', 'qemu_int'],
          ['tagvisor_jit_vs_qemu_cpu_time_ratio_mte', 'jit_mte_on', 'qemu_mte_on'],
          ['tagvisor_interp_vs_qemu_cpu_time_ratio_int', 'interp_int', 'qemu_int'],
          ['tagvisor_interp_vs_qemu_cpu_time_ratio_mte', 'interp_mte_on', 'qemu_mte_on'],
        ] as const) {
          const ca = c(a);
          const cb = c(b);
          if (ca !== undefined && cb !== undefined) report(figure, ca / cb);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
