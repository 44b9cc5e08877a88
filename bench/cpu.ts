/**
 * CPU benchmark: an integer workload guest and an MTE-heavy guest, run on Tagvisor and on QEMU
 * (`qemu-system-aarch64 -M virt -cpu max`, when installed) side by side in the same run.
 *
 * Every case runs as a fresh process (Tagvisor's CLI, QEMU), interleaved round by round, and the
 * fastest of the rounds counts; the wall-time ratios therefore include each emulator's start-up,
 * as a user sees it. Guest MIPS comes from Tagvisor's own --stats (run loop only).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchModule } from './main.js';
import { report } from './report.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const GUEST = (name: string) => join(ROOT, 'guests/build', `${name}.elf`);
const ROUNDS = 3;

interface Run {
  readonly seconds: number;
  readonly mips?: number;
  readonly stdout: string;
}

function timed(command: string, args: string[]): Run & { status: number | null; stderr: string } {
  const start = performance.now();
  const result = spawnSync(command, args, { encoding: 'latin1', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = (performance.now() - start) / 1000;
  if (result.error) throw result.error;
  return { seconds, stdout: result.stdout, stderr: result.stderr, status: result.status };
}

function tagvisor(guest: string, mte: boolean): Run {
  const run = timed(process.execPath, [CLI, 'run', '--stats', '--mte', mte ? 'on' : 'off', GUEST(guest)]);
  if (run.status !== 0) throw new Error(`tagvisor ${guest} exited ${run.status}: ${run.stderr}`);
  const mips = Number(/^mips: ([\d.]+)$/m.exec(run.stderr)?.[1]);
  return { seconds: run.seconds, mips, stdout: run.stdout };
}

function qemuAvailable(): boolean {
  const result = spawnSync('qemu-system-aarch64', ['--version'], { encoding: 'latin1' });
  const major = Number(/version (\d+)\./.exec(result.stdout ?? '')?.[1]);
  return result.status === 0 && major >= 8;
}

function qemu(guest: string, mte: boolean): Run {
  const run = timed('qemu-system-aarch64', ['-M', `virt,mte=${mte ? 'on' : 'off'}`, '-cpu', 'max', '-m', '256', '-nographic', '-semihosting', '-kernel', GUEST(guest)]);
  if (run.status !== 0) throw new Error(`qemu ${guest} exited ${run.status}`);
  return { seconds: run.seconds, stdout: run.stdout };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

export const cpuBench: BenchModule = {
  name: 'cpu',
  async run() {
    const withQemu = qemuAvailable();
    if (!withQemu) console.log('# qemu-system-aarch64 >= 8 not installed: Tagvisor figures only');
    const cases: Record<string, () => Run> = {
      tv_int: () => tagvisor('bench-int', true),
      tv_mte_on: () => tagvisor('bench-mte', true),
      tv_mte_off: () => tagvisor('bench-mte', false),
    };
    if (withQemu) {
      cases.qemu_int = () => qemu('bench-int', true);
      cases.qemu_mte_on = () => qemu('bench-mte', true);
      cases.qemu_mte_off = () => qemu('bench-mte', false);
    }
    const runs: Record<string, Run[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const names = Object.keys(cases);
      if (round % 2 === 1) names.reverse();
      for (const name of names) (runs[name] ??= []).push(cases[name]!());
    }
    const r = (name: string): Run => best(runs[name]!);
    if (withQemu && r('tv_int').stdout !== r('qemu_int').stdout) throw new Error('bench-int: Tagvisor and QEMU disagree on the output');
    if (withQemu && r('tv_mte_on').stdout !== r('qemu_mte_on').stdout) throw new Error('bench-mte: Tagvisor and QEMU disagree on the output');
    report('tagvisor_int_guest_mips', r('tv_int').mips!);
    report('tagvisor_mte_guest_mips', r('tv_mte_on').mips!);
    report('tagvisor_int_guest_seconds', r('tv_int').seconds);
    report('tagvisor_mte_guest_seconds', r('tv_mte_on').seconds);
    report('tagvisor_mte_on_off_time_ratio', r('tv_mte_on').seconds / r('tv_mte_off').seconds);
    if (withQemu) {
      report('qemu_int_guest_seconds', r('qemu_int').seconds);
      report('qemu_mte_guest_seconds', r('qemu_mte_on').seconds);
      report('tagvisor_vs_qemu_time_ratio_int', r('tv_int').seconds / r('qemu_int').seconds);
      report('tagvisor_vs_qemu_time_ratio_mte', r('tv_mte_on').seconds / r('qemu_mte_on').seconds);
      report('qemu_mte_on_off_time_ratio', r('qemu_mte_on').seconds / r('qemu_mte_off').seconds);
    }
  },
};
