import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Monitor } from '../../vmm/monitor/monitor.js';
import type { MonitorSession } from '../../vmm/monitor/session.js';
import type { ListenAddress } from '../listen-address.js';
import { closeServer, listenOn } from '../servers.js';

/** Connections the monitor serves at once; more are refused. */
export const MAX_MONITOR_CONNECTIONS = 16;
/**
 * Output a client may leave unread: beyond it, events to it are dropped and its requests are not
 * read until it catches up (socket backpressure; docs/monitor-api.md). One reply (at most ~130 KiB
 * for a 64 KiB read-memory) may go past it.
 */
export const MONITOR_OUTPUT_BOUND = 1 << 20;

/**
 * The JSON monitor on a TCP or unix socket (`--monitor tcp:<host>:<port>|unix:<path>`). Each
 * connection is a MonitorSession (src/vmm/monitor); this file only moves bytes. A connection that
 * misbehaves only ever affects itself.
 */
export class MonitorServer {
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<Socket, MonitorSession>();

  private constructor(
    private readonly server: Server,
    readonly address: ListenAddress,
  ) {}

  static async listen(monitor: Monitor, address: ListenAddress, log?: (message: string) => void): Promise<MonitorServer> {
    const server = createServer();
    const bound = await listenOn(server, address);
    const ms = new MonitorServer(server, bound);
    server.on('connection', (socket) => ms.accept(monitor, socket, log));
    return ms;
  }

  /** Bytes held for the connected clients: output not yet sent, input taken but not processed. */
  queuedBytes(): { output: number; input: number } {
    let output = 0;
    let input = 0;
    for (const [socket, session] of this.sessions) {
      output += socket.writableLength;
      input += session.heldInputBytes;
    }
    return { output, input };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.end();
    await closeServer(this.server, [...this.sockets]);
    if (this.address.kind === 'unix') await rm(this.address.path, { force: true }).catch(() => undefined);
  }

  private accept(monitor: Monitor, socket: Socket, log?: (message: string) => void): void {
    if (this.sockets.size >= MAX_MONITOR_CONNECTIONS) {
      socket.end(`${JSON.stringify({ error: { class: 'GenericError', desc: `too many monitor connections (at most ${MAX_MONITOR_CONNECTIONS})` } })}\n`);
      return;
    }
    this.sockets.add(socket);
    const session = monitor.connect({
      write: (text) => {
        if (!socket.destroyed && socket.writable) socket.write(text);
      },
      congested: () => socket.writableLength > MONITOR_OUTPUT_BOUND,
      end: () => socket.end(),
      holdInput: (hold) => {
        if (hold) socket.pause();
        else if (!socket.destroyed) socket.resume();
      },
    });
    this.sessions.set(socket, session);
    socket.on('data', (bytes: Buffer) => session.receive(bytes));
    socket.on('drain', () => session.resume());
    socket.on('error', (error) => log?.(`monitor: connection error: ${error.message}`));
    socket.on('close', () => {
      monitor.disconnect(session);
      this.sockets.delete(socket);
      this.sessions.delete(socket);
    });
  }
}
