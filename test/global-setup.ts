import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSkipLog, REFERENCE_TOOLS, sbinTool, SKIP_LOG_ENV, type ReferenceTool } from './support/reference-tools.js';

/**
 * Runs once around the whole test run. Before: in CI (CI=true) every reference tool must be
 * installed, or the run fails at once naming what is missing (.ci/run installs them with
 * scripts/install-test-deps). After: prints every suite that skipped because a tool is missing.
 * Every other skip is accounted by the reporter test/support/skip-report.ts (opt-in by design, or
 * unexplained: a failure in CI).
 */

function commandWorks(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

function qemuMajor(): number {
  try {
    const out = execFileSync('qemu-system-aarch64', ['--version'], { encoding: 'utf8', timeout: 20_000 });
    return Number(/version (\d+)\./.exec(out)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function presentTools(): Record<ReferenceTool, boolean> {
  return {
    qemu: qemuMajor() >= 8,
    assembler: commandWorks('aarch64-linux-gnu-as', ['--version']),
    compiler: commandWorks('aarch64-linux-gnu-gcc', ['--version']),
    gdb: commandWorks('gdb-multiarch', ['--version']),
    chromium: existsSync('/usr/bin/chromium'),
    dtc: commandWorks('dtc', ['--version']),
    cpio: commandWorks('cpio', ['--version']),
    linux: existsSync(join(import.meta.dirname, '..', '.cache', 'debian-arm64', 'complete')),
    e2fsprogs: ['mke2fs', 'debugfs', 'e2fsck'].every((tool) => commandWorks(sbinTool(tool), ['-V'])),
  };
}

let logDir = '';

export function setup(): void {
  const present = presentTools();
  const missing = (Object.keys(present) as ReferenceTool[]).filter((tool) => !present[tool]);
  if (process.env.CI === 'true' && missing.length > 0) {
    const list = missing.map((tool) => `  - ${REFERENCE_TOOLS[tool]}`).join('\n');
    throw new Error(`CI needs every reference tool, and these are missing (run scripts/install-test-deps as root):\n${list}`);
  }
  logDir = mkdtempSync(join(tmpdir(), 'tagvisor-skips-'));
  const log = join(logDir, 'skips.tsv');
  writeFileSync(log, '');
  process.env[SKIP_LOG_ENV] = log;
}

export function teardown(): void {
  const byTool = readSkipLog();
  rmSync(logDir, { recursive: true, force: true });
  if (byTool.size === 0) return;
  const lines = ['', 'SKIPPED because a reference tool is missing (scripts/install-test-deps installs them):'];
  for (const [tool, places] of byTool) {
    lines.push(`  ${REFERENCE_TOOLS[tool]}: ${places.size} suite(s)`);
    for (const place of [...places].sort()) lines.push(`    ${place}`);
  }
  console.log(lines.join('\n'));
}
