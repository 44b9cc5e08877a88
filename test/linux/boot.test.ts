/**
 * Debian's arm64 kernel boots on Tagvisor to the test /init, and its console log matches QEMU's
 * booting the same Image, initramfs and (Tagvisor's) device tree (docs/linux.md). Tagvisor boots
 * it on the default engine (the JIT); and both engines (docs/jit.md: the interpreter is the
 * reference) boot it once more without the virtio console, whose host line arrives at a wall-clock
 * moment (the guest idles to timer deadlines while it waits, so the instruction count depends on
 * it): there, the same console log and the same instruction count.
 *
 * Needs the package cache (scripts/fetch-linux-packages; CI fills it) and guests/linux/build/init;
 * skipped with the reason printed when either is missing. Uses the CLI in dist/ (npm run build).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestInitramfs, findDebianKernel, TEST_CMDLINE, testInit, type DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { qemuAvailable, runQemu, type QemuRunResult } from '../support/qemu.js';
import { noteMissingTool } from '../support/reference-tools.js';
import { comparableLog, type ComparableLog } from './log-filter.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const APPEND = TEST_CMDLINE;
const BOOT_TIMEOUT_MS = 600_000;

const kernel = findDebianKernel(ROOT);
const init = testInit(ROOT);
const skipReason = typeof kernel === 'string' ? kernel : typeof init === 'string' ? init : null;
if (skipReason) console.log(`test/linux/boot.test.ts skipped: ${skipReason}`);
noteMissingTool('linux', skipReason === null); // accounted in the end-of-run summary (test/global-setup.ts)
const withQemu = noteMissingTool('qemu', qemuAvailable());

/** The disk: a text in sector 0, then a pattern, 1 MiB in all. */
function diskImage(): Uint8Array {
  const disk = new Uint8Array(1 << 20);
  disk.set(new TextEncoder().encode('TAGVISOR LINUX DISK 0\n'));
  for (let i = 64; i < 512; i++) disk[i] = (i * 7) & 0xff;
  return disk;
}

function fnv1a32(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** /init's line to the host on hvc0, and the host's line to /init (which the tty echoes back). */
const HVC_LINE = 'init: hello on hvc0\n';
const HOST_LINE = 'hello from the host\n';
/** What /init prints before it reads the host's line. */
const PROMPT = 'init: wrote a line to /dev/hvc0';

/**
 * Takes the virtio console's two lines out of Tagvisor's stdout, where they arrive among the
 * UART's (each once, whole), so the rest compares with QEMU's UART log.
 */
function withoutConsoleLines(stdout: string): string {
  const lines = stdout.split('\n');
  for (const line of [HVC_LINE, HOST_LINE]) {
    const at = lines.indexOf(line.trimEnd());
    if (at < 0) throw new Error(`Tagvisor's stdout lacks the virtio console's line ${JSON.stringify(line)}`);
    lines.splice(at, 1);
  }
  return lines.join('\n');
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** The kernel's ttys turn "\n" into "\r\n" (ONLCR) on both machines. */
const unixLines = (text: string): string => text.replace(/\r\n/g, '\n');

/**
 * Runs the CLI. `input` goes to the virtio console once /init says it wrote its line (a user
 * answering a prompt): a line sent while Linux's driver still sets the port up can be lost.
 */
function tagvisor(args: readonly string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let answered = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (!answered && Buffer.concat(out).includes(PROMPT)) {
        answered = true;
        child.stdin.end(input);
      }
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), BOOT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout: unixLines(Buffer.concat(out).toString('latin1')), stderr: Buffer.concat(err).toString('latin1'), status });
    });
  });
}

describe.skipIf(skipReason !== null)("Debian's arm64 kernel on Tagvisor and QEMU (docs/linux.md)", () => {
  let dir = '';
  const out = join(ROOT, 'test-output', 'linux');
  const disk = diskImage();
  let tv: Run;
  /** Without --virtio-console (no host input: deterministic), on each engine. */
  let tvJitNoInput: Run;
  let tvInterp: Run;
  let qemu: QemuRunResult | null = null;
  let qemuConsole = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagvisor-linux-'));
    const k = kernel as DebianKernel;
    const initrd = join(dir, 'initrd.cpio');
    writeFileSync(initrd, buildTestInitramfs(init as Uint8Array, k));
    for (const name of ['tagvisor.img', 'tagvisor-jit.img', 'tagvisor-interp.img', 'qemu.img']) writeFileSync(join(dir, name), disk);
    writeFileSync(join(dir, 'hvc0.in'), HOST_LINE);
    const bootWithout = (image: string) => ['run', '--kernel', k.image, '--initrd', initrd, '--append', APPEND, '--drive', join(dir, image)];
    const boot = [...bootWithout('tagvisor.img'), '--virtio-console'];
    const dtb = join(dir, 'tagvisor.dtb');
    const dump = await tagvisor([...boot, '--dump-dtb', dtb]);
    expect(dump.status, dump.stderr).toBe(0);
    const qemuRun = withQemu
      ? runQemu(k.image, {
          timeoutMs: BOOT_TIMEOUT_MS,
          extraArgs: [
            '-initrd', initrd, '-append', APPEND, '-dtb', dtb,
            '-drive', `file=${join(dir, 'qemu.img')},if=none,format=raw,id=d0`, '-device', 'virtio-blk-device,drive=d0',
            '-device', 'virtio-serial-device', '-chardev', `file,id=vc0,path=${join(dir, 'qemu-hvc0.out')},input-path=${join(dir, 'hvc0.in')}`, '-device', 'virtconsole,chardev=vc0',
          ],
        })
      : null;
    [tv, tvJitNoInput, tvInterp, qemu] = await Promise.all([
      tagvisor([...boot, '--stats'], HOST_LINE),
      tagvisor([...bootWithout('tagvisor-jit.img'), '--stats', '--cpu-engine', 'jit']),
      tagvisor([...bootWithout('tagvisor-interp.img'), '--stats', '--cpu-engine', 'interp']),
      qemuRun,
    ]);
    if (qemu) qemuConsole = unixLines(readFileSync(join(dir, 'qemu-hvc0.out'), 'latin1'));
    // Kept for a look when the comparison fails (test-output/ is ignored by git).
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'tagvisor.log'), tv.stdout);
    writeFileSync(join(out, 'tagvisor.stderr'), tv.stderr);
    writeFileSync(join(out, 'tagvisor-jit-no-input.log'), tvJitNoInput.stdout);
    writeFileSync(join(out, 'tagvisor-interp.log'), tvInterp.stdout);
    writeFileSync(join(out, 'tagvisor-interp.stderr'), tvInterp.stderr);
    if (qemu) writeFileSync(join(out, 'qemu.log'), qemu.stdout);
    const figures = (run: Run) => run.stderr.split('\n').filter((l) => /^(instructions|seconds|mips|jit_instructions):/.test(l)).join(', ');
    console.log(`Linux boot on Tagvisor: JIT ${figures(tv)}; without the virtio console: JIT ${figures(tvJitNoInput)}, interpreter ${figures(tvInterp)}`);
  }, BOOT_TIMEOUT_MS * 2);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const expectedDiskLine = () => `init: /dev/vda sector 0: 512 bytes, "TAGVISOR LINUX DISK 0...........", fnv1a32 ${fnv1a32(disk.subarray(0, 512))}`;

  it('Tagvisor boots to /init, which loads the virtio modules, reads the disk, writes to and reads from hvc0 and powers off (status 0)', () => {
    expect(tv.status, tv.stderr).toBe(0);
    const lines = tv.stdout.split('\n');
    expect(tv.stdout).toMatch(/\] CPU features: detected: Memory Tagging Extension\n/);
    for (const want of ['init: Tagvisor test init, pid 1', 'init: mounted devtmpfs on /dev', 'init: loaded /lib/modules/virtio_mmio.ko', 'init: loaded /lib/modules/virtio_blk.ko', 'init: loaded /lib/modules/virtio_console.ko', expectedDiskLine(), 'init: wrote a line to /dev/hvc0', 'init: powering off']) {
      expect(lines).toContain(want);
    }
    expect(lines.filter((l) => l.includes('init:') && l.includes('failed'))).toEqual([]);
    // The virtio-console shares Tagvisor's stdout with the UART: the line arrives once, whole.
    expect(lines).toContain(`init: read from /dev/hvc0: "${HOST_LINE.trim()}"`);
    expect(() => withoutConsoleLines(tv.stdout)).not.toThrow();
  });

  it('the interpreter boots the same way as the JIT: the same console log and instruction count', () => {
    expect(tv.stderr).toMatch(/^cpu_engine: jit$/m);
    expect(tvJitNoInput.status, tvJitNoInput.stderr).toBe(0);
    expect(tvInterp.status, tvInterp.stderr).toBe(0);
    expect(tvJitNoInput.stderr).toMatch(/^cpu_engine: jit$/m);
    expect(tvInterp.stderr).toMatch(/^cpu_engine: interp$/m);
    // Most of the boot ran compiled (the JIT did the work, not its interpreter fallback).
    const field = (run: Run, name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(run.stderr)?.[1] ?? NaN);
    expect(field(tvJitNoInput, 'jit_instructions')).toBeGreaterThan(field(tvJitNoInput, 'instructions') / 2);
    expect(field(tvJitNoInput, 'instructions')).toBeGreaterThan(0);
    expect(field(tvJitNoInput, 'instructions')).toBe(field(tvInterp, 'instructions'));
    expect(tvInterp.stdout).toBe(tvJitNoInput.stdout);
    expect(tvInterp.stdout).toContain('init: powering off');
  });

  it.runIf(withQemu)('QEMU boots the same Image, initramfs and device tree the same way', () => {
    expect(qemu!.status, qemu!.stderr.toString()).toBe(0);
    expect(unixLines(qemu!.stdout.toString('latin1')).split('\n')).toContain(expectedDiskLine());
    expect(unixLines(qemu!.stdout.toString('latin1')).split('\n')).toContain(`init: read from /dev/hvc0: "${HOST_LINE.trim()}"`);
    // The chardev holds the guest's line and the tty's echo of the host's line. QEMU delivers
    // input-path as soon as the port opens, so the echo may land inside the guest's line:
    // both must be there whole, and nothing else.
    const echoAndLine = qemuConsole.replace(HOST_LINE.trim(), '').replace(HVC_LINE.trim(), '');
    expect(qemuConsole).toContain(HOST_LINE.trim());
    expect(qemuConsole).toContain(HVC_LINE.trim());
    expect(echoAndLine.trim()).toBe('');
  });

  it.runIf(withQemu)("the console logs are the same, but for time, asynchronous order and the machines' documented differences", () => {
    const a: ComparableLog = comparableLog(withoutConsoleLines(tv.stdout));
    const b: ComparableLog = comparableLog(unixLines(qemu!.stdout.toString('latin1')));
    expect(a.lines).toEqual(b.lines);
    expect(a.unordered).toEqual(b.unordered);
    expect(a.features).toContain('Memory Tagging Extension');
    expect(a.features.filter((f) => !b.features.includes(f)), 'CPU features Tagvisor reports and QEMU -cpu max does not').toEqual([]);
    console.log(`Lines kept apart (machine differences): Tagvisor ${JSON.stringify(a.machine)}, QEMU ${JSON.stringify(b.machine)}`);
  });
});
