import type { VirtMachine } from '../machine.js';
import type { MigrationChannel } from './channel.js';
import { PageEncoder } from './page-stream.js';
import { Section, type RawSection } from './sections.js';
import { migrationAccess } from './stream-target.js';
import { StreamSealer } from './sealing.js';
import { inPhase, MigrationError } from './errors.js';
import { StreamWriter } from './stream-writer.js';
import { ConvergencePolicy, DEFAULT_MAX_DOWNTIME_MS, WORK_PER_DATA_PAGE, WORK_PER_TAG_PAGE, type RoundMeasure } from './convergence.js';
import { DirtyBitmapSet } from './dirty-set.js';
import { decodeCommitted, decodeSync, encodeSync } from './payloads.js';
import { encodeSection } from './sections.js';
import type { EncodedChunk } from './chunk-codec.js';
import { decodeListen, encodePostcopy, POSTCOPY_VERSION, pushPages } from './postcopy.js';
import { InThreadEncoders, PageList, planChunks, regionMemories, type EncoderPool, type EncoderPoolFactory } from './encoder-pool.js';

export interface MigrationOptions {
  /** AES-256 key: required for a protected VM, whose stream is sealed after HELLO. */
  readonly key?: Uint8Array;
  /** Stop-and-copy once the remaining dirty set fits this long at the measured bandwidth (default 50). */
  readonly maxDowntimeMs?: number;
  /**
   * Stop and copy after this many rounds even if the rest does not fit the downtime bound (the
   * result then says the bound was exceeded). Default: no limit; auto-converge makes the guest fit.
   */
  readonly maxRounds?: number;
  /** How long to wait for the destination's ACCEPT and COMMITTED before giving up (default 30 s). */
  readonly replyTimeoutMs?: number;
  /**
   * Where pages are encoded (encoder-pool.ts): Node passes worker threads over shared guest
   * memory; default: on this thread. A protected VM's pages always go through its sealed access.
   */
  readonly encoders?: EncoderPoolFactory;
  /**
   * Post-copy (docs/migration-protocol.md §9): pause, send the device states, and let the
   * destination run at once while the pages follow on a second connection, opened by this
   * function to the port the destination names (Node: TCP to the destination's host).
   */
  readonly postcopy?: (port: number) => Promise<MigrationChannel>;
}

/**
 * What the source knows when a migration ends without COMMITTED (docs/migration-protocol.md §6):
 * 'resumed' - the destination cannot have committed (the failure came before END was sent, or
 * it refused): the guest runs on here; 'postmigrate' - END was sent and the answer never came:
 * the destination may be running the guest, so the source stays paused until the user decides.
 */
export type FailureOutcome = 'resumed' | 'postmigrate';

/** 'postcopy-active': the guest runs on the destination and its pages are still being sent. */
export type MigrationStatus = 'setup' | 'active' | 'device' | 'postcopy-active' | 'completed' | 'failed';

/** What `query-migrate` and the progress bar show. */
export interface MigrationProgress {
  status: MigrationStatus;
  round: number;
  /** Pages of guest RAM (what round 0 sends). */
  totalPages: number;
  pagesSent: number;
  tagPagesSent: number;
  bytesSent: number;
  dataBytes: number;
  tagBytes: number;
  /** Dirty pages left after the last round. */
  remainingPages: number;
  /** Measured bandwidth, bytes per second (0 until the first round finished). */
  bandwidth: number;
  totalMs: number;
  /** Pause to COMMITTED, measured here (post-copy: pause to the destination's page connection, when its guest starts). */
  downtimeMs: number;
  /** Post-copy was asked for. */
  postcopy: boolean;
  /** Pause (its SYNC's arrival) to the guest resumed, measured by the destination (0 if it did not say). */
  targetDowntimeMs: number;
  /** What the convergence policy expected when it chose to stop and copy. */
  expectedDowntimeMs: number;
  /** The bound this migration was given. */
  maxDowntimeMs: number;
  /** Auto-converge: percent of the time the vCPU is held back (0: not throttled). */
  throttlePercent: number;
  /** The round limit forced the stop-and-copy although the rest did not fit the bound. */
  forced: boolean;
  error?: string;
  /** Set when status is 'failed'. */
  outcome?: FailureOutcome;
}


const PROGRESS_INTERVAL_MS = 250;
/** Guest instructions between event-loop turns while streaming (~1 ms at interpreter speed). */
const MIGRATION_SLICE = 50_000;

/**
 * Pre-copy live migration of a running machine (docs/migration-protocol.md §6). The guest keeps
 * running while memory and tags are copied round by round (every await lets the machine's run
 * loop take a slice); it is paused only for the last round and the device states. If anything
 * fails before the target commits, dirty logging stops and the guest continues as if nothing
 * happened.
 */
export class MigrationSource {
  readonly progress: MigrationProgress = {
    status: 'setup', round: 0, totalPages: 0, pagesSent: 0, tagPagesSent: 0, bytesSent: 0, dataBytes: 0, tagBytes: 0,
    remainingPages: 0, bandwidth: 0, totalMs: 0, downtimeMs: 0, postcopy: false, targetDowntimeMs: 0, expectedDowntimeMs: 0, maxDowntimeMs: 0, throttlePercent: 0, forced: false,
  };
  onProgress: (progress: MigrationProgress) => void = () => {};
  private readonly maxDowntimeMs: number;
  private readonly maxRounds: number;
  private queue: Uint8Array[] = [];
  private lastReport = 0;
  private readonly key: Uint8Array | undefined;
  private readonly replyTimeoutMs: number;
  private sealer: StreamSealer | null = null;
  private readonly encoders: EncoderPoolFactory;
  private readonly postcopy: ((port: number) => Promise<MigrationChannel>) | null;
  /** Unprotected VMs: chunks encoded straight from guest memory, maybe on other threads. */
  private pool: EncoderPool | null = null;
  /** Where the migration is, for error messages: "hello", "pre-copy round N", "device state", "commit". */
  private phase = 'setup';
  /** The error that ended a failed migration, named by phase, with the original as `cause`. */
  failure: MigrationError | null = null;

  constructor(
    private readonly machine: VirtMachine,
    private readonly channel: MigrationChannel,
    options: MigrationOptions = {},
  ) {
    this.key = options.key;
    this.replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
    this.encoders = options.encoders ?? ((regions) => new InThreadEncoders(regions));
    this.maxDowntimeMs = options.maxDowntimeMs ?? DEFAULT_MAX_DOWNTIME_MS;
    this.maxRounds = options.maxRounds ?? Infinity;
    this.progress.maxDowntimeMs = this.maxDowntimeMs;
    this.postcopy = options.postcopy ?? null;
    this.progress.postcopy = this.postcopy !== null;
  }

  /** Runs the migration to the end. Resolves with the final progress (status completed or failed). */
  async run(): Promise<MigrationProgress> {
    const started = performance.now();
    const machine = this.machine;
    const wasRunning = machine.state === 'running';
    let pausedAt = 0;
    /** Set once END is handed to the channel: from then on the destination may commit. */
    let commitRequested = false;
    /** The destination said REFUSE: whatever the phase, it did not commit. */
    let refused = false;
    /**
     * Releases the hold that keeps this guest paused from the stop-and-copy (or post-copy's
     * switch) on: a `cont` or a debugger's step while its last pages and states go out, or while
     * it runs at a post-copy destination, would make two of it.
     */
    let holdPaused: (() => void) | null = null;
    machine.setDirtyLogging(true);
    const sliceLimit = machine.sliceLimit;
    machine.sliceLimit = Math.min(sliceLimit, MIGRATION_SLICE);
    try {
      this.phase = 'hello';
      if (machine.state !== 'running' && machine.state !== 'paused') throw new Error(`cannot migrate a machine that is ${machine.state}`);
      if (machine.protection && !this.key) throw new Error('a protected VM migrates only encrypted: no migration key was given');
      if (this.postcopy && machine.protection) throw new Error('a protected VM cannot post-copy (its pages leave only in sealed sections)');
      // Encoder threads start now: they boot (~100-200 ms of module loading) during HELLO's round trip.
      if (!machine.protection && !this.postcopy) this.pool = this.encoders(regionMemories(machine.vm.memory.space.ramRegions));
      const writer = new StreamWriter(machine, this.postcopy ? POSTCOPY_VERSION : undefined);
      const helloSent = performance.now();
      await this.channel.send(writer.helloSection());
      const reply = await this.reply('HELLO');
      if (reply.type === Section.REFUSE) {
        refused = true;
        throw new Error(`destination refused: ${new TextDecoder().decode(reply.payload)}`);
      }
      if (reply.type !== Section.ACCEPT) throw new Error(`unexpected reply 0x${reply.type.toString(16)} to HELLO`);
      const roundTripMs = performance.now() - helloSent;
      this.progress.status = 'active';
      if (machine.protection) this.sealer = await StreamSealer.create(this.key!, writer.hello);

      const memory = migrationAccess(machine);
      this.progress.totalPages = memory.layout().reduce((pages, r) => pages + r.size / 4096, 0);
      if (this.postcopy) {
        pausedAt = performance.now();
        await this.switchToPostcopy(writer, this.postcopy, () => (commitRequested = true), (why) => (refused = why));
        // The guest runs there now. Until the migration ends (completed, or failed into
        // postmigrate where `cont` is the user's way back) it stays paused.
        holdPaused = machine.holdPaused('the guest runs on the post-copy destination: the source stays paused until the migration ends');
        this.progress.downtimeMs = performance.now() - pausedAt;
        this.onProgress(this.progress);
        const switchBytes = this.progress.bytesSent;
        await pushPages(machine.vm.memory.space.ramRegions, this.pages!, (sent, bytes) => {
          this.progress.pagesSent = sent;
          this.progress.bytesSent = switchBytes + bytes;
          this.progress.remainingPages = this.progress.totalPages - sent;
          this.report();
        });
        this.progress.status = 'completed';
        machine.setDirtyLogging(false);
        machine.migrated();
        return this.progress;
      }
      const encoder = new PageEncoder(memory, (section) => this.queue.push(section));
      // What goes out paused whatever the rest is: the device states (sized now) and END; saving
      // them here and loading them there take about twice what saving takes here.
      let stateBytes = 0;
      let stateMs = Infinity;
      for (let sample = 0; sample < 2; sample++) {
        // The faster of two: the first pays for warming up.
        const savingStarted = performance.now();
        stateBytes = writer.stateSections().reduce((sum, section) => sum + section.length, 256);
        stateMs = Math.min(stateMs, 2 * (performance.now() - savingStarted));
      }
      const policy = new ConvergencePolicy(this.maxDowntimeMs, this.maxRounds, stateBytes, roundTripMs, stateMs);
      // Round 0: everything. A fresh target's pages are zero and never tagged, so
      // uninitialised tags need no announcement yet.
      let measure = await this.round(encoder, PageList.everything(memory.layout()));
      for (;;) {
        const { data, tags, pages, tagPages } = this.takeDirty();
        this.progress.remainingPages = pages + tagPages;
        const decision = policy.decide(this.progress.round, { ...measure, dirtyBytes: pages * WORK_PER_DATA_PAGE + tagPages * WORK_PER_TAG_PAGE });
        machine.throttle = policy.throttle;
        this.progress.throttlePercent = Math.round(policy.throttle * 100);
        if (decision.kind === 'give-up') throw new Error(decision.reason);
        if (decision.kind === 'stop-and-copy') {
          // Stop and copy: these dirty pages go out with the guest paused.
          if (machine.state !== 'running' && machine.state !== 'paused') throw new Error(`the guest ended during the migration (the machine is ${machine.state})`);
          pausedAt = performance.now();
          this.progress.expectedDowntimeMs = decision.expectedDowntimeMs;
          this.progress.forced = decision.forced;
          if (machine.state === 'running') machine.pause();
          holdPaused = machine.holdPaused('the migration is copying the paused guest: the source stays paused until it ends');
          this.progress.status = 'device';
          this.phase = 'device state';
          // The destination's downtime clock starts here (format 2): sent now, not behind the pages encoded next.
          this.queue.push(encodeSection(Section.SYNC, encodeSync({ round: this.progress.round, paused: true })));
          await this.drain(encoder, false);
          const last = this.takeDirty();
          data.orWith(last.data);
          tags.orWith(last.tags);
          await this.sendDirty(encoder, data, tags, false);
          break;
        }
        measure = await this.sendDirty(encoder, data, tags, true);
      }
      this.queue.push(...writer.stateSections());
      await this.drain(encoder);
      // END asks the destination to commit: from here on a lost answer leaves the outcome unknown.
      this.phase = 'commit';
      commitRequested = true;
      this.queue.push(writer.endSection(encoder.stats, this.progress.round));
      await this.drain(encoder);
      const verdict = await this.reply('END');
      if (verdict.type === Section.REFUSE) {
        refused = true;
        throw new Error(`destination refused: ${new TextDecoder().decode(verdict.payload)}`);
      }
      if (verdict.type !== Section.COMMITTED) throw new Error(`unexpected reply 0x${verdict.type.toString(16)} to END`);
      this.progress.downtimeMs = performance.now() - pausedAt;
      this.progress.targetDowntimeMs = decodeCommitted(verdict.payload).downtimeMs ?? 0;
      this.progress.status = 'completed';
      machine.setDirtyLogging(false);
      machine.migrated();
    } catch (error) {
      const failure = inPhase(this.phase, error);
      this.progress.status = 'failed';
      this.progress.error = failure.message;
      this.failure = failure;
      machine.setDirtyLogging(false);
      // A REFUSE that arrived before the connection broke still proves the destination did not commit.
      const refusal = commitRequested && !refused ? await this.refusalReceived() : null;
      if (refusal !== null) {
        refused = true;
        this.failure = new MigrationError(this.phase, new Error(`destination refused: ${refusal}`));
        this.progress.error = this.failure.message;
      }
      if (commitRequested && !refused) {
        // Split brain is worse than downtime: stay paused, say so, let the user decide.
        this.progress.outcome = 'postmigrate';
        if (machine.state === 'running') machine.pause();
        machine.events.emit('stop', { reason: 'postmigrate' });
      } else {
        this.progress.outcome = 'resumed';
        holdPaused?.();
        if (wasRunning && machine.state === 'paused') machine.resume();
      }
    } finally {
      holdPaused?.();
      this.pool?.close();
      this.pages?.close();
      machine.sliceLimit = sliceLimit;
      machine.throttle = 0;
      this.channel.close();
      this.progress.totalMs = performance.now() - started;
      this.onProgress(this.progress);
    }
    return this.progress;
  }

  /** Sections an encoder pool built in buffers it wants back once written (EncoderPool.recycle). */
  private readonly recyclable = new WeakMap<Uint8Array, EncoderPool>();

  /** Post-copy: the page connection, once open. */
  private pages: MigrationChannel | null = null;

  /**
   * Post-copy's switch-over: pause, send every device state and POSTCOPY, connect to the port
   * the destination answers with. Once connected the destination may run the guest: `handedOver`
   * marks the point after which a failure leaves this guest paused (postmigrate), never resumed.
   */
  private async switchToPostcopy(writer: StreamWriter, connect: (port: number) => Promise<MigrationChannel>, handedOver: () => void, refused: (why: boolean) => void): Promise<void> {
    const machine = this.machine;
    if (machine.state === 'running') machine.pause();
    this.progress.status = 'device';
    this.phase = 'device state';
    const states = writer.stateSections();
    this.queue.push(...states, encodeSection(Section.POSTCOPY, encodePostcopy({ version: POSTCOPY_VERSION, states: states.length, pages: this.progress.totalPages })));
    for (const section of this.queue.splice(0)) {
      await this.channel.send(section);
      this.progress.bytesSent += section.length;
    }
    const answer = await this.reply('POSTCOPY');
    if (answer.type === Section.REFUSE) {
      refused(true);
      throw new Error(`destination refused: ${new TextDecoder().decode(answer.payload)}`);
    }
    if (answer.type !== Section.LISTEN) throw new Error(`unexpected reply 0x${answer.type.toString(16)} to POSTCOPY`);
    this.phase = 'post-copy';
    this.pages = await connect(decodeListen(answer.payload));
    handedOver();
    this.progress.status = 'postcopy-active';
  }

  /** Progress within a long phase, at most a few times a second. */
  private report(): void {
    const now = performance.now();
    if (now - this.lastReport >= PROGRESS_INTERVAL_MS) {
      this.lastReport = now;
      this.onProgress(this.progress);
    }
  }

  /** The reason of a REFUSE already waiting in the channel (read without waiting for more), or null. */
  private async refusalReceived(): Promise<string | null> {
    const now = new Promise<null>((resolve) => setTimeout(() => resolve(null), 0));
    const section = await Promise.race([this.channel.receive().catch(() => null), now]);
    return section?.type === Section.REFUSE ? new TextDecoder().decode(section.payload) : null;
  }

  /** The destination's answer to `what`, or an error when it hangs (a frozen destination must not freeze the source). */
  private async reply(what: string): Promise<RawSection> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the destination did not answer ${what} within ${this.replyTimeoutMs / 1000} s`)), this.replyTimeoutMs);
    });
    try {
      return await Promise.race([this.channel.receive(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One round: stream the listed pages. A pre-copy round (`acknowledged`) ends with a SYNC and
   * waits for the destination's SYNCED, so its time covers delivery and apply, not just the
   * socket's buffers: that is the bandwidth the downtime estimate can trust.
   */
  private async round(encoder: PageEncoder, pages: PageList, acknowledged = true): Promise<Omit<RoundMeasure, 'dirtyBytes'>> {
    const before = this.progress.bytesSent;
    const started = performance.now();
    const announceUntagged = this.progress.round > 0;
    if (this.progress.status === 'active') this.phase = `pre-copy round ${this.progress.round}`;
    // Paused (the stop-and-copy), this thread is free and a hand-off to another thread would only
    // add its scheduling latency to the downtime: encode here.
    const pool = this.pool && !acknowledged ? new InThreadEncoders(regionMemories(this.machine.vm.memory.space.ramRegions)) : this.pool;
    if (pool) await this.pooled(pool, encoder, pages, announceUntagged);
    else {
      encoder.expect(pages.dataPages);
      for (let i = 0; i < pages.length; i++) {
        if (pages.data(i)) encoder.addData(pages.gpa(i));
        if (pages.tags(i)) encoder.addTags(pages.gpa(i), announceUntagged);
        // Ship what accumulated every 16 MiB or so: the socket stays busy and the guest keeps running.
        if (i % 4096 === 4095) await this.drain(encoder, false);
      }
    }
    if (acknowledged) this.queue.push(encodeSection(Section.SYNC, encodeSync({ round: this.progress.round, paused: false })));
    await this.drain(encoder);
    if (acknowledged) await this.synced(this.progress.round);
    const elapsedMs = performance.now() - started;
    const sentBytes = this.progress.bytesSent - before;
    if (elapsedMs > 0 && (sentBytes >= 1 << 20 || this.progress.bandwidth === 0)) this.progress.bandwidth = (sentBytes / elapsedMs) * 1000;
    this.progress.round++;
    this.onProgress(this.progress);
    return { workBytes: pages.dataPages * WORK_PER_DATA_PAGE + pages.tagPages * WORK_PER_TAG_PAGE, elapsedMs };
  }

  /**
   * Streams pages through the encoder pool: a few chunks in flight, sent in order as they come
   * back. This thread only plans chunks and writes sockets; every await lets the guest run.
   */
  private async pooled(pool: EncoderPool, encoder: PageEncoder, pages: PageList, announceUntagged: boolean): Promise<void> {
    const jobs = planChunks(this.machine.vm.memory.space.ramRegions, pages, announceUntagged);
    const inFlight: Promise<EncodedChunk>[] = [];
    const stats = encoder.stats;
    try {
      for (let next = 0; next < jobs.length || inFlight.length > 0; ) {
        while (next < jobs.length && inFlight.length < pool.depth) inFlight.push(pool.encode(jobs[next++]!));
        const chunk = await inFlight.shift()!;
        stats.ramPages += chunk.ramPages;
        stats.zeroPages += chunk.zeroPages;
        stats.tagPages += chunk.tagPages;
        if (chunk.ram) {
          stats.dataBytes += chunk.ram.length;
          this.queue.push(chunk.ram);
          if (pool.recycle) this.recyclable.set(chunk.ram, pool);
        }
        if (chunk.tags) {
          stats.tagBytes += chunk.tags.length;
          this.queue.push(chunk.tags);
        }
        await this.drain(encoder, false);
      }
    } catch (error) {
      // The migration fails: chunks still with the encoder threads are rejected when the pool
      // closes, and nobody awaits them now (an unhandled rejection ends a Node process: the guest's).
      for (const chunk of inFlight) chunk.catch(() => undefined);
      throw error;
    }
  }

  /** Waits for the destination's SYNCED of `round`. */
  private async synced(round: number): Promise<void> {
    const answer = await this.reply(`the SYNC of round ${round}`);
    if (answer.type === Section.REFUSE) throw new Error(`destination refused: ${new TextDecoder().decode(answer.payload)}`);
    if (answer.type !== Section.SYNCED || decodeSync(answer.payload).round !== round) throw new Error(`unexpected reply 0x${answer.type.toString(16)} to SYNC`);
  }

  /** Data-dirty pages (with their tags if those changed too), then pages whose tags alone changed. */
  private async sendDirty(encoder: PageEncoder, data: DirtyBitmapSet, tags: DirtyBitmapSet, acknowledged: boolean): Promise<Omit<RoundMeasure, 'dirtyBytes'>> {
    const pages = new PageList();
    data.forEachPage((gpa) => pages.add(gpa, true, tags.has(gpa)));
    tags.forEachPage((gpa) => {
      if (!data.has(gpa)) pages.add(gpa, false, true);
    });
    return this.round(encoder, pages, acknowledged);
  }

  private takeDirty(): { data: DirtyBitmapSet; tags: DirtyBitmapSet; pages: number; tagPages: number } {
    const logs = this.machine.takeDirtyLogs();
    const data = new DirtyBitmapSet(logs.map((l) => ({ base: l.base, bitmap: l.data })));
    const tags = new DirtyBitmapSet(logs.map((l) => ({ base: l.base, bitmap: l.tags })));
    return { data, tags, pages: data.count(), tagPages: tags.count() };
  }

  /** Sends queued sections, accounting bytes; `all` flushes the encoder's partial batches too. */
  private async drain(encoder: PageEncoder, all = true): Promise<void> {
    if (all) encoder.flush();
    const stats = encoder.stats;
    for (const section of this.queue.splice(0)) {
      const bytes = this.sealer ? await this.sealer.seal(section) : section;
      const pool = this.recyclable.get(section);
      // Counted first: once written, a recycled section's buffer belongs to an encoder thread again.
      this.progress.bytesSent += bytes.length;
      await this.channel.send(bytes, pool && bytes === section ? () => pool.recycle!(section) : undefined);
    }
    this.progress.pagesSent = stats.ramPages;
    this.progress.tagPagesSent = stats.tagPages;
    this.progress.dataBytes = stats.dataBytes;
    this.progress.tagBytes = stats.tagBytes;
    this.report();
  }
}
