/**
 * Generated SIMD&FP instruction tests (generator-simd.ts): random loads and stores of SIMD&FP
 * registers in every addressing mode (with MTE tags and faults) and random integer Advanced SIMD
 * and move instructions, from random V registers, run in the instruction-test harness with its
 * SIMD&FP state on, on Tagvisor and on QEMU; transcripts (X and V registers, FPCR, FPSR, memory,
 * tags, or the exception report) and statuses must be identical.
 *
 * Always: Tagvisor against QEMU's transcripts in golden/simd-seeds.json (SEEDS). With
 * QEMU installed: also fresh seeds live (10 by default, at most about 30 s).
 *
 *   npx vitest run test/random/simd.test.ts
 *   TAGVISOR_SIMD_SEEDS=2000 npx vitest run test/random/simd.test.ts -t live      2000 live seeds
 *   TAGVISOR_SIMD_SEED_BASE=123 TAGVISOR_SIMD_SEEDS=1 npx vitest run test/random/simd.test.ts -t live
 *   TAGVISOR_SIMD_REGENERATE=1 npx vitest run test/random/simd.test.ts           rewrite the golden file
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qemuAvailable, qemuVersion } from '../support/qemu.js';
import { generateSimdCase } from './generator-simd.js';
import { SIMD_INT_SEEDS_FROM } from './simd-int-family.js';
import { caseHash, imageOf, mismatchReport, runOnQemu, runOnTagvisor, type Transcript } from './run.js';

const env = process.env;
const REGENERATE = env.TAGVISOR_SIMD_REGENERATE === '1';
const LIVE_SEEDS = env.TAGVISOR_SIMD_SEEDS ? Number(env.TAGVISOR_SIMD_SEEDS) : 10;
const LIVE_BASE = env.TAGVISOR_SIMD_SEED_BASE ? Number(env.TAGVISOR_SIMD_SEED_BASE) : 2_000_000;
const LIVE_BUDGET_MS = env.TAGVISOR_SIMD_SEEDS ? Infinity : 30_000;
/** Recorded in the golden file: seeds 1..80, and 60 seeds of the integer-SIMD family (simd-int-family.ts). */
const SEEDS = [...Array.from({ length: 80 }, (_, i) => i + 1), ...Array.from({ length: 60 }, (_, i) => SIMD_INT_SEEDS_FROM + 1 + i)];
const GOLDEN = join(import.meta.dirname, 'golden', 'simd-seeds.json');

interface Golden {
  readonly qemu: string;
  readonly seeds: Readonly<Record<string, Transcript & { readonly hash: string }>>;
}

const same = (a: Transcript, b: Transcript): boolean => a.out === b.out && a.status === b.status;
const reproduce = (seed: number): string => `TAGVISOR_SIMD_SEED_BASE=${seed} TAGVISOR_SIMD_SEEDS=1 npx vitest run test/random/simd.test.ts -t live`;

describe.runIf(REGENERATE)('regenerate golden/simd-seeds.json from QEMU', () => {
  it('rewrites it', { timeout: 900_000 }, async () => {
    const v = qemuVersion();
    if (!v) throw new Error('regenerating needs qemu-system-aarch64');
    const lines: string[] = [];
    for (const seed of SEEDS) {
      const c = generateSimdCase(seed);
      const run = await runOnQemu(imageOf(c));
      if (run.status === 124) throw new Error(`QEMU timed out on seed ${seed}`);
      lines.push(`    ${JSON.stringify(String(seed))}: ${JSON.stringify({ hash: caseHash(c), status: run.status, out: run.out })}`);
    }
    writeFileSync(GOLDEN, `{\n  "qemu": "${v.major}.${v.minor}.${v.micro}",\n  "seeds": {\n${lines.join(',\n')}\n  }\n}\n`);
  });
});

describe.skipIf(REGENERATE)('random SIMD&FP sequences on Tagvisor match QEMU (golden)', () => {
  const golden = REGENERATE ? { qemu: '', seeds: {} } : (JSON.parse(readFileSync(GOLDEN, 'latin1')) as Golden);
  it.each(SEEDS)('seed %i', async (seed) => {
    const c = generateSimdCase(seed);
    const truth = golden.seeds[String(seed)];
    if (!truth || truth.hash !== caseHash(c)) expect.fail(`seed ${seed}: golden/simd-seeds.json is missing it or recorded another case (generator changed?): TAGVISOR_SIMD_REGENERATE=1 npx vitest run test/random/simd.test.ts`);
    const tagvisor = await runOnTagvisor(imageOf(c));
    if (!same(truth, tagvisor)) expect.fail(mismatchReport(`SIMD seed ${seed} (${c.mode})`, c, truth, tagvisor, reproduce(seed)));
  });
});

describe.runIf(qemuAvailable() && !REGENERATE)('random SIMD&FP sequences live against QEMU', () => {
  it(`live: ${LIVE_SEEDS} fresh seeds from ${LIVE_BASE}`, { timeout: Math.max(120_000, LIVE_SEEDS * 2_000) }, async () => {
    const started = performance.now();
    const failures: string[] = [];
    const failed: number[] = [];
    let ran = 0;
    for (let seed = LIVE_BASE; seed < LIVE_BASE + LIVE_SEEDS; seed++) {
      if (performance.now() - started > LIVE_BUDGET_MS) break;
      const c = generateSimdCase(seed);
      const image = imageOf(c);
      const qemuRun = runOnQemu(image);
      const tagvisor = await runOnTagvisor(image);
      const qemu = await qemuRun;
      ran++;
      if (qemu.status === 124) expect.fail(`QEMU timed out on seed ${seed}`);
      if (!same(qemu, tagvisor)) {
        failed.push(seed);
        if (failures.length < 3) failures.push(mismatchReport(`SIMD seed ${seed} (${c.mode})`, c, qemu, tagvisor, reproduce(seed)));
      }
    }
    expect(ran).toBeGreaterThan(0);
    if (failed.length > 0) expect.fail(`${failed.length} of ${ran} seeds differ: ${failed.join(' ')}\n\n${failures.join('\n\n')}`);
  });
});
