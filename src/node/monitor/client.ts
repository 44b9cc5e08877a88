import { connect, type Socket } from 'node:net';
import type { ListenAddress } from '../listen-address.js';

/** A monitor reply with an error, as {"error": {"class", "desc"}}. */
export class MonitorCommandError extends Error {
  override readonly name = 'MonitorCommandError';
  constructor(
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`${errorClass}: ${desc}`);
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * A client of the JSON monitor (docs/monitor-api.md), for the CLI commands that drive a running
 * tagvisor (`migrate`, `snapshot save|load`): connects, enters command mode, executes commands
 * one id at a time and delivers events.
 */
export class MonitorClient {
  private buffered = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private greeted: Pending | null = null;
  onEvent: (event: string, data: Record<string, unknown>) => void = () => {};
  onClose: (error: Error) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.receive(text));
    const closed = (error: Error): void => {
      for (const waiter of [...this.pending.values(), ...(this.greeted ? [this.greeted] : [])]) waiter.reject(error);
      this.pending.clear();
      this.greeted = null;
      this.onClose(error);
    };
    socket.on('error', (error) => closed(error));
    socket.on('close', () => closed(new Error('the monitor closed the connection')));
  }

  /** `token`: the monitor's --auth-token-file token, sent in qmp_capabilities. */
  static async connect(address: ListenAddress, timeoutMs = 10_000, token?: string): Promise<MonitorClient> {
    const socket = address.kind === 'unix' ? connect(address.path) : connect({ host: address.host, port: address.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('timed out connecting to the monitor'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const client = new MonitorClient(socket);
    await new Promise((resolve, reject) => {
      client.greeted = { resolve, reject };
    });
    try {
      await client.execute('qmp_capabilities', token === undefined ? undefined : { token });
    } catch (error) {
      socket.destroy(); // refused (a wrong or missing token): nothing keeps the process alive
      throw error;
    }
    return client;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  close(): void {
    this.socket.end();
  }

  private receive(text: string): void {
    this.buffered += text;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ('QMP' in message && this.greeted) {
        this.greeted.resolve(undefined);
        this.greeted = null;
      } else if ('event' in message) {
        this.onEvent(String(message.event), (message.data ?? {}) as Record<string, unknown>);
      } else if (typeof message.id === 'number' && this.pending.has(message.id)) {
        const waiter = this.pending.get(message.id)!;
        this.pending.delete(message.id);
        if ('error' in message) {
          const error = message.error as { class?: string; desc?: string };
          waiter.reject(new MonitorCommandError(error.class ?? 'GenericError', error.desc ?? 'error'));
        } else {
          waiter.resolve(message.return);
        }
      }
    }
  }
}
