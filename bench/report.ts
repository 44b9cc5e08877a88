/**
 * Benchmark output and timing helpers.
 *
 * Output: one figure per line, `name: value`, units in the name (`dma_1mib_vs_copy_ratio: 0.93`,
 * `tag_export_gib_per_s: 4.1`), so scripts can grep and compare runs.
 *
 * Timing: every case is warmed up and calibrated to a batch size that runs for about `batchMs`,
 * then the cases are run in rounds, one batch of each per round, in alternating order. Cases that
 * are compared with each other are therefore measured side by side, under the same machine state
 * (frequency, cache, GC pressure), and a ratio taken from one run is meaningful.
 */

export interface TimingOptions {
  /** Time spent warming each case up (JIT tiers, inline caches) before calibration. */
  readonly warmupMs?: number;
  /** Target duration of one timed batch. */
  readonly batchMs?: number;
  /** Number of timed batches per case. */
  readonly rounds?: number;
}

export interface Timing {
  /** Fastest batch, in nanoseconds per call: the least disturbed measurement. */
  readonly bestNs: number;
  /** Median batch, in nanoseconds per call. */
  readonly medianNs: number;
  /** Calls per batch. */
  readonly batch: number;
}

const DEFAULTS: Required<TimingOptions> = { warmupMs: 150, batchMs: 40, rounds: 9 };

/** Prints one `name: value` line. Integers print as they are; other numbers with `digits` significant digits. */
export function report(name: string, value: number, digits = 3): void {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`benchmark figure name ${JSON.stringify(name)} must be snake_case`);
  const text = Number.isInteger(value) ? String(value) : Number(value.toPrecision(digits)).toString();
  console.log(`${name}: ${text}`);
}

function runBatch(fn: () => void, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return performance.now() - start;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Warms `fn` up and returns how many calls make a batch of about `batchMs`. */
function calibrate(fn: () => void, warmupMs: number, batchMs: number): number {
  const warmEnd = performance.now() + warmupMs;
  let calls = 1;
  while (performance.now() < warmEnd) {
    const ms = runBatch(fn, calls);
    if (ms < warmupMs / 8) calls *= 2;
  }
  // Scale from a measured batch of a useful length.
  let ms = runBatch(fn, calls);
  while (ms < batchMs / 4) {
    calls *= 2;
    ms = runBatch(fn, calls);
  }
  return Math.max(1, Math.round((calls * batchMs) / ms));
}

/**
 * Times several cases side by side: calibrated batches, interleaved round by round (the order
 * alternates so no case always runs right after another). Returns per-call timings by case name.
 */
export function timeInterleaved<K extends string>(cases: Record<K, () => void>, options: TimingOptions = {}): Record<K, Timing> {
  const { warmupMs, batchMs, rounds } = { ...DEFAULTS, ...options };
  const names = Object.keys(cases) as K[];
  const batches = new Map<K, number>();
  for (const name of names) batches.set(name, calibrate(cases[name], warmupMs, batchMs));
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const calls = batches.get(name)!;
      samples.get(name)!.push((runBatch(cases[name], calls) * 1e6) / calls);
    }
  }
  const result = {} as Record<K, Timing>;
  for (const name of names) {
    const ns = samples.get(name)!;
    result[name] = { bestNs: Math.min(...ns), medianNs: median(ns), batch: batches.get(name)! };
  }
  return result;
}

/** Times one case (see timeInterleaved). */
export function time(fn: () => void, options: TimingOptions = {}): Timing {
  return timeInterleaved({ only: fn }, options).only;
}

/** Bytes per nanosecond expressed as GiB per second. */
export function gibPerSecond(bytes: number, ns: number): number {
  return bytes / ns / 2 ** 30 * 1e9;
}
