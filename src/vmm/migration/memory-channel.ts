import type { MigrationChannel } from './channel.js';
import { SectionReader, type RawSection } from './sections.js';

export interface ChannelFaults {
  /** The connection breaks once this many bytes went from A to B. */
  readonly dropAfterBytes?: number;
  /** XOR this byte offset of the A-to-B stream with 0x01. */
  readonly corruptByte?: number;
}

let port: MessagePort | null = null;
const waiters: (() => void)[] = [];

function nextMacrotask(): Promise<void> {
  if (!port) {
    const channel = new MessageChannel();
    port = channel.port2;
    channel.port1.onmessage = () => waiters.shift()?.();
    // Never keep a process alive for this.
    (channel.port1 as unknown as { unref?: () => void }).unref?.();
    (port as unknown as { unref?: () => void }).unref?.();
  }
  const sender = port;
  return new Promise((resolve) => {
    waiters.push(resolve);
    sender.postMessage(0);
  });
}

class Endpoint implements MigrationChannel {
  peer!: Endpoint;
  readonly reader = new SectionReader();
  private waiting: { resolve: (s: RawSection) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  sent = 0;

  constructor(private readonly faults: ChannelFaults) {}

  async send(bytes: Uint8Array): Promise<void> {
    // Yield a macrotask, like a socket write: the guest's run loop gets its turn (a message
    // port rather than setTimeout, whose 1 ms floor would make every section cost a millisecond).
    await nextMacrotask();
    if (this.failure) throw this.failure;
    let chunk = bytes;
    const { dropAfterBytes, corruptByte } = this.faults;
    if (corruptByte !== undefined && corruptByte >= this.sent && corruptByte < this.sent + bytes.length) {
      chunk = bytes.slice();
      chunk[corruptByte - this.sent]! ^= 0x01;
    }
    if (dropAfterBytes !== undefined && this.sent + chunk.length > dropAfterBytes) {
      this.peer.deliver(chunk.subarray(0, Math.max(0, dropAfterBytes - this.sent)));
      this.sent = dropAfterBytes;
      this.breakBoth(new Error(`connection dropped after ${dropAfterBytes} bytes`));
      throw this.failure!;
    }
    this.sent += chunk.length;
    this.peer.deliver(chunk);
  }

  receive(): Promise<RawSection> {
    try {
      const section = this.reader.next();
      if (section) return Promise.resolve(section);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  close(): void {
    this.breakBoth(new Error('connection closed'));
  }

  pendingBytes(): number {
    return this.reader.pending;
  }

  deliver(bytes: Uint8Array): void {
    this.reader.push(bytes);
    const waiting = this.waiting;
    if (!waiting) return;
    try {
      const section = this.reader.next();
      if (section) {
        this.waiting = null;
        waiting.resolve(section);
      }
    } catch (error) {
      this.waiting = null;
      waiting.reject(error as Error);
    }
  }

  private breakBoth(error: Error): void {
    for (const end of [this, this.peer]) {
      end.failure ??= error;
      const waiting = end.waiting;
      end.waiting = null;
      waiting?.reject(end.failure);
    }
  }
}

/**
 * Two connected in-memory channel ends (A = source, B = target), with optional faults on the
 * A-to-B direction: what tests and the in-browser playground use instead of TCP.
 */
export function createChannelPair(faults: ChannelFaults = {}): [MigrationChannel, MigrationChannel] {
  const a = new Endpoint(faults);
  const b = new Endpoint({});
  a.peer = b;
  b.peer = a;
  return [a, b];
}
