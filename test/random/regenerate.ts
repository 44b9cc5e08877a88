/**
 * The golden files of the random instruction tests, and their regeneration from QEMU.
 *
 *   golden/seeds.json        QEMU's transcript for each recorded seed (GOLDEN_SEEDS):
 *                            { "<seed>": { "hash", "status", "out" } }. `hash` fingerprints the
 *                            generated state and payload, so a change to the generator is caught
 *                            (the golden file must then be regenerated).
 *   golden/regressions.json  hand-minimised cases (bugs the random tests found, and QEMU
 *                            behaviours worth pinning): name, why, state, payload words, and
 *                            QEMU's transcript.
 *
 * Regenerate both (needs qemu-system-aarch64 >= 8; review the diff before committing):
 *
 *   TAGVISOR_RANDOM_REGENERATE=1 npx vitest run test/random
 *
 * To add a regression case, append an entry with name, why, state and words (out and status
 * may be empty) to golden/regressions.json and regenerate.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qemuVersion } from '../support/qemu.js';
import type { HarnessState } from '../support/harness-image.js';
import { generateCase } from './generator.js';
import { SYSREG_SEEDS_FROM } from './sysreg-family.js';
import { caseHash, imageOf, runOnQemu, type PayloadCase, type Transcript } from './run.js';

export const GOLDEN_DIR = join(import.meta.dirname, 'golden');
export const SEEDS_FILE = join(GOLDEN_DIR, 'seeds.json');
export const REGRESSIONS_FILE = join(GOLDEN_DIR, 'regressions.json');
/** Seeds 1..GOLDEN_SEED_COUNT are recorded, and the system-register seeds after them. */
export const GOLDEN_SEED_COUNT = 120;
/** Recorded seeds of the system-register family (sysreg-family.ts): SYSREG_SEEDS_FROM + 1..40. */
export const GOLDEN_SYSREG_SEEDS = Array.from({ length: 40 }, (_, i) => SYSREG_SEEDS_FROM + 1 + i);
/** Every recorded seed. */
export const GOLDEN_SEEDS = [...Array.from({ length: GOLDEN_SEED_COUNT }, (_, i) => i + 1), ...GOLDEN_SYSREG_SEEDS];

export interface GoldenSeed extends Transcript {
  readonly hash: string;
}

export interface GoldenSeeds {
  readonly qemu: string;
  readonly seeds: Readonly<Record<string, GoldenSeed>>;
}

/** A regression case as stored: registers not listed are 0. */
interface StoredRegression {
  readonly name: string;
  readonly why: string;
  /** "x3": "0x..." for each non-zero register; "nzcv": 4-bit NZCV. */
  readonly state: Readonly<Record<string, string | number>>;
  readonly words: readonly string[];
  readonly status: number;
  readonly out: string;
}

export interface RegressionCase extends PayloadCase, Transcript {
  readonly name: string;
  readonly why: string;
}

export function readGoldenSeeds(): GoldenSeeds {
  return JSON.parse(readFileSync(SEEDS_FILE, 'latin1')) as GoldenSeeds;
}

function decodeState(stored: StoredRegression['state']): HarnessState {
  const x: bigint[] = [];
  for (let i = 0; i < 31; i++) x.push(BigInt(stored[`x${i}`] ?? 0));
  return { x, nzcv: Number(stored.nzcv ?? 0) };
}

function encodeState(state: HarnessState): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  state.x.forEach((v, i) => {
    if (v !== 0n) out[`x${i}`] = `0x${BigInt.asUintN(64, v).toString(16)}`;
  });
  if (state.nzcv) out.nzcv = state.nzcv;
  return out;
}

function readStoredRegressions(): StoredRegression[] {
  return JSON.parse(readFileSync(REGRESSIONS_FILE, 'latin1')) as StoredRegression[];
}

export function readRegressions(): RegressionCase[] {
  return readStoredRegressions().map((r) => ({
    name: r.name,
    why: r.why,
    state: decodeState(r.state),
    words: r.words.map((w) => parseInt(w, 16) >>> 0),
    status: r.status,
    out: r.out,
  }));
}

/** JSON with one entry per line, so regenerated files diff readably. */
function writeSeeds(golden: GoldenSeeds): void {
  const entries = Object.entries(golden.seeds).map(([seed, g]) => `    ${JSON.stringify(seed)}: ${JSON.stringify({ hash: g.hash, status: g.status, out: g.out })}`);
  writeFileSync(SEEDS_FILE, `{\n  "qemu": ${JSON.stringify(golden.qemu)},\n  "seeds": {\n${entries.join(',\n')}\n  }\n}\n`);
}

function writeRegressions(cases: readonly StoredRegression[]): void {
  const entries = cases.map((c) =>
    [
      '  {',
      `    "name": ${JSON.stringify(c.name)},`,
      `    "why": ${JSON.stringify(c.why)},`,
      `    "state": ${JSON.stringify(c.state)},`,
      `    "words": ${JSON.stringify(c.words)},`,
      `    "status": ${c.status},`,
      `    "out": ${JSON.stringify(c.out)}`,
      '  }',
    ].join('\n'),
  );
  writeFileSync(REGRESSIONS_FILE, `[\n${entries.join(',\n')}\n]\n`);
}

/** Reruns every golden case on QEMU and rewrites both golden files. */
export async function regenerateGolden(): Promise<void> {
  const v = qemuVersion();
  if (!v) throw new Error('regenerating the golden files needs qemu-system-aarch64');
  const seeds: Record<string, GoldenSeed> = {};
  for (const seed of GOLDEN_SEEDS) {
    const c = generateCase(seed);
    const run = await runOnQemu(imageOf(c));
    if (run.status === 124) throw new Error(`QEMU timed out on seed ${seed}`);
    seeds[String(seed)] = { hash: caseHash(c), status: run.status, out: run.out };
  }
  writeSeeds({ qemu: `${v.major}.${v.minor}.${v.micro}`, seeds });
  const regressions: StoredRegression[] = [];
  for (const stored of readStoredRegressions()) {
    const c: PayloadCase = { state: decodeState(stored.state), words: stored.words.map((w) => parseInt(w, 16) >>> 0) };
    const run = await runOnQemu(imageOf(c));
    if (run.status === 124) throw new Error(`QEMU timed out on regression ${stored.name}`);
    regressions.push({ ...stored, state: encodeState(c.state), words: c.words.map((w) => w.toString(16).padStart(8, '0')), status: run.status, out: run.out });
  }
  writeRegressions(regressions);
}
