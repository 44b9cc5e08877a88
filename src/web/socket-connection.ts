import { MessageHub, type ConnectionListener, type MachineConnection } from './connection.js';
import type { HostCommand, HostMessage, HostMessageType } from './protocol.js';
import { decodeTagFrame } from './wire.js';

/**
 * The live viewer's machine connection: a WebSocket to `tagvisor run --web`, which runs the VM in
 * Node (src/node/web/web-server.ts). Text frames carry JSON messages, binary frames the bulk tag
 * messages (wire.ts). It cannot load guests. When the socket closes, a `disconnected` message
 * says why (the VM ended, the server went away...); commands sent after that are dropped.
 */
export class SocketConnection implements MachineConnection {
  readonly canLoad = false;
  private readonly hub = new MessageHub();
  private readonly socket: WebSocket;
  private readonly queued: string[] = [];
  private closed = false;

  constructor(url: string | URL) {
    this.socket = new WebSocket(url);
    this.socket.binaryType = 'arraybuffer';
    this.socket.onopen = () => {
      for (const text of this.queued.splice(0)) this.socket.send(text);
    };
    this.socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      let message: HostMessage;
      try {
        message = typeof event.data === 'string' ? (JSON.parse(event.data) as HostMessage) : decodeTagFrame(event.data);
      } catch (error) {
        message = { type: 'error', message: `a message from tagvisor could not be read: ${(error as Error).message}` };
      }
      this.hub.dispatch(message);
    };
    this.socket.onclose = (event) => {
      this.closed = true;
      const reason = event.reason || (event.code === 1006 ? 'the connection to tagvisor was lost' : `the connection closed (code ${event.code})`);
      this.hub.dispatch({ type: 'disconnected', reason });
    };
  }

  send(command: HostCommand): void {
    if (this.closed || command.type === 'load') return;
    const text = JSON.stringify(command);
    if (this.socket.readyState === WebSocket.CONNECTING) this.queued.push(text);
    else if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  on<K extends HostMessageType>(type: K, listener: ConnectionListener<K>): () => void {
    return this.hub.on(type, listener);
  }

  close(): void {
    this.socket.close(1000, 'the page closed the viewer');
  }
}
