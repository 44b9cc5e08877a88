/**
 * Generated instruction tests: random but valid A64 instruction sequences (generator.ts), with
 * random initial registers and flags, run in the instruction-test harness
 * (guests/build/harness.elf) on Tagvisor and on QEMU; the UART transcripts (registers, NZCV, SP,
 * changed scratch memory, allocation tags, TFSR, or the exception report) and exit statuses must
 * be identical.
 *
 * Always: Tagvisor against QEMU's transcripts recorded in golden/seeds.json (seeds
 * 1..120 and the system-register seeds 1001..1040, sysreg-family.ts) and golden/regressions.json (minimised cases), so the test needs no QEMU.
 * When QEMU >= 8 is installed: also fresh seeds live against QEMU (30 by default, at most about
 * 60 s), and the regression cases' recorded transcripts against QEMU's current output.
 *
 *   npx vitest run test/random                                  the default run
 *   TAGVISOR_RANDOM_SEEDS=5000 npx vitest run test/random       5000 live seeds (no time limit)
 *   TAGVISOR_RANDOM_SEED_BASE=123456 TAGVISOR_RANDOM_SEEDS=1 npx vitest run test/random -t live
 *                                                               one seed (reproduce a failure)
 *   TAGVISOR_RANDOM_REGENERATE=1 npx vitest run test/random     rewrite the golden files from QEMU
 *
 * A failure prints the seed, the initial state, a listing of the payload (objdump if installed),
 * the first differing line and a diff of the transcripts, and saves the patched image under the
 * temporary directory.
 */
import { describe, expect, it } from 'vitest';
import { harnessElf, harnessLayout, patchHarness } from '../support/harness-image.js';
import { qemuAvailable } from '../support/qemu.js';
import { generateCase, PAYLOAD_ADDR } from './generator.js';
import { GOLDEN_SEEDS, GOLDEN_SYSREG_SEEDS, readGoldenSeeds, readRegressions, regenerateGolden } from './regenerate.js';
import { caseHash, diffLines, imageOf, mismatchReport, runOnQemu, runOnTagvisor, type Transcript } from './run.js';

const env = process.env;
const REGENERATE = env.TAGVISOR_RANDOM_REGENERATE === '1';
const LIVE_SEEDS = env.TAGVISOR_RANDOM_SEEDS ? Number(env.TAGVISOR_RANDOM_SEEDS) : 30;
const LIVE_BASE = env.TAGVISOR_RANDOM_SEED_BASE ? Number(env.TAGVISOR_RANDOM_SEED_BASE) : 1_000_000;
/** Without an explicit seed count, the live run stops after this long. */
const LIVE_BUDGET_MS = env.TAGVISOR_RANDOM_SEEDS ? Infinity : 60_000;

const same = (a: Transcript, b: Transcript): boolean => a.out === b.out && a.status === b.status;

function reproduceSeed(seed: number): string {
  return `TAGVISOR_RANDOM_SEED_BASE=${seed} TAGVISOR_RANDOM_SEEDS=1 npx vitest run test/random -t live`;
}

describe.runIf(REGENERATE)('regenerate the golden files from QEMU', () => {
  it('rewrites golden/seeds.json and golden/regressions.json', { timeout: 600_000 }, async () => {
    await regenerateGolden();
  });
});

describe('the harness image', () => {
  it('has the state block and payload slot where the generator assumes them', () => {
    const layout = harnessLayout(harnessElf());
    expect(layout.payloadAddr).toBe(PAYLOAD_ADDR);
    expect(layout.stateAddr).toBe(PAYLOAD_ADDR - 0x100);
  });

  it('patched with a state and a payload, runs the payload from that state', async () => {
    const x = Array.from({ length: 31 }, (_, i) => BigInt(i) * 0x1111n);
    x[30] = 0xfedc_ba98_7654_3210n;
    const words = [0xd2824683, 0xd503201f]; // movz x3, #0x1234; nop
    const run = await runOnTagvisor(patchHarness({ x, nzcv: 0b1010 }, words));
    expect(run.status).toBe(0);
    expect(run.out).toContain('x2 0000000000002222\nx3 0000000000001234\n');
    expect(run.out).toContain('x30 fedcba9876543210\nnzcv a0000000\nsp 0000000040120000\n');
  });
});

describe.skipIf(REGENERATE)('random instruction sequences on Tagvisor match QEMU (golden)', () => {
  const golden = REGENERATE ? { qemu: '', seeds: {} } : readGoldenSeeds();
  it.each(GOLDEN_SEEDS)('seed %i', async (seed) => {
    const c = generateCase(seed);
    const truth = golden.seeds[String(seed)];
    if (!truth) expect.fail(`seed ${seed} is missing from golden/seeds.json: regenerate it (TAGVISOR_RANDOM_REGENERATE=1 npx vitest run test/random)`);
    if (truth.hash !== caseHash(c)) {
      expect.fail(`seed ${seed} generates a different case than golden/seeds.json recorded (generator changed?): regenerate the golden file with TAGVISOR_RANDOM_REGENERATE=1 npx vitest run test/random`);
    }
    const tagvisor = await runOnTagvisor(imageOf(c));
    if (!same(truth, tagvisor)) {
      const reproduce = `npx vitest run test/random -t 'seed ${seed}$' (with QEMU, live: ${reproduceSeed(seed)})`;
      expect.fail(mismatchReport(`seed ${seed} (${c.mode})`, c, truth, tagvisor, reproduce));
    }
  });

  it.runIf(qemuAvailable())('recorded transcripts are QEMU\'s current output (seeds 1-10 and 5 system-register seeds)', async () => {
    for (const seed of [...GOLDEN_SEEDS.slice(0, 10), ...GOLDEN_SYSREG_SEEDS.slice(0, 5)]) {
      const truth = golden.seeds[String(seed)];
      const qemu = await runOnQemu(imageOf(generateCase(seed)));
      if (!truth || !same(truth, qemu)) expect.fail(`seed ${seed}: golden/seeds.json is stale (regenerate it)\n${diffLines(truth?.out ?? '', qemu.out)}`);
    }
  });
});

describe.skipIf(REGENERATE)('random instruction sequences on the JIT match QEMU (golden)', () => {
  // The same recorded transcripts with --cpu-engine jit (docs/jit.md): every block is compiled
  // at its first entry, so each payload runs as compiled code up to its first uncompiled form.
  const golden = REGENERATE ? { qemu: '', seeds: {} } : readGoldenSeeds();
  it.each(GOLDEN_SEEDS)('seed %i', async (seed) => {
    const c = generateCase(seed);
    const truth = golden.seeds[String(seed)]!;
    const jit = await runOnTagvisor(imageOf(c), 'jit');
    if (!same(truth, jit)) expect.fail(mismatchReport(`seed ${seed} (${c.mode}) on the JIT`, c, truth, jit, `npx vitest run test/random -t 'JIT.*seed ${seed}$'`));
  });
});

describe.skipIf(REGENERATE)('minimised regression cases on Tagvisor match QEMU (golden)', () => {
  const cases = REGENERATE ? [] : readRegressions();
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const tagvisor = await runOnTagvisor(imageOf(c));
    if (!same(c, tagvisor)) expect.fail(`${c.why}\n${mismatchReport(name, c, c, tagvisor, `npx vitest run test/random -t '${name}'`)}`);
  });

  it.runIf(qemuAvailable())('recorded transcripts are QEMU\'s current output', async () => {
    for (const c of cases) {
      const qemu = await runOnQemu(imageOf(c));
      if (!same(c, qemu)) expect.fail(`${c.name}: golden/regressions.json is stale (regenerate it)\n${diffLines(c.out, qemu.out)}`);
    }
  });
});

describe.runIf(qemuAvailable() && !REGENERATE)('random instruction sequences live against QEMU', () => {
  it(`live: ${LIVE_SEEDS} fresh seeds from ${LIVE_BASE}`, { timeout: Math.max(120_000, LIVE_SEEDS * 2_000) }, async () => {
    const started = performance.now();
    const failures: string[] = [];
    const failedSeeds: number[] = [];
    let ran = 0;
    for (let seed = LIVE_BASE; seed < LIVE_BASE + LIVE_SEEDS; seed++) {
      if (performance.now() - started > LIVE_BUDGET_MS) break;
      const c = generateCase(seed);
      const image = imageOf(c);
      const qemuRun = runOnQemu(image); // QEMU runs in its own process while Tagvisor runs here
      const tagvisor = await runOnTagvisor(image);
      const qemu = await qemuRun;
      ran++;
      if (qemu.status === 124) expect.fail(`QEMU timed out on seed ${seed}`);
      if (!same(qemu, tagvisor)) {
        failedSeeds.push(seed);
        if (failures.length < 3) failures.push(mismatchReport(`seed ${seed} (${c.mode})`, c, qemu, tagvisor, reproduceSeed(seed)));
      }
    }
    expect(ran).toBeGreaterThan(0);
    if (failedSeeds.length > 0) {
      expect.fail(`${failedSeeds.length} of ${ran} seeds differ: ${failedSeeds.join(' ')}\n\n${failures.join('\n\n')}`);
    }
  });
});
