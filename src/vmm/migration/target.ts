import type { VirtMachine } from '../machine.js';
import type { MigrationChannel } from './channel.js';
import { encodeSection, Section } from './sections.js';
import { CapabilityError, StreamTarget } from './stream-target.js';
import { StreamOpener } from './sealing.js';
import { StreamFormatError } from './value-codec.js';
import { inPhase } from './errors.js';
import { encodeCommitted, encodeSync } from './payloads.js';

/**
 * The receiving side of live migration. `machine` is a fresh machine with the same options as
 * the source and no image; it never runs unless the whole stream arrives and validates. On any
 * problem it tells the source (REFUSE) when the connection still works and rejects with the
 * reason (a MigrationError naming the phase: hello, memory, device state, commit); the caller
 * then exits without having run the guest. A stalled link is the channel's to time out.
 */
export async function receiveMigration(machine: VirtMachine, channel: MigrationChannel, options: { key?: Uint8Array } = {}): Promise<void> {
  const target = new StreamTarget(machine, 'direct');
  let opener: StreamOpener | null = null;
  let phase = 'hello';
  /** When the source paused its guest (its paused SYNC, else END): the downtime clock. */
  let pausedAt = 0;
  try {
    while (!target.done) {
      const received = await channel.receive();
      // A protected VM's stream is sealed after HELLO: authenticate and unwrap each chunk.
      const section = opener ? await opener.open(received) : received;
      if (section.type === Section.STATE) phase = 'device state';
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
        await channel.send(encodeSection(Section.ACCEPT, new Uint8Array(0)));
      }
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
    channel.close();
  }
}
