import { createServer, type Server, type Socket } from 'node:net';
import type { Debugger } from '../../vmm/debug/debugger.js';
import { GdbSession, type GdbSessionOptions } from '../../vmm/debug/gdb/session.js';
import type { ListenAddress } from '../listen-address.js';
import { listenOn, closeServer } from '../servers.js';

/**
 * Output gdb may leave unread: beyond it the stub takes no more packets from gdb and stops reading
 * its socket until it catches up (backpressure; docs/gdb.md). One reply (at most ~16 KiB) may go
 * past it; held input is at most one socket read (64 KiB).
 */
export const GDB_OUTPUT_BOUND = 256 * 1024;

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

  /** Bytes held for the connected gdb: output not yet sent, input received but not yet taken. */
  queuedBytes(): { output: number; input: number } {
    return { output: this.socket?.writableLength ?? 0, input: this.session?.isClosed === false ? this.session.heldInputBytes : 0 };
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
        congested: () => socket.writableLength > GDB_OUTPUT_BOUND,
      },
      options,
    );
    this.session = session;
    socket.on('data', (bytes: Buffer) => {
      session.receive(bytes);
      if (session.heldInputBytes > 0) socket.pause();
    });
    socket.on('drain', () => {
      session.drained();
      if (session.heldInputBytes === 0 && !socket.destroyed) socket.resume();
    });
    socket.on('error', (error) => options.log?.(`gdb: connection error: ${error.message}`));
    socket.on('close', () => {
      session.close();
      if (this.socket === socket) this.socket = null;
    });
    // gdb went away: drop what it never read rather than keep it until the kernel gives up.
    socket.on('end', () => socket.destroy());
    this.signalConnected();
  }
}
