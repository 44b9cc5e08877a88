import { createServer, type Server, type Socket } from 'node:net';
import type { Debugger } from '../../vmm/debug/debugger.js';
import { GdbSession, type GdbSessionOptions } from '../../vmm/debug/gdb/session.js';
import type { ListenAddress } from '../listen-address.js';
import { listenOn, closeServer } from '../servers.js';

/**
 * The gdb remote stub on a TCP socket (`--gdb tcp:<host>:<port>`): one gdb at a time, as QEMU
 * does; a second connection while one is active is closed at once. Each connection is a
 * GdbSession (src/vmm/debug/gdb/session.ts); this file only moves bytes.
 */
export class GdbServer {
  private session: GdbSession | null = null;
  private socket: Socket | null = null;
  private readonly connected: Promise<void>;
  private signalConnected!: () => void;

  private constructor(
    private readonly server: Server,
    readonly address: ListenAddress,
  ) {
    this.connected = new Promise((resolve) => (this.signalConnected = resolve));
  }

  static async listen(debug: Debugger, address: ListenAddress, options: GdbSessionOptions = {}): Promise<GdbServer> {
    const server = createServer();
    const bound = await listenOn(server, address);
    const gdb = new GdbServer(server, bound);
    server.on('connection', (socket) => gdb.accept(debug, socket, options));
    return gdb;
  }

  /** Resolves once a gdb has connected (--wait-gdb). */
  waitForClient(): Promise<void> {
    return this.connected;
  }

  /** Stops listening and drops the connected gdb (its breakpoints go; the machine is left as it is). */
  async close(): Promise<void> {
    this.session?.close();
    this.socket?.end();
    await closeServer(this.server, this.socket ? [this.socket] : []);
  }

  private accept(debug: Debugger, socket: Socket, options: GdbSessionOptions): void {
    if (this.session && !this.session.isClosed) {
      options.log?.('gdb: refusing a second connection while one is active');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.socket = socket;
    const session = new GdbSession(
      debug,
      {
        write: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        end: () => socket.end(),
      },
      options,
    );
    this.session = session;
    socket.on('data', (bytes: Buffer) => session.receive(bytes));
    socket.on('error', (error) => options.log?.(`gdb: connection error: ${error.message}`));
    socket.on('close', () => {
      session.close();
      if (this.socket === socket) this.socket = null;
    });
    this.signalConnected();
  }
}
