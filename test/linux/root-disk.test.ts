/**
 * Linux with its root file system on `--drive` (docs/linux.md, "Root on a virtio disk"): Debian's
 * kernel boots the root-disk initramfs (scripts/build-linux-rootdisk), which loads virtio_mmio,
 * virtio_blk and ext4 with its dependencies, mounts /dev/vda read-write and switch_roots to the
 * disk's /sbin/init; that prints a line kept on the disk, counts the boot in /var/lib/boot-count
 * and powers off. On Tagvisor and on QEMU 10 with Tagvisor's device tree, twice each on the same
 * image: the console logs must match under test/linux/log-filter.ts, the run must end with PSCI
 * SYSTEM_OFF, and after each boot the host reads the guest's count back from the image (debugfs)
 * and e2fsck finds the file system clean: the guest's writes reached the disk, journal included.
 *
 * Needs the package cache (scripts/fetch-linux-packages) and e2fsprogs; skipped with the reason
 * printed, and counted in the end-of-run summary, without them. Uses the CLI in dist/.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNewc } from '../../src/node/initramfs/cpio.js';
import { findDebianKernel, TEST_CMDLINE, type DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { start } from '../migration/cli-support.js';
import { qemuAvailable, runQemu } from '../support/qemu.js';
import { noteMissingTool, sbinTool } from '../support/reference-tools.js';
import { comparableLog } from './log-filter.js';

const ROOT = join(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache/linux-rootdisk');
const IMAGE = join(CACHE, 'root.img');
const INITRAMFS = join(CACHE, 'initramfs.cpio');
const APPEND = `${TEST_CMDLINE} panic=-1 root=/dev/vda rootfstype=ext4`;
const BOOT_TIMEOUT_MS = 600_000;
/** What the initramfs loads, dependencies first (ext4's depends= and softdep crypto-crc32c). */
const MODULES = ['virtio_mmio', 'virtio_blk', 'crc32c_generic', 'jbd2', 'mbcache', 'crc16', 'ext4'];

const e2fsprogs = ['mke2fs', 'debugfs', 'e2fsck'].every((tool) => spawnSync(sbinTool(tool), ['-V'], { stdio: 'ignore' }).status === 0);

/** Builds the image and initramfs when the cache lacks them or their inputs changed; or why it cannot. */
function prepare(): DebianKernel | string {
  const kernel = findDebianKernel(ROOT);
  if (typeof kernel === 'string') return kernel;
  if (!e2fsprogs) return 'mke2fs, debugfs or e2fsck is missing (e2fsprogs; scripts/install-test-deps)';
  const build = spawnSync(join(ROOT, 'scripts/build-linux-rootdisk'), { encoding: 'utf8', timeout: 300_000 });
  if (build.status === 2) return build.stderr.trim();
  if (build.status !== 0) throw new Error(`scripts/build-linux-rootdisk failed (${build.status}): ${build.stderr}`);
  return kernel;
}

const kernel = prepare();
if (typeof kernel === 'string') console.log(`test/linux/root-disk.test.ts skipped: ${kernel}`);
noteMissingTool('linux', typeof findDebianKernel(ROOT) !== 'string');
noteMissingTool('e2fsprogs', e2fsprogs);
const withQemu = noteMissingTool('qemu', qemuAvailable());

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** The kernel's tty turns "\n" into "\r\n" (ONLCR) on both machines. */
const unixLines = (text: string): string => text.replace(/\r\n/g, '\n');

async function tagvisor(args: readonly string[]): Promise<Run> {
  const proc = start(...args);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), BOOT_TIMEOUT_MS);
  // 'close', not 'exit': the last console lines can still be in the pipe when the process exits.
  const status = await new Promise<number | null>((resolve) => proc.child.on('close', resolve));
  clearTimeout(timer);
  return { stdout: unixLines(proc.stdout()), stderr: proc.stderr(), status };
}

/** A file of an ext4 image, as the host reads it (debugfs does not replay a journal). */
function readFromImage(image: string, path: string): string {
  const r = spawnSync(sbinTool('debugfs'), ['-R', `cat ${path}`, image], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`debugfs failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * e2fsck's verdict on an image, changing nothing (-n), and the superblock's state: a file system
 * unmounted or remounted read-only says `clean` and has no journal left to replay (needs_recovery).
 */
function fsck(image: string): { status: number | null; output: string; state: string } {
  const r = spawnSync(sbinTool('e2fsck'), ['-fn', image], { encoding: 'utf8' });
  const stats = spawnSync(sbinTool('debugfs'), ['-R', 'stats', image], { encoding: 'utf8' }).stdout;
  const state = /^Filesystem state:\s+(.*)$/m.exec(stats)?.[1] ?? 'unknown';
  const recovery = /^Filesystem features:.*\bneeds_recovery\b/m.test(stats) ? ', needs_recovery' : '';
  return { status: r.status, output: r.stdout + r.stderr, state: state + recovery };
}

interface Boot {
  readonly tv: Run;
  readonly qemu: Run | null;
  /** /var/lib/boot-count on each machine's image after the boot. */
  readonly tvCount: string;
  readonly qemuCount: string | null;
  readonly tvFsck: ReturnType<typeof fsck>;
  readonly qemuFsck: ReturnType<typeof fsck> | null;
}

describe.skipIf(typeof kernel === 'string')("Linux's root file system on --drive: ext4 on virtio-blk (docs/linux.md)", () => {
  let dir = '';
  const boots: Boot[] = [];

  beforeAll(async () => {
    const k = kernel as DebianKernel;
    dir = mkdtempSync(join(tmpdir(), 'tagvisor-rootdisk-'));
    const tvImage = join(dir, 'tagvisor.img');
    const qemuImage = join(dir, 'qemu.img');
    copyFileSync(IMAGE, tvImage);
    copyFileSync(IMAGE, qemuImage);
    const boot = ['run', '-m', '256M', '--no-reboot', '--kernel', k.image, '--initrd', INITRAMFS, '--append', APPEND, '--drive', tvImage];
    const dtb = join(dir, 'tagvisor.dtb');
    const dump = await tagvisor([...boot, '--dump-dtb', dtb]);
    if (dump.status !== 0) throw new Error(`--dump-dtb failed: ${dump.stderr}`);
    const qemuArgs = ['-no-reboot', '-initrd', INITRAMFS, '-append', APPEND, '-dtb', dtb, '-drive', `file=${qemuImage},if=none,format=raw,id=d0`, '-device', 'virtio-blk-device,drive=d0'];
    // Each machine boots its copy twice; the second boot finds what the first wrote.
    for (let i = 0; i < 2; i++) {
      const [tv, qemu] = await Promise.all([
        tagvisor([...boot, '--stats']),
        withQemu ? runQemu(k.image, { timeoutMs: BOOT_TIMEOUT_MS, extraArgs: qemuArgs }) : null,
      ]);
      boots.push({
        tv,
        qemu: qemu ? { stdout: unixLines(qemu.stdout.toString('latin1')), stderr: qemu.stderr.toString('latin1'), status: qemu.status } : null,
        tvCount: readFromImage(tvImage, '/var/lib/boot-count'),
        qemuCount: qemu ? readFromImage(qemuImage, '/var/lib/boot-count') : null,
        tvFsck: fsck(tvImage),
        qemuFsck: qemu ? fsck(qemuImage) : null,
      });
      const out = join(ROOT, 'test-output', 'linux');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, `rootdisk-${i + 1}-tagvisor.log`), tv.stdout);
      if (qemu) writeFileSync(join(out, `rootdisk-${i + 1}-qemu.log`), qemu.stdout);
      console.log(`Linux root-disk boot ${i + 1} on Tagvisor: ${tv.stderr.split('\n').filter((l) => /^(instructions|seconds|mips):/.test(l)).join(', ')}`);
    }
  }, BOOT_TIMEOUT_MS * 4);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a second build, elsewhere and at another time, gives the same image and initramfs byte for byte', () => {
    const again = join(dir, 'rebuilt');
    const build = spawnSync(join(ROOT, 'scripts/build-linux-rootdisk'), [again], { encoding: 'utf8', timeout: 300_000 });
    expect(build.status, build.stderr).toBe(0);
    for (const name of ['root.img', 'initramfs.cpio']) expect(readFileSync(join(again, name)).equals(readFileSync(join(CACHE, name))), name).toBe(true);
  });

  it('the initramfs carries the modules with their dependencies first, and the fresh image holds no boot count', () => {
    const files = new Map(readNewc(readFileSync(INITRAMFS)).map((r) => [r.name, r.data]));
    expect(new TextDecoder().decode(files.get('lib/modules/load-order')).trim().split('\n')).toEqual(MODULES);
    for (const name of MODULES) expect(files.get(`lib/modules/${name}.ko`)?.length, name).toBeGreaterThan(0);
    expect(readFromImage(IMAGE, '/var/lib/boot-count')).toBe('');
    expect(fsck(IMAGE)).toMatchObject({ status: 0, state: 'clean' });
  });

  const diskLine = (): string => `rootdisk: ${readFileSync(join(ROOT, 'guests/linux/rootdisk/disk/etc/rootdisk'), 'utf8').trim()}`;

  for (const n of [1, 2]) {
    it(`boot ${n} on Tagvisor: the disk's /sbin/init runs from /dev/vda, counts boot ${n} onto the disk, and powers off (PSCI SYSTEM_OFF)`, () => {
      const { tv, tvCount, tvFsck } = boots[n - 1]!;
      expect(tv.status, tv.stderr).toBe(0);
      expect(tv.stderr).toMatch(/^exit: PSCI SYSTEM_OFF$/m);
      const lines = tv.stdout.split('\n').map((l) => l.replace(/^\[\s*\d+\.\d+\] /, ''));
      for (const want of [
        `initramfs: loading ${MODULES.join(' ')}`,
        'EXT4-fs (vda): mounted filesystem with ordered data mode. Quota mode: none.',
        'initramfs: mounted /dev/vda (ext4, rw), switching to its /sbin/init',
        diskLine(),
        `rootdisk: boot ${n} of this disk, / is /dev/vda (ext4, rw,relatime)`,
        'EXT4-fs (vda): re-mounted. Quota mode: none.',
        'rootdisk: powering off',
        'reboot: Power down',
      ]) expect(lines).toContain(want);
      expect(lines.filter((l) => /failed|cannot|error/i.test(l) && /^(initramfs|rootdisk|EXT4-fs)/.test(l))).toEqual([]);
      // The guest's write is on the host's file, and its remount read-only left the file system clean.
      expect(tvCount).toBe(`${n}\n`);
      expect(tvFsck.status, tvFsck.output).toBe(0);
      expect(tvFsck.state).toBe('clean');
    });

    it.runIf(withQemu)(`boot ${n} on QEMU with Tagvisor's device tree: the same lines, count and clean file system; the logs match`, () => {
      const { tv, qemu, qemuCount, qemuFsck } = boots[n - 1]!;
      expect(qemu!.status, qemu!.stderr).toBe(0);
      expect(qemu!.stdout).toContain(`rootdisk: boot ${n} of this disk, / is /dev/vda (ext4, rw,relatime)\n`);
      expect(qemuCount).toBe(`${n}\n`);
      expect(qemuFsck!.status, qemuFsck!.output).toBe(0);
      expect(qemuFsck!.state).toBe('clean');
      const a = comparableLog(tv.stdout);
      const b = comparableLog(qemu!.stdout);
      expect(a.lines).toEqual(b.lines);
      expect(a.unordered).toEqual(b.unordered);
      expect(a.features.filter((f) => !b.features.includes(f)), 'CPU features Tagvisor reports and QEMU -cpu max does not').toEqual([]);
    });
  }
});
