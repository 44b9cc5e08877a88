/**
 * A live viewer made of the `ws` client (`tagvisor run --web`, docs/web.md): every message from
 * the server decoded (binary tag frames too) and kept in order, for tests at the protocol level.
 */
import WebSocket from 'ws';
import type { HostCommand, HostMessage, HostMessageOf, HostMessageType } from '../../../src/web/protocol.js';
import { decodeTagFrame } from '../../../src/web/wire.js';

/** A viewer made of the `ws` client: every message decoded and kept, in order. */
export class ViewerClient {
  readonly messages: HostMessage[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.messages.push(binary ? decodeTagFrame(new Uint8Array(data)) : (JSON.parse(data.toString('utf8')) as HostMessage));
      this.poke();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.poke();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<ViewerClient> {
    const ws = new WebSocket(url, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new ViewerClient(ws)));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      ws.once('error', reject);
    });
  }

  all<T extends HostMessageType>(type: T): HostMessageOf<T>[] {
    return this.messages.filter((m): m is HostMessageOf<T> => m.type === type);
  }

  /** Resolves with the first message (from the start) that matches, waiting up to `ms`. */
  async until<T extends HostMessageType>(type: T, match: (m: HostMessageOf<T>) => boolean = () => true, ms = 20_000): Promise<HostMessageOf<T>> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.all(type).find(match);
      if (found) return found;
      if (this.closed || Date.now() > end) throw new Error(`no matching '${type}' message (${this.closed ? 'closed' : 'timed out'}); got ${this.messages.map((m) => m.type).join(' ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a command with an id and waits for its reply. */
  async command(command: HostCommand): Promise<HostMessageOf<'reply'>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...command, id }));
    return this.until('reply', (m) => m.id === id);
  }

  close(): void {
    this.ws.close();
  }

  private poke(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
