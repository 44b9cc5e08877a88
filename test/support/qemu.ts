/**
 * Running guest images on QEMU, the reference for differential tests.
 *
 * The command is fixed (guests/README.md): the same one `make -C guests expected` uses to
 * produce the golden files, so a test that runs QEMU live compares against the same truth.
 *
 *   qemu-system-aarch64 -M virt,mte=on,gic-version=3 -cpu max -m 256 -nographic -semihosting
 *     -global virtio-mmio.force-legacy=false [devices from guests/devices.sh] -kernel <elf>
 *
 * gic-version=3 because Tagvisor's board has a GICv3 (QEMU's virt defaults to a GICv2), and
 * force-legacy=false because Tagvisor's virtio-mmio transports are the modern (version 2) ones.
 *
 * stdin is closed (/dev/null), stdout is the guest's UART, stderr gets QEMU's own messages
 * and the semihosting console (SYS_WRITEC/SYS_WRITE0), which the differential tests ignore.
 */
import { spawn, spawnSync } from 'node:child_process';
import { noteMissingTool } from './reference-tools.js';

export const QEMU_BINARY = 'qemu-system-aarch64';
/** Oldest QEMU whose MTE emulation is right (7.2 gets single-granule tag ops wrong). */
export const QEMU_MIN_MAJOR = 8;

export interface QemuRunOptions {
  /** Guest RAM in MiB (default 256; the guests need at least 64). */
  memoryMiB?: number;
  /** Kill QEMU after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Give the VM MTE (default true; `mte=off` otherwise). */
  mte?: boolean;
  /** Extra arguments, inserted before `-kernel`. */
  extraArgs?: string[];
}

export interface QemuRunResult {
  /** Everything the guest wrote to the UART. */
  stdout: Buffer;
  /** QEMU's exit status (the guest's semihosting exit code); null if killed. */
  status: number | null;
  /** True when QEMU was killed because it ran past timeoutMs. */
  timedOut: boolean;
  /** QEMU's diagnostics and the semihosting console; not part of the comparison. */
  stderr: Buffer;
}

/** The exact argument list (without the binary) for one guest. */
export function qemuArgs(elfPath: string, opts: QemuRunOptions = {}): string[] {
  const memoryMiB = opts.memoryMiB ?? 256;
  if (!Number.isInteger(memoryMiB) || memoryMiB <= 0) {
    throw new RangeError(`memoryMiB must be a positive integer, got ${memoryMiB}`);
  }
  return [
    '-M', `virt,mte=${opts.mte === false ? 'off' : 'on'},gic-version=3`,
    '-cpu', 'max',
    '-m', String(memoryMiB),
    '-nographic',
    '-semihosting',
    '-global', 'virtio-mmio.force-legacy=false',
    ...(opts.extraArgs ?? []),
    '-kernel', elfPath,
  ];
}

let cachedVersion: { major: number; minor: number; micro: number } | null | undefined;

/** QEMU's version, or null when the binary is missing or does not answer. Cached. */
export function qemuVersion(): { major: number; minor: number; micro: number } | null {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = null;
  const r = spawnSync(QEMU_BINARY, ['--version'], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (!r.error && r.status === 0) {
    const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(r.stdout);
    if (m) {
      cachedVersion = { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3] ?? 0) };
    }
  }
  return cachedVersion;
}

/** True when qemu-system-aarch64 is installed and is version 8 or newer. */
export function qemuAvailable(): boolean {
  const v = qemuVersion();
  return noteMissingTool('qemu', v !== null && v.major >= QEMU_MIN_MAJOR);
}

/**
 * Run one guest to completion. Resolves with the UART output and exit status; on timeout the
 * process is killed (SIGKILL) and `timedOut` is set. Rejects only when QEMU cannot be started.
 */
export function runQemu(elfPath: string, opts: QemuRunOptions = {}): Promise<QemuRunResult> {
  const args = qemuArgs(elfPath, opts);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolve({
        stdout: Buffer.concat(out),
        status: timedOut ? null : code,
        timedOut,
        stderr: Buffer.concat(err),
      });
    });
  });
}
