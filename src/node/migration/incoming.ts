import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { VirtMachine } from '../../vmm/index.js';
import { listenOnce, type SocketChannel, type SocketChannelOptions } from '../migration-tcp.js';

/** Bytes of RAM committed between event-loop turns while the destination waits (~10 ms each). */
const PREFAULT_CHUNK = 16 * 2 ** 20;

export interface IncomingListener {
  /** Resolves with the bound port once the socket listens: before any RAM is touched. */
  readonly ready: Promise<number>;
  /** The source's connection. */
  readonly accepted: Promise<SocketChannel>;
  /** Resolves with the bytes of RAM prefaulted when prefaulting stopped (all of it, or less if the source came first). */
  readonly prefaulted: Promise<number>;
}

/**
 * The destination of a live migration: listen first, so a source started right after
 * `tagvisor run --incoming` finds the port (a 1 GiB prefault used to delay the listen by seconds),
 * then commit the guest's RAM in small chunks while nobody is waiting. Prefaulting stops when the
 * source connects: from then on the stream's own writes fault pages in, and the event loop
 * belongs to the stream.
 */
export function listenForMigration(machine: VirtMachine, host: string, port: number, options: SocketChannelOptions = {}): IncomingListener {
  const { ready, accepted } = listenOnce(host, port, options);
  let connected = false;
  const stop = (): void => {
    connected = true;
  };
  accepted.then(stop, stop);
  const prefaulted = ready.then(
    async () => {
      let done = 0;
      for (const region of machine.vm.memory.space.ramRegions) {
        for (let offset = 0; offset < region.size && !connected; offset += PREFAULT_CHUNK) {
          const end = Math.min(region.size, offset + PREFAULT_CHUNK);
          // Zero over zero: the contents stay, the host commits the pages.
          region.bytes.fill(0, offset, end);
          done += end - offset;
          await yieldToEventLoop();
        }
      }
      return done;
    },
    () => 0,
  );
  return { ready, accepted, prefaulted };
}
