import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const guest = (name: string) => join(ROOT, 'guests/build', `${name}.elf`);

/** Runs the built CLI (npm test builds first: see the pretest script). */
function tagvisor(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('tagvisor run', () => {
  it('prints the UART on stdout and exits with the semihosting code', () => {
    const run = tagvisor('run', guest('exit-code'));
    expect(run.stdout).toBe(readFileSync(join(ROOT, 'guests/expected/exit-code.out'), 'latin1'));
    expect(run.status).toBe(42);
  });

  it('exits 0 after PSCI SYSTEM_OFF', () => {
    expect(tagvisor('run', guest('psci-off')).status).toBe(0);
  });

  it('stops a guest at --max-insns with status 124', () => {
    const run = tagvisor('run', '--max-insns', '1000', guest('demo'));
    expect(run.status).toBe(124);
    expect(run.stderr).toMatch(/instruction limit \(1000\)/);
  });

  it('reports --stats on stderr', () => {
    const run = tagvisor('run', '--stats', guest('demo'));
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^instructions: \d+$/m);
    expect(run.stderr).toMatch(/^mips: [\d.]+$/m);
    expect(run.stderr).toMatch(/^tag_check_faults: [1-9]\d*$/m);
  });

  it('runs with MTE off: the guest sees ID_AA64PFR1_EL1.MTE = 0 and IRG is UNDEFINED', () => {
    const run = tagvisor('run', '--mte', 'off', '--max-insns', '10000000', guest('mte-off-nomte'));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ID_AA64PFR1_EL1\.MTE = 0,/);
    expect(run.stdout).toMatch(/^irg: ESR=02000000/m);
  });

  it.each([
    [['run'], /exactly one of <guest\.elf>, /],
    [['run', '--memory', 'lots', guest('demo')], /not a size/],
    [['run', '--mte', 'maybe', guest('demo')], /expected 'on' or 'off'/],
    [['run', '--max-insns', '-5', guest('demo')], /error/],
    [['run', '/nonexistent/guest.elf'], /no such file/],
    [['frobnicate'], /unknown command/],
  ])('bad usage %j exits 2 with a one-line message', (args, message) => {
    const run = tagvisor(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a non-ELF file with exit status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-cli-'));
    const bogus = join(dir, 'bogus.elf');
    writeFileSync(bogus, 'this is not an ELF file at all, not even close........................');
    const run = tagvisor('run', bogus);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/bad magic/);
  });
});
