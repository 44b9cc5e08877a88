import type { VirtMachine } from '../machine.js';
import type { MigrationChannel } from './channel.js';
import { encodeSection, Section } from './sections.js';
import { CapabilityError, StreamTarget } from './stream-target.js';
import { StreamOpener } from './sealing.js';

/**
 * The receiving side of live migration. `machine` is a fresh machine with the same options as
 * the source and no image; it never runs unless the whole stream arrives and validates. On any
 * problem it tells the source (REFUSE) when the connection still works and rejects with the
 * reason; the caller then exits without having run the guest.
 */
export async function receiveMigration(machine: VirtMachine, channel: MigrationChannel, options: { key?: Uint8Array } = {}): Promise<void> {
  const target = new StreamTarget(machine, 'direct');
  let opener: StreamOpener | null = null;
  try {
    while (!target.done) {
      const received = await channel.receive();
      // A protected VM's stream is sealed after HELLO: authenticate and unwrap each chunk.
      const section = opener ? await opener.open(received) : received;
      target.accept(section);
      if (section.type === Section.HELLO) {
        if (target.caps?.protected) {
          if (!options.key) throw new CapabilityError('the source is a protected VM and this destination has no migration key');
          opener = await StreamOpener.create(options.key, target.hello!);
        }
        await channel.send(encodeSection(Section.ACCEPT, new Uint8Array(0)));
      }
    }
    target.commit();
    // Start the guest only once the source knows: if COMMITTED cannot be sent, the source
    // resumes and this machine must never run (no split brain).
    machine.restored('paused');
    await channel.send(encodeSection(Section.COMMITTED, new Uint8Array(0)));
    machine.restored('running');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await channel.send(encodeSection(Section.REFUSE, new TextEncoder().encode(reason))).catch(() => {});
    throw error;
  } finally {
    channel.close();
  }
}
