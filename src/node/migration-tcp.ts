import { connect, createServer, type Socket } from 'node:net';
import { Section, SectionReader, type MigrationChannel, type RawSection } from '../vmm/migration/index.js';
import { spareFrames } from './migration/spare-frames.js';

export interface SocketChannelOptions {
  /**
   * Fail the channel when no byte moves either way for this long (a stalled link or peer), so
   * neither side waits forever (docs/migration-protocol.md §6). 0 or absent: no limit.
   */
  readonly idleTimeoutMs?: number;
  /** Leave RAM sections' checksums to decoder threads (receiveMigration's `decoders`; RawSection.unverified). */
  readonly deferRamChecksum?: boolean;
}

/** A migration channel over a TCP socket: back-pressure from `write`, sections from `data`. */
export class SocketChannel implements MigrationChannel {
  private readonly reader: SectionReader;
  private waiting: { resolve: (s: RawSection) => void; reject: (e: Error) => void } | null = null;
  private drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(
    private readonly socket: Socket,
    options: SocketChannelOptions = {},
  ) {
    this.reader = options.deferRamChecksum ? new SectionReader(new Set([Section.RAM, Section.RAM_ALIGNED]), (n) => spareFrames.take(n)) : new SectionReader();
    const idle = options.idleTimeoutMs ?? 0;
    if (idle > 0) {
      // Node's socket timeout restarts on every read and every completed write.
      socket.setTimeout(idle, () => {
        this.fail(new Error(`no bytes moved for ${idle / 1000} s (the link or the peer stalled)`));
        socket.destroy();
      });
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.wake();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed by the peer')));
  }

  /** Resolves when the socket wants more (back-pressure); rejects if the connection fails first. */
  send(bytes: Uint8Array, written?: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // Node calls back once the bytes are handed to the kernel (with an error: never reuse them).
    const done = written ? (error?: Error | null) => (error ? undefined : written()) : undefined;
    if (this.socket.write(bytes, done)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.drainWaiters.push({ resolve, reject });
      if (this.drainWaiters.length === 1) {
        this.socket.once('drain', () => {
          for (const waiter of this.drainWaiters.splice(0)) waiter.resolve();
        });
      }
    });
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
    // Bytes still queued for a stalled peer would hold the socket open: drop them.
    if (this.failure || this.socket.writableLength > 0) this.socket.destroy();
    else this.socket.end();
  }

  pendingBytes(): number {
    return this.reader.pending;
  }

  private wake(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    try {
      const section = this.reader.next();
      if (!section) return;
      this.waiting = null;
      waiting.resolve(section);
    } catch (error) {
      this.waiting = null;
      this.socket.destroy();
      waiting.reject(error as Error);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(this.failure);
    for (const waiter of this.drainWaiters.splice(0)) waiter.reject(this.failure);
  }
}

export function connectChannel(host: string, port: number, timeoutMs = 10_000, options: SocketChannelOptions = {}): Promise<SocketChannel> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out connecting to ${host}:${port}`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(new SocketChannel(socket, options));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Listens on host:port for exactly one migration connection. `ready` resolves once listening
 * (with the bound port, useful with port 0); `accepted` with the channel.
 */
export function listenOnce(host: string, port: number, options: SocketChannelOptions = {}): { ready: Promise<number>; accepted: Promise<SocketChannel> } {
  const server = createServer();
  const accepted = new Promise<SocketChannel>((resolve, reject) => {
    server.once('connection', (socket) => {
      server.close();
      resolve(new SocketChannel(socket, options));
    });
    server.once('error', reject);
  });
  const ready = new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  return { ready, accepted };
}
