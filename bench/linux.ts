/**
 * Linux boot benchmark (docs/benchmarks.md, "linux"): Debian's arm64 kernel with the test
 * initramfs (docs/linux.md), from reset to the first userspace line (the /init banner), on
 * Tagvisor and on QEMU in the same run.
 *
 * Tagvisor runs in this process: instructions are counted at the end of the 1 M-instruction
 * slice in which the banner appeared. QEMU runs as a process (`-cpu max`, TCG) timed from spawn
 * to the banner on its stdout, then killed; Debian's QEMU ships no TCG plugin to count its
 * instructions, so there is no QEMU instruction figure.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDisk } from '../src/node/file-disk.js';
import { buildTestInitramfs, findDebianKernel, TEST_CMDLINE, testInit, type DebianKernel } from '../src/node/initramfs/linux-test.js';
import { prepareKernelBoot, type PreparedBoot } from '../src/vmm/boot/kernel-boot.js';
import { VirtMachine } from '../src/vmm/index.js';
import type { BenchModule } from './main.js';
import { report } from './report.js';

const ROOT = join(import.meta.dirname, '../..');
const BANNER = 'init: Tagvisor test init, pid 1';
const SLICE = 1_000_000;
const LIMIT = 3_000_000_000;
const QEMU_TIMEOUT_MS = 300_000;

interface BannerRun {
  readonly seconds: number;
  readonly instructions?: number;
}

/** A Tagvisor machine with the kernel loaded, and the device tree it generated. */
async function prepareTagvisor(kernel: DebianKernel, initrd: Uint8Array, drive: FileDisk): Promise<{ machine: VirtMachine; boot: PreparedBoot }> {
  const machine = new VirtMachine({ drives: [drive] });
  const boot = await prepareKernelBoot(machine.model(), readFileSync(kernel.image), { initrd, bootargs: TEST_CMDLINE });
  return { machine, boot };
}

async function tagvisorToBanner(machine: VirtMachine, boot: PreparedBoot): Promise<BannerRun> {
  let text = '';
  machine.events.on('output', (bytes) => {
    text += Buffer.from(bytes).toString('latin1');
  });
  const start = performance.now();
  machine.loadBootImage(boot.image);
  // As the CLI's run loop (node/run-guest.ts) does: yield between slices, so the JIT's background compiles land.
  machine.vcpu.cpu.backgroundCompile = true;
  while (!text.includes(BANNER)) {
    if (machine.state !== 'running' || machine.instructions > LIMIT) throw new Error(`Tagvisor stopped before the /init banner (${machine.state}, ${machine.instructions} instructions):\n${text.slice(-2000)}`);
    machine.runSlice(SLICE);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { seconds: (performance.now() - start) / 1000, instructions: machine.instructions };
}

function qemuToBanner(kernel: DebianKernel, initrd: string, dtb: string, disk: string): Promise<BannerRun> {
  const args = [
    '-M', 'virt,mte=on,gic-version=3', '-cpu', 'max', '-m', '256', '-nographic',
    '-global', 'virtio-mmio.force-legacy=false',
    '-kernel', kernel.image, '-initrd', initrd, '-append', TEST_CMDLINE, '-dtb', dtb,
    '-drive', `file=${disk},if=none,format=raw,id=d0`, '-device', 'virtio-blk-device,drive=d0',
  ];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    let done = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), QEMU_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!done && text.includes(BANNER)) {
        done = true;
        resolve({ seconds: (performance.now() - start) / 1000 });
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`QEMU ended (status ${code}) before the /init banner:\n${text.slice(-2000)}`));
    });
  });
}

function qemuInstalled(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('qemu-system-aarch64', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

export const linuxBench: BenchModule = {
  name: 'linux',
  async run() {
    const kernel = findDebianKernel(ROOT);
    const init = testInit(ROOT);
    if (typeof kernel === 'string' || typeof init === 'string') {
      console.log(`# skipped: ${typeof kernel === 'string' ? kernel : init}`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-bench-linux-'));
    try {
      const initrd = buildTestInitramfs(init, kernel);
      const initrdPath = join(dir, 'initrd.cpio');
      writeFileSync(initrdPath, initrd);
      for (const name of ['tagvisor.img', 'qemu.img']) writeFileSync(join(dir, name), new Uint8Array(1 << 20));
      const drive = FileDisk.open(join(dir, 'tagvisor.img'));
      try {
        // QEMU boots with Tagvisor's device tree, so both kernels probe the same devices.
        const { machine, boot } = await prepareTagvisor(kernel, initrd, drive);
        const dtb = join(dir, 'tagvisor.dtb');
        writeFileSync(dtb, boot.dtb!);
        // One boot each (a boot takes tens of seconds); QEMU first, so Tagvisor's run is not the
        // one that pays for a cold page cache.
        const qemu = (await qemuInstalled()) ? await qemuToBanner(kernel, initrdPath, dtb, join(dir, 'qemu.img')) : null;
        if (!qemu) console.log('# qemu-system-aarch64 not installed: Tagvisor figures only');
        const tv = await tagvisorToBanner(machine, boot);
        report('linux_tagvisor_insns_to_init', tv.instructions!);
        report('linux_tagvisor_seconds_to_init', tv.seconds);
        report('linux_tagvisor_mips_to_init', tv.instructions! / tv.seconds / 1e6);
        if (qemu) {
          report('linux_qemu_seconds_to_init', qemu.seconds);
          report('linux_tagvisor_vs_qemu_time_ratio', tv.seconds / qemu.seconds);
        }
      } finally {
        drive.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
