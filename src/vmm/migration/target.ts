import type { VirtMachine } from '../machine.js';
import type { MigrationChannel } from './channel.js';
import { encodeSection, isRamSection, Section } from './sections.js';
import { CapabilityError, StreamTarget } from './stream-target.js';
import { StreamOpener } from './sealing.js';
import { StreamFormatError } from './value-codec.js';
import { inPhase } from './errors.js';
import { encodeCommitted, encodeSync } from './payloads.js';
import { encodeListen, POSTCOPY_VERSION } from './postcopy.js';
import { regionMemories, type DecoderPool, type DecoderPoolFactory } from './encoder-pool.js';
import { ACTIVITY_MIGRATION } from '../../memory/index.js';

/**
 * The receiving side of live migration. `machine` is a fresh machine with the same options as
 * the source and no image; it never runs unless the whole stream arrives and validates. On any
 * problem it tells the source (REFUSE) when the connection still works and rejects with the
 * reason (a MigrationError naming the phase: hello, memory, device state, commit); the caller
 * then exits without having run the guest. A stalled link is the channel's to time out.
 */
export async function receiveMigration(machine: VirtMachine, channel: MigrationChannel, options: ReceiveOptions = {}): Promise<void> {
  const target = new StreamTarget(machine, 'direct');
  let opener: StreamOpener | null = null;
  let phase = 'hello';
  const regions = machine.vm.memory.space.ramRegions;
  // Decoder threads for a plain stream (a sealed one is opened here, section by section).
  // Started once HELLO says pages will come on this connection (post-copy needs none, and
  // starting threads would slow its switch-over down).
  let decoders: DecoderPool | null = null;
  const applying = new Applying(() => decoders, (perRegion) => {
    target.countRam(perRegion.reduce((a, b) => a + b, 0));
    // A fresh target: no dirty log, no decoded code to drop; only the viewer's counters.
    perRegion.forEach((pages, i) => (regions[i]!.activity.dataPages[ACTIVITY_MIGRATION]! += pages));
  });
  /** When the source paused its guest (its paused SYNC, else END): the downtime clock. */
  let pausedAt = 0;
  try {
    while (!target.done) {
      const received = await channel.receive();
      // A protected VM's stream is sealed after HELLO: authenticate and unwrap each chunk.
      const section = opener ? await opener.open(received) : received;
      if (section.type === Section.STATE) phase = 'device state';
      // Once the source paused, RAM is applied here: a hand-off would add its latency to the downtime.
      if (isRamSection(section.type) && section.unverified && applying.active && pausedAt === 0) {
        target.expectRam(section.type);
        await applying.add(section.unverified);
        continue;
      }
      // Everything else waits for the pages before it: SYNCED and END mean "all applied".
      await applying.drain();
      target.accept(section);
      if (section.type === Section.SYNC) {
        const mark = target.lastSync!;
        // Pages are applied as they arrive, so a round's SYNC is answered at once.
        if (mark.paused) pausedAt = performance.now();
        else await channel.send(encodeSection(Section.SYNCED, encodeSync(mark)));
      }
      if (section.type === Section.END && pausedAt === 0) pausedAt = performance.now();
      if (section.type === Section.HELLO) phase = 'memory';
      if (section.type === Section.HELLO) {
        if (target.caps?.protected) {
          if (!options.key) throw new CapabilityError('the source is a protected VM and this destination has no migration key');
          opener = await StreamOpener.create(options.key, target.hello!);
        }
        if (target.caps?.postcopy !== undefined) {
          if (!options.postcopy) throw new CapabilityError('the source asks for post-copy and this destination cannot (it needs shared guest memory and worker threads)');
          if (target.caps.postcopy !== POSTCOPY_VERSION) throw new CapabilityError(`post-copy version ${target.caps.postcopy} is not supported (this destination knows ${POSTCOPY_VERSION})`);
        } else if (!machine.protection) decoders = options.decoders?.(regionMemories(regions)) ?? null;
        await channel.send(encodeSection(Section.ACCEPT, new Uint8Array(0)));
      }
    }
    if (target.postcopy) {
      phase = 'post-copy';
      // Every page is missing until the page connection brings it (demanded ones first); the
      // guest starts once that connection is in, and never before.
      const pages = await options.postcopy!(machine);
      try {
        await channel.send(encodeSection(Section.LISTEN, encodeListen(pages.port)));
        await pages.connected;
      } catch (error) {
        pages.abort();
        throw error;
      }
      target.commit();
      machine.restored('running');
      return;
    }
    phase = 'commit';
    // The source sends nothing after END until it hears from us: anything more is not a stream.
    const extra = channel.pendingBytes?.() ?? 0;
    if (extra > 0) throw new StreamFormatError(`${extra} unexpected bytes after the END section`);
    target.commit();
    // Start the guest only once COMMITTED is on its way: if it cannot be sent, this machine
    // never runs (the source, which then hears nothing, stays paused: no split brain).
    machine.restored('paused');
    await channel.send(encodeSection(Section.COMMITTED, encodeCommitted({ downtimeMs: performance.now() - pausedAt })));
    machine.restored('running');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await channel.send(encodeSection(Section.REFUSE, new TextEncoder().encode(reason))).catch(() => {});
    throw inPhase(phase, error);
  } finally {
    await applying.drain().catch(() => {});
    decoders?.close();
    channel.close();
  }
}

export interface ReceiveOptions {
  /** A protected VM's migration key. */
  readonly key?: Uint8Array;
  /** Decoder threads for RAM sections (Node: worker threads over shared guest memory); default: this thread. */
  readonly decoders?: DecoderPoolFactory;
  /**
   * Post-copy (docs/migration-protocol.md §9), where the host can: mark every page missing with a
   * fetcher that blocks on the page connection, and listen for that connection. Without it a
   * source asking for post-copy is refused at HELLO.
   */
  readonly postcopy?: (machine: VirtMachine) => Promise<PostcopyPages>;
}

/** The destination's page connection, listening (postcopy.ts; Node: src/node/migration/postcopy.ts). */
export interface PostcopyPages {
  /** Where it listens (sent to the source in LISTEN). */
  readonly port: number;
  /** Resolves once the source connected; rejects if it does not come. */
  readonly connected: Promise<void>;
  /** The guest will not start: stop listening, forget the missing pages. */
  abort(): void;
}

/** RAM sections in flight on decoder threads: a few at a time, all finished at every barrier. */
class Applying {
  private inFlight: Promise<void>[] = [];
  private failure: unknown = null;

  constructor(
    private readonly pools: () => DecoderPool | null,
    private readonly applied: (perRegion: number[]) => void,
  ) {}

  private get pool(): DecoderPool | null {
    return this.pools();
  }

  get active(): boolean {
    return this.pool !== null;
  }

  async add(frame: Uint8Array): Promise<void> {
    const job = this.pool!.applyRam(frame).then(this.applied, (error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.push(job);
    if (this.inFlight.length >= this.pool!.depth) await this.inFlight.shift();
    this.check();
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    this.check();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }
}
