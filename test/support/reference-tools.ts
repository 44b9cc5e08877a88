import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/**
 * The reference tools the test suite compares against or drives. A suite that cannot run because
 * one is missing calls `noteMissingTool`: the global setup (test/global-setup.ts) prints every such
 * skip at the end of the run, and refuses to run at all in CI (CI=true), where a missing
 * reference tool is a failure, not a skip.
 */
export const REFERENCE_TOOLS = {
  qemu: 'qemu-system-aarch64 >= 8 (Debian backports: qemu-system-arm)',
  assembler: 'aarch64-linux-gnu-as (binutils-aarch64-linux-gnu)',
  compiler: 'aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu)',
  gdb: 'gdb-multiarch',
  chromium: 'chromium',
  dtc: 'dtc (device-tree-compiler)',
  cpio: 'GNU cpio (an independent reader of the initramfs archives Tagvisor writes)',
  linux: "Debian's arm64 kernel and busybox packages (scripts/fetch-linux-packages)",
  e2fsprogs: "mke2fs, debugfs and e2fsck (e2fsprogs): the Linux root disk's ext4 image, built and read back on the host",
} as const;

export type ReferenceTool = keyof typeof REFERENCE_TOOLS;

/** Debian keeps e2fsprogs in /usr/sbin, outside a user's PATH: the command to run `tool` by. */
export function sbinTool(tool: string): string {
  return existsSync(`/usr/sbin/${tool}`) ? `/usr/sbin/${tool}` : existsSync(`/sbin/${tool}`) ? `/sbin/${tool}` : tool;
}

/** Environment variable naming the file that collects skips across test workers. */
export const SKIP_LOG_ENV = 'TAGVISOR_SKIP_LOG';

/** The test file (relative to the repository) that called the function calling this. */
function callerFile(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack) {
    const match = /(test\/[^\s:()]+\.ts):(\d+)/.exec(line);
    if (match && !match[1]!.includes('/support/')) return `${match[1]}:${match[2]}`;
  }
  return 'a test file';
}

/**
 * Records that `tool` is missing, for the end-of-run summary. Returns `available` so that the
 * availability checks can be written `return noteMissingTool('qemu', found)`.
 */
export function noteMissingTool(tool: ReferenceTool, available: boolean, where?: string): boolean {
  if (available) return true;
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(log, `${tool}\t${where ?? callerFile()}\n`);
  return false;
}

/** The skips recorded so far in this run: for each missing tool, where it was noted. */
export function readSkipLog(): Map<ReferenceTool, Set<string>> {
  const byTool = new Map<ReferenceTool, Set<string>>();
  const log = process.env[SKIP_LOG_ENV];
  if (!log || !existsSync(log)) return byTool;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [tool, where] = line.split('\t');
    if (!tool || !where) continue;
    const set = byTool.get(tool as ReferenceTool) ?? new Set<string>();
    set.add(where);
    byTool.set(tool as ReferenceTool, set);
  }
  return byTool;
}
