import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Monitor } from '../../vmm/monitor/monitor.js';
import type { ListenAddress } from '../listen-address.js';
import { closeServer, listenOn } from '../servers.js';

/** Connections the monitor serves at once; more are refused. */
export const MAX_MONITOR_CONNECTIONS = 16;
/** Output a slow client may leave unread before events to it are dropped. */
const CONGESTED_BYTES = 1 << 20;

/**
 * The JSON monitor on a TCP or unix socket (`--monitor tcp:<host>:<port>|unix:<path>`). Each
 * connection is a MonitorSession (src/vmm/monitor); this file only moves bytes. A connection that
 * misbehaves only ever affects itself.
 */
export class MonitorServer {
  private readonly sockets = new Set<Socket>();

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
      congested: () => socket.writableLength > CONGESTED_BYTES,
      end: () => socket.end(),
    });
    socket.on('data', (bytes: Buffer) => session.receive(bytes));
    socket.on('error', (error) => log?.(`monitor: connection error: ${error.message}`));
    socket.on('close', () => {
      monitor.disconnect(session);
      this.sockets.delete(socket);
    });
  }
}
