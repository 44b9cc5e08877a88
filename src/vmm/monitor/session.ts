import type { CommandRegistry, MonitorContext } from './registry.js';
import { encodeLine, errorReply, eventMessage, greeting, MonitorError, successReply } from './protocol.js';

/** How a session reaches its client (a socket in Node, anything line-shaped elsewhere). */
export interface MonitorTransport {
  write(text: string): void;
  /** True while the client reads too slowly: events are dropped then, replies never are. */
  congested(): boolean;
  /** Closes the connection once pending output is written. */
  end(): void;
}

export interface MonitorSessionOptions {
  /** Longest accepted line in bytes (default MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  /** Internal errors (GenericError replies) are reported here too. */
  readonly log?: (message: string) => void;
  readonly now?: () => number;
}

/** Longest request line: enough for a write-memory of MAX_MONITOR_TRANSFER bytes in hex. */
export const MAX_LINE_BYTES = 256 * 1024;

/**
 * One monitor connection: greeting, capability negotiation, then commands executed one at a time
 * in arrival order, and events. Untrusted input never escapes as an exception: invalid JSON,
 * overlong lines, unknown commands and bad arguments each get an error reply on this connection
 * only.
 */
export class MonitorSession {
  private buffer = '';
  private bufferBytes = 0;
  private discarding = false;
  private negotiated = false;
  private closed = false;
  private unsubscribe: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly decoder = new TextDecoder();
  private readonly maxLine: number;

  constructor(
    private readonly registry: CommandRegistry,
    private readonly context: MonitorContext,
    private readonly transport: MonitorTransport,
    private readonly options: MonitorSessionOptions = {},
  ) {
    this.maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.write(greeting());
  }

  /** Bytes from the client. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== 0x0a) continue;
      this.appendPart(bytes.subarray(start, i));
      start = i + 1;
      const line = this.buffer;
      const skipped = this.discarding;
      this.buffer = '';
      this.bufferBytes = 0;
      this.discarding = false;
      if (skipped) this.write(errorReply('JSONParsing', `line longer than ${this.maxLine} bytes`, undefined));
      else this.line(line);
    }
    this.appendPart(bytes.subarray(start));
  }

  /** Promise that settles once every command received so far has replied (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private appendPart(part: Uint8Array): void {
    if (part.length === 0 || this.discarding) return;
    this.bufferBytes += part.length;
    if (this.bufferBytes > this.maxLine) {
      this.discarding = true;
      this.buffer = '';
      this.decoder.decode(); // reset the streaming state
      return;
    }
    this.buffer += this.decoder.decode(part, { stream: true });
  }

  private line(text: string): void {
    text += this.decoder.decode(); // flush a partial UTF-8 sequence at the end of the line
    if (text.trim() === '') return;
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (error) {
      this.write(errorReply('JSONParsing', `invalid JSON: ${(error as Error).message}`, undefined));
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.write(errorReply('JSONParsing', 'a request must be a JSON object', undefined));
      return;
    }
    const { execute, arguments: args, id, ...rest } = request as Record<string, unknown>;
    if (typeof execute !== 'string') {
      this.write(errorReply('JSONParsing', "a request needs an 'execute' string", id));
      return;
    }
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      this.write(errorReply('JSONParsing', `unknown request member '${extra[0]}'`, id));
      return;
    }
    // Commands run one at a time, in order, even when a handler is asynchronous.
    this.queue = this.queue.then(() => this.execute(execute, args, id));
  }

  private async execute(name: string, args: unknown, id: unknown): Promise<void> {
    if (this.closed) return;
    if (name === 'qmp_capabilities') {
      if (this.negotiated) {
        this.write(errorReply('CommandNotFound', 'Capabilities negotiation is already complete, command ignored', id));
        return;
      }
      if (args !== undefined && (typeof args !== 'object' || args === null || Object.keys(args).length > 0)) {
        this.write(errorReply('InvalidParameter', 'qmp_capabilities takes no arguments (no capabilities are offered)', id));
        return;
      }
      this.negotiated = true;
      this.unsubscribe = this.context.events.subscribe((event, data) => this.event(event, data));
      this.write(successReply({}, id));
      return;
    }
    if (!this.negotiated) {
      this.write(errorReply('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'", id));
      return;
    }
    const after: (() => void)[] = [];
    let result: unknown;
    try {
      result = await this.registry.execute({ ...this.context, afterReply: (action) => void after.push(action) }, name, args);
    } catch (error) {
      if (error instanceof MonitorError) {
        this.write(errorReply(error.errorClass, error.message, id));
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.options.log?.(`monitor: internal error in '${name}': ${message}`);
        this.write(errorReply('GenericError', message, id));
      }
      return;
    }
    this.write(successReply(result, id));
    for (const action of after) {
      try {
        action();
      } catch (error) {
        this.options.log?.(`monitor: '${name}' failed after replying: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private event(event: string, data: Record<string, unknown> | undefined): void {
    if (this.closed || this.transport.congested()) return;
    this.write(eventMessage(event, data, (this.options.now ?? Date.now)()));
  }

  private write(message: unknown): void {
    if (!this.closed) this.transport.write(encodeLine(message));
  }
}
