/**
 * When pre-copy may stop and copy, and how a guest that dirties memory faster than the link
 * carries it is made to converge (docs/migration-protocol.md §6, "Convergence").
 *
 * The stop-and-copy starts only when the expected downtime fits the bound: the dirty rest plus
 * the device states at the measured rate, plus the round trip the commit needs. A guest whose
 * rest does not shrink is throttled as QEMU's auto-converge does: the vCPU is held back 20 % of
 * the time, then 10 points more each round the guest still outpaces the link, up to 99 %. If even
 * 99 % does not converge within 10 more rounds (or 10 rounds find nothing dirty and the fixed
 * costs alone exceed the bound), the migration fails and the guest keeps running
 * on the source: the bound is never overshot on the policy's own account. Only an explicit round
 * limit (`max-rounds`) forces a stop-and-copy that may exceed it, and the result says so.
 */

/** QEMU's defaults: cpu-throttle-initial 20, cpu-throttle-increment 10, max-cpu-throttle 99. */
export const THROTTLE_INITIAL = 0.2;
export const THROTTLE_INCREMENT = 0.1;
export const THROTTLE_MAX = 0.99;
/** QEMU's throttle-trigger-threshold: the guest dirtied more than this share of what a round sent. */
const DIRTY_TRIGGER = 0.5;
/** The rest "stopped shrinking" when a round left more than this share of the previous rest. */
const NO_PROGRESS = 0.9;
/** Rounds this short measure latency, not bandwidth: keep the previous estimate. */
const MIN_MEASURED_BYTES = 1 << 20;

export const DEFAULT_MAX_DOWNTIME_MS = 50;
/**
 * The share of the rounds' measured rate the stop-and-copy gets. Rounds are pipelined (encoder
 * threads, the socket and the destination's decoder threads all busy at once); the paused copy
 * encodes on the source's thread and applies on the destination's, one after the other, so it
 * moves pages at about half that rate. Estimating with the rounds' rate made a 256 MiB dirtying
 * guest stop at an expected 48.6 ms and take 73 ms (bound 50).
 */
export const PAUSED_RATE_SHARE = 0.5;
/**
 * The stop-and-copy starts when the estimate fits this share of the bound: the estimate comes
 * from the rounds' measures, which the paused copy repeats only roughly (±10-20 % on the
 * development machine: 47.4 ms expected, 50.2 ms taken).
 */
export const STOP_MARGIN = 0.8;
/** Rounds at the maximum throttle, or with nothing dirty, before the policy gives up. */
const ROUNDS_AT_MAX_THROTTLE = 10;

/**
 * Work is counted in "page bytes": 4104 per page of data (its bytes and its 8-byte entry, as if raw; format 3) and
 * 137 per page of tags, whatever the page turned out to be. A round of zero pages puts few bytes
 * on the wire yet takes time to scan; counting the work, not the wire, keeps the estimate honest
 * for the rest, whose pages are mostly not zero (they were just written).
 */
export const WORK_PER_DATA_PAGE = 4096 + 8;
export const WORK_PER_TAG_PAGE = 128 + 9;

export interface RoundMeasure {
  /** Page bytes the round carried and how long until the destination acknowledged them. */
  readonly workBytes: number;
  readonly elapsedMs: number;
  /** Page bytes of what the guest dirtied meanwhile (the next round's work). */
  readonly dirtyBytes: number;
}

export type Decision =
  | { readonly kind: 'stop-and-copy'; readonly expectedDowntimeMs: number; readonly forced: boolean }
  | { readonly kind: 'continue' }
  | { readonly kind: 'give-up'; readonly reason: string };

export class ConvergencePolicy {
  /** Share of time the vCPU is held back (machine.throttle). */
  throttle = 0;
  /** Page bytes per second, 0 until a round of at least 1 MiB was measured. */
  rate = 0;
  private highRounds = 0;
  private previousRest = Infinity;
  private stuckRounds = 0;

  constructor(
    readonly maxDowntimeMs: number,
    /** Stop and copy after this many rounds whatever the estimate (the user's explicit choice); Infinity: never. */
    readonly maxRounds: number,
    /** Bytes that go out paused whatever the rest is: the device states and END. */
    private readonly fixedBytes: number,
    /** The commit's round trip: HELLO to ACCEPT at first, then the shortest round seen (every round ends with one). */
    private fixedMs: number,
    /** Saving the device states here and loading them there. */
    private readonly stateMs = 0,
  ) {}

  expectedDowntimeMs(restBytes: number): number {
    if (this.rate <= 0) return Infinity;
    return ((restBytes + this.fixedBytes) / (this.rate * PAUSED_RATE_SHARE)) * 1000 + this.fixedMs + this.stateMs;
  }

  /** After `rounds` complete rounds, the last measured by `last`: what to do with the rest. */
  decide(rounds: number, last: RoundMeasure): Decision {
    // A round is at least a round trip: a short one bounds it better than HELLO's, which paid for start-up.
    this.fixedMs = Math.min(this.fixedMs, last.elapsedMs);
    if (last.workBytes >= MIN_MEASURED_BYTES || this.rate === 0) {
      // The round's time includes its SYNC's round trip, which the estimate counts separately.
      const busyMs = Math.max(last.elapsedMs - this.fixedMs, last.elapsedMs / 2);
      if (busyMs > 0 && last.workBytes > 0) this.rate = (last.workBytes / busyMs) * 1000;
    }
    const rest = last.dirtyBytes;
    const expected = this.expectedDowntimeMs(rest);
    if (expected <= this.maxDowntimeMs * STOP_MARGIN) return { kind: 'stop-and-copy', expectedDowntimeMs: expected, forced: false };
    if (rounds >= this.maxRounds) return { kind: 'stop-and-copy', expectedDowntimeMs: expected, forced: true };
    // Throttled all the way, or nothing left to wait for (the fixed costs alone exceed the bound).
    if ((this.throttle >= THROTTLE_MAX || rest === 0) && ++this.stuckRounds > ROUNDS_AT_MAX_THROTTLE) {
      return {
        kind: 'give-up',
        reason:
          `did not converge: after ${rounds} rounds (vCPU throttled ${Math.round(this.throttle * 100)} %), the stop-and-copy needs ~${Math.round(expected)} ms ` +
          `(${rest} bytes of pages at ${(this.rate / 2 ** 20).toFixed(0)} MiB/s, the device states, a round trip), above the maximum downtime of ${this.maxDowntimeMs} ms ` +
          `(the stop-and-copy starts at ${Math.round(STOP_MARGIN * 100)} % of it, for the estimate's error)`,
      };
    }
    const outpaced = last.dirtyBytes > last.workBytes * DIRTY_TRIGGER || rest > this.previousRest * NO_PROGRESS;
    this.previousRest = rest;
    this.highRounds = outpaced ? this.highRounds + 1 : 0;
    // Two rounds in a row to start throttling (as QEMU), then one per further step.
    if (this.highRounds >= (this.throttle === 0 ? 2 : 1)) {
      this.highRounds = 0;
      this.throttle = this.throttle === 0 ? THROTTLE_INITIAL : Math.min(THROTTLE_MAX, this.throttle + THROTTLE_INCREMENT);
    }
    return { kind: 'continue' };
  }
}
