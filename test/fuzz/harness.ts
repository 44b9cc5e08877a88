/**
 * The fuzzing harness (docs/fuzzing.md): property-based generation with fast-check, mostly by
 * mutating valid seeds, with counts rather than a first failure. Every case ends in one of:
 * - accepted: the input was valid (and the target's oracle agreed);
 * - refused: a clean, expected refusal (the target's own error class: bad input, one line);
 * - crash: any other exception (an internal error: a bug);
 * - wrongful acceptance: the oracle says the input should have been refused (a bug);
 * and a case slower than the per-case bound also counts as a hang.
 * `npm test` runs a few thousand cases per target with fixed seeds; `npm run fuzz` 100,000.
 */
import fc from 'fast-check';

export type Verdict = 'accepted' | 'refused';

/** Thrown by a target's oracle: the input was accepted but should not have been. */
export class WrongfulAcceptance extends Error {
  override readonly name = 'WrongfulAcceptance';
}

export interface FuzzTarget<T> {
  readonly name: string;
  readonly input: fc.Arbitrary<T>;
  /** Runs one case. Expected refusals return 'refused'; anything thrown is a crash or a WrongfulAcceptance. */
  run(input: T): Verdict | Promise<Verdict>;
  /** Prints an input for a report (short). */
  show?(input: T): string;
}

export interface FuzzReport {
  readonly target: string;
  cases: number;
  accepted: number;
  refusals: number;
  crashes: number;
  wrongful: number;
  hangs: number;
  slowestMs: number;
  seconds: number;
  peakRssMiB: number;
  firstProblem?: string;
}

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** A case slower than this is a hang. */
  readonly caseTimeMs: number;
}

/** From the environment: TAGVISOR_FUZZ_CASES (default `shortCases`), TAGVISOR_FUZZ_SEED (default 1). */
export function fuzzOptions(shortCases: number): FuzzOptions {
  const cases = Number(process.env.TAGVISOR_FUZZ_CASES ?? shortCases);
  return { cases, seed: Number(process.env.TAGVISOR_FUZZ_SEED ?? 1), caseTimeMs: Number(process.env.TAGVISOR_FUZZ_CASE_MS ?? 2000) };
}

/** True when `npm run fuzz` runs the long campaign (vitest's timeout must not apply). */
export const longRun = process.env.TAGVISOR_FUZZ_CASES !== undefined;
export const FUZZ_TEST_TIMEOUT = longRun ? 24 * 3600 * 1000 : 60_000;

const BATCH = 500;

export async function fuzz<T>(target: FuzzTarget<T>, options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { target: target.name, cases: 0, accepted: 0, refusals: 0, crashes: 0, wrongful: 0, hangs: 0, slowestMs: 0, seconds: 0, peakRssMiB: 0 };
  const started = performance.now();
  const show = (input: T) => (target.show ? target.show(input) : fc.stringify(input)).slice(0, 400);
  for (let batch = 0; report.cases < options.cases; batch++) {
    const inputs = fc.sample(target.input, { seed: options.seed * 1_000_003 + batch, numRuns: Math.min(BATCH, options.cases - report.cases) });
    for (const input of inputs) {
      const t0 = performance.now();
      try {
        const verdict = await target.run(input);
        if (verdict === 'accepted') report.accepted++;
        else report.refusals++;
      } catch (error) {
        const wrongful = error instanceof WrongfulAcceptance;
        if (wrongful) report.wrongful++;
        else report.crashes++;
        report.firstProblem ??= `${wrongful ? 'wrongful acceptance' : 'crash'}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} on ${show(input)}`;
      }
      const ms = performance.now() - t0;
      report.slowestMs = Math.max(report.slowestMs, ms);
      if (ms > options.caseTimeMs) {
        report.hangs++;
        report.firstProblem ??= `hang: ${ms.toFixed(0)} ms on ${show(input)}`;
      }
      report.cases++;
    }
  }
  report.seconds = Math.round((performance.now() - started) / 10) / 100;
  report.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  await writeReport(report);
  return report;
}

/** `npm run fuzz` collects the reports from TAGVISOR_FUZZ_REPORT_DIR. */
async function writeReport(report: FuzzReport): Promise<void> {
  const dir = process.env.TAGVISOR_FUZZ_REPORT_DIR;
  if (!dir) return;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/${report.target}.json`, JSON.stringify(report));
}

// ---- Mutation of valid seeds ----

const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fffe, 4096, 4095];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

// Positions anywhere in the input, and sometimes at its edges (fast-check's bias favours 0).
// (fc.double is uniform over representations, not values: nearly all of them are tiny.)
const fraction = (arb: fc.Arbitrary<number>) => arb.map((n) => n / 2 ** 31);
const position = fc.oneof({ weight: 4, arbitrary: fraction(fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 }))) }, { weight: 1, arbitrary: fraction(fc.integer({ min: 0, max: 2 ** 31 - 1 })) });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('byte' as const), at: position, value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x41) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('word' as const), at: position, value: fc.constantFrom(...INTERESTING_32) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
);

function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes: Uint8Array = new Uint8Array(seed); // a copy (Buffer.slice would be a view)
  for (const m of mutations) {
    const at = Math.floor(m.at * Math.max(bytes.length, 1));
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at]! ^= 1 << m.bit;
        break;
      case 'byte':
        if (at < bytes.length) bytes[at] = m.value;
        break;
      case 'word':
        if (at + 4 <= bytes.length) new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, m.value, true);
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'insert':
        bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
        break;
      case 'delete':
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + m.length));
        break;
      case 'duplicate':
        bytes = concat(bytes.subarray(0, at + m.length), bytes.subarray(at, at + m.length), bytes.subarray(at + m.length));
        break;
    }
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Inputs made from `seeds`: unchanged (the valid baseline), mutated 1 to 8 times, or (rarely)
 * random bytes. `fix` may repair what would make every mutant fail the same shallow check
 * (stream checksums), so the mutants reach the deep parsers.
 */
export function mutatedSeeds(seeds: readonly Uint8Array[], fix: (bytes: Uint8Array) => Uint8Array = (b) => b): fc.Arbitrary<Uint8Array> {
  const seedIndex = fc.integer({ min: 0, max: seeds.length - 1 });
  return fc.oneof(
    { weight: 1, arbitrary: seedIndex.map((i) => seeds[i]!) },
    { weight: 16, arbitrary: fc.record({ i: seedIndex, ms: fc.array(mutationArb, { minLength: 1, maxLength: 8 }), fixed: fc.boolean() }).map(({ i, ms, fixed }) => (fixed ? fix(mutate(seeds[i]!, ms)) : mutate(seeds[i]!, ms))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  );
}
