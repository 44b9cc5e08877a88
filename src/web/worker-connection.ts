import { MessageHub, type ConnectionListener, type MachineConnection } from './connection.js';
import type { HostCommand, HostMessage, HostMessageType } from './protocol.js';

/** The playground's machine connection: the machine runs in a Web Worker (worker.ts). */
export class WorkerConnection implements MachineConnection {
  readonly canLoad = true;
  private readonly hub = new MessageHub();
  private readonly worker: Worker;

  constructor(url: string | URL) {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<HostMessage>) => this.hub.dispatch(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.hub.dispatch({ type: 'error', message: `the machine's worker failed: ${event.message || 'unknown error'}` });
    };
    this.worker.onmessageerror = () => this.hub.dispatch({ type: 'error', message: 'a message from the machine could not be read' });
  }

  send(command: HostCommand): void {
    // The file's bytes move to the worker instead of being copied.
    this.worker.postMessage(command, command.type === 'load' ? [command.bytes] : []);
  }

  on<K extends HostMessageType>(type: K, listener: ConnectionListener<K>): () => void {
    return this.hub.on(type, listener);
  }

  close(): void {
    this.worker.terminate();
  }
}
