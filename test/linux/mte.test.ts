/**
 * Linux with MTE, the short check (docs/linux.md, "The MTE initramfs"): Debian's kernel boots on
 * Tagvisor to busybox, tagged-heap's use-after-free is caught as SIGSEGV / SEGV_MTESERR, and an
 * arm64 MTE kselftest that forks and retags (check_child_memory) passes with QEMU 10's results;
 * the same run live-migrated between two tagvisor processes while that test runs prints the same
 * console log, byte for byte, after the same number of instructions. gdb-multiarch, attached to
 * the plain run, stops in tagged-heap's free() and prints the allocation tags of the user heap
 * block (`memory-tag print-allocation-tag`, `x/m`); since that run still matches the migrated one
 * (console, instructions, tag-check faults), the debugger's reads changed nothing in the guest.
 *
 * Needs the package cache (scripts/fetch-linux-packages) and the cross compiler; skipped with the
 * reason printed without them. Uses the CLI in dist/ (npm run build). The full set of kselftests:
 * test/linux/mte-full.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DebianKernel } from '../../src/node/initramfs/linux-test.js';
import { ROOT } from '../migration/cli-support.js';
import { gdbMultiarchAvailable } from '../support/debugger.js';
import { qemuAvailable } from '../support/qemu.js';
import { noteMissingTool } from '../support/reference-tools.js';
import { instructionsOf, kselftestResults, mteAppend, prepareMteInitramfs, runMigrated, runQemuMte, runTagvisor, runTagvisorWithGdb, tagCheckFaultsOf, taggedFreeAddress, totalInstructions, type Finished, type MigratedRun } from './mte-run.js';

const TIMEOUT_MS = 900_000;
const TESTS = ['check_child_memory'];
const APPEND = mteAppend('demo,kselftest', TESTS);

const kernel = prepareMteInitramfs();
if (typeof kernel === 'string') console.log(`test/linux/mte.test.ts skipped: ${kernel}`);
noteMissingTool('linux', typeof kernel !== 'string');
const withQemu = noteMissingTool('qemu', qemuAvailable());
const withGdb = gdbMultiarchAvailable();

/** gdb's session: stop in tagged_free when tagged-heap calls it (busybox shares its text addresses: x0 untagged there). */
const gdbCommands = (): string[] => [
  `hbreak *0x${taggedFreeAddress().toString(16)} if ($x0 >> 56) != 0`,
  'continue',
  'memory-tag print-allocation-tag $x0',
  'memory-tag check $x0',
  'x/4xgm $x0',
  'continue',
];

describe.skipIf(typeof kernel === 'string')('Linux with MTE: tagged-heap, an MTE kselftest, a live migration (docs/linux.md)', () => {
  let plain: Finished;
  let migrated: MigratedRun;
  let qemu: Finished | null = null;
  let gdb: Finished | null = null;

  beforeAll(async () => {
    const k = kernel as DebianKernel;
    const plainRun = withGdb
      ? runTagvisorWithGdb(k, APPEND, gdbCommands(), TIMEOUT_MS).then((r) => ((gdb = r.gdb), r.run))
      : runTagvisor(k, APPEND, TIMEOUT_MS);
    [plain, migrated, qemu] = await Promise.all([
      plainRun,
      // Migrates once check_child_memory has started: its children fork, tag and check memory.
      runMigrated(k, APPEND, [{ at: 'kselftest: start check_child_memory', by: 'migrate' }], TIMEOUT_MS),
      withQemu ? runQemuMte(k, APPEND, TIMEOUT_MS) : null,
    ]);
    const out = join(ROOT, 'test-output', 'linux');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'mte-tagvisor.log'), plain.stdout);
    writeFileSync(join(out, 'mte-migrated.log'), migrated.stdout);
    if (qemu) writeFileSync(join(out, 'mte-qemu.log'), qemu.stdout);
    console.log(`Linux MTE run on Tagvisor: ${plain.stderr.split('\n').filter((l) => /^(instructions|seconds|mips):/.test(l)).join(', ')}`);
  }, TIMEOUT_MS * 2);

  it('boots to busybox; tagged-heap reads a freed block and is stopped by SIGSEGV, SEGV_MTESERR; powers off (status 0)', () => {
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('init: Tagvisor MTE initramfs, Linux');
    expect(plain.stdout).toMatch(/^~ # tagged-heap\r?$/m);
    expect(plain.stdout).toMatch(/^tagged-heap: malloc\(32\) = 0x([1-9a-f])00ffff[0-9a-f]{8} \(tag \d+\), holds "tagged hello"\r?$/m);
    expect(plain.stdout).toMatch(/^tagged-heap: caught signal 11 \(SIGSEGV\), si_code 9 \(SEGV_MTESERR\), fault address 0xffff[0-9a-f]{8}\r?$/m);
    expect(plain.stdout).toMatch(/^init: tagged-heap exit status 0\r?$/m);
    expect(plain.stderr).toMatch(/^exit: PSCI SYSTEM_OFF$/m);
  });

  it('check_child_memory passes on Tagvisor', () => {
    const results = kselftestResults(plain.stdout);
    expect(results).toContain('kselftest: check_child_memory exit 0');
    expect(results.filter((l) => l.startsWith('not ok'))).toEqual([]);
    expect(results).toContain('# Totals: pass:12 fail:0 xfail:0 xpass:0 skip:0 error:0');
  });

  it.runIf(withQemu)('QEMU 10 gives the same kselftest results and the same use-after-free report', () => {
    expect(qemu!.status, qemu!.stderr).toBe(0);
    expect(kselftestResults(qemu!.stdout)).toEqual(kselftestResults(plain.stdout));
    expect(qemu!.stdout).toMatch(/^tagged-heap: caught signal 11 \(SIGSEGV\), si_code 9 \(SEGV_MTESERR\)/m);
  });

  it('migrated between two tagvisor processes mid-test: the same console log, byte for byte, the same instructions and tag-check faults', () => {
    expect(migrated.source.status, migrated.source.stderr).toBe(0);
    expect(migrated.source.stderr).toMatch(/^exit: migrated to the destination$/m);
    expect(migrated.destination.status, migrated.destination.stderr).toBe(0);
    expect(migrated.destination.stderr).toMatch(/incoming migration complete, guest running/);
    expect(migrated.reports[0]).toMatch(/tags: [0-9.]+ MiB \(\d+ pages\)/);
    expect(migrated.stdout).toBe(plain.stdout);
    // gdb stopped the plain run in tagged_free (and at every false hit of its condition):
    // the guest ran the same instructions.
    expect(totalInstructions(migrated.processes)).toBe(instructionsOf(plain));
    expect(tagCheckFaultsOf(migrated.destination)).toBe(tagCheckFaultsOf(plain));
  });

  it.runIf(withGdb)("gdb-multiarch stops in tagged-heap's free() and prints the heap block's allocation tags and data", () => {
    const g = gdb!;
    expect(g.status, g.stderr).toBe(0);
    const malloc = /^tagged-heap: malloc\(32\) = (0x[0-9a-f]+) \(tag (\d+)\)/m.exec(plain.stdout)!;
    const [pointer, tag] = [malloc[1]!, Number(malloc[2]).toString(16)];
    expect(g.stdout).toMatch(/Breakpoint 1, 0x0+[0-9a-f]+ in \?\? \(\)/);
    expect(g.stdout).toContain(`$1 = 0x${tag}`);
    expect(g.stdout).toContain(`Memory tags for address ${pointer} match (0x${tag}).`);
    const second = `0x${(BigInt(pointer) + 16n).toString(16)}`;
    // "tagged hello" and its NULs, each granule under its tag.
    expect(g.stdout).toContain(
      `<Allocation Tag 0x${tag} for range [${pointer},${second})>\n${pointer}:\t0x6820646567676174\t0x000000006f6c6c65\n` +
        `<Allocation Tag 0x${tag} for range [${second},`,
    );
  });
});
