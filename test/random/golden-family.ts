/**
 * The three suites of a generated instruction family recorded from QEMU: regenerate the golden
 * file (opt-in), replay the recorded seeds on Tagvisor (always), and run fresh seeds against a
 * live QEMU (when installed). Environment: <PREFIX>_REGENERATE=1, <PREFIX>_SEEDS (live count, no
 * time budget), <PREFIX>_SEED_BASE.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { qemuAvailable, qemuVersion } from '../support/qemu.js';
import type { GeneratedCase } from './generator.js';
import { caseHash, imageOf, mismatchReport, runOnQemu, runOnTagvisor, type Transcript } from './run.js';

export interface GoldenFamily {
  /** Shown in test names and reports ("FP"). */
  readonly name: string;
  readonly generate: (seed: number) => GeneratedCase;
  /** The golden file and the test file that owns it (for the hints). */
  readonly golden: string;
  readonly testFile: string;
  readonly envPrefix: string;
  /** Recorded seeds. */
  readonly seeds: readonly number[];
  readonly liveBase: number;
}

interface Golden {
  readonly qemu: string;
  readonly seeds: Readonly<Record<string, Transcript & { readonly hash: string }>>;
}

const same = (a: Transcript, b: Transcript): boolean => a.out === b.out && a.status === b.status;

export function goldenFamilyTests(f: GoldenFamily): void {
  const env = process.env;
  const regenerate = env[`${f.envPrefix}_REGENERATE`] === '1';
  const liveSeeds = env[`${f.envPrefix}_SEEDS`] ? Number(env[`${f.envPrefix}_SEEDS`]) : 10;
  const liveBase = env[`${f.envPrefix}_SEED_BASE`] ? Number(env[`${f.envPrefix}_SEED_BASE`]) : f.liveBase;
  const budgetMs = env[`${f.envPrefix}_SEEDS`] ? Infinity : 30_000;
  const reproduce = (seed: number): string => `${f.envPrefix}_SEED_BASE=${seed} ${f.envPrefix}_SEEDS=1 npx vitest run ${f.testFile} -t live`;
  const label = (seed: number, c: GeneratedCase): string => `${f.name} seed ${seed} (${c.mode})`;

  describe.runIf(regenerate)(`regenerate ${f.golden} from QEMU`, () => {
    it('rewrites it', { timeout: 900_000 }, async () => {
      const v = qemuVersion();
      if (!v) throw new Error('regenerating needs qemu-system-aarch64');
      const lines: string[] = [];
      for (const seed of f.seeds) {
        const c = f.generate(seed);
        const run = await runOnQemu(imageOf(c));
        if (run.status === 124) throw new Error(`QEMU timed out on seed ${seed}`);
        lines.push(`    ${JSON.stringify(String(seed))}: ${JSON.stringify({ hash: caseHash(c), status: run.status, out: run.out })}`);
      }
      writeFileSync(f.golden, `{\n  "qemu": "${v.major}.${v.minor}.${v.micro}",\n  "seeds": {\n${lines.join(',\n')}\n  }\n}\n`);
    });
  });

  describe.skipIf(regenerate)(`random ${f.name} sequences on Tagvisor match QEMU (golden)`, () => {
    const golden: Golden = existsSync(f.golden) ? (JSON.parse(readFileSync(f.golden, 'latin1')) as Golden) : { qemu: '', seeds: {} };
    it.each(f.seeds)('seed %i', async (seed) => {
      const c = f.generate(seed);
      const truth = golden.seeds[String(seed)];
      if (!truth || truth.hash !== caseHash(c)) expect.fail(`seed ${seed}: ${f.golden} is missing it or recorded another case (generator changed?): ${f.envPrefix}_REGENERATE=1 npx vitest run ${f.testFile}`);
      const tagvisor = await runOnTagvisor(imageOf(c));
      if (!same(truth, tagvisor)) expect.fail(mismatchReport(label(seed, c), c, truth, tagvisor, reproduce(seed)));
    });
  });

  describe.runIf(qemuAvailable() && !regenerate)(`random ${f.name} sequences live against QEMU`, () => {
    it(`live: ${liveSeeds} fresh seeds from ${liveBase}`, { timeout: Math.max(120_000, liveSeeds * 2_000) }, async () => {
      const started = performance.now();
      const failures: string[] = [];
      const failed: number[] = [];
      let ran = 0;
      for (let seed = liveBase; seed < liveBase + liveSeeds; seed++) {
        if (performance.now() - started > budgetMs) break;
        const c = f.generate(seed);
        const image = imageOf(c);
        const qemuRun = runOnQemu(image);
        const tagvisor = await runOnTagvisor(image);
        const qemu = await qemuRun;
        ran++;
        if (qemu.status === 124) expect.fail(`QEMU timed out on seed ${seed}`);
        if (!same(qemu, tagvisor)) {
          failed.push(seed);
          if (failures.length < 3) failures.push(mismatchReport(label(seed, c), c, qemu, tagvisor, reproduce(seed)));
        }
      }
      expect(ran).toBeGreaterThan(0);
      if (failed.length > 0) expect.fail(`${failed.length} of ${ran} seeds differ: ${failed.join(' ')}\n\n${failures.join('\n\n')}`);
    });
  });
}
