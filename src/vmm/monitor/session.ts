import type { CommandRegistry, MonitorContext } from './registry.js';
import { MAX_AUTH_FAILURES, tokenMatches } from './auth-token.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-limits.js';
import { encodeLine, errorReply, eventMessage, greeting, MonitorError, successReply } from './protocol.js';

/** How a session reaches its client (a socket in Node, anything line-shaped elsewhere). */
export interface MonitorTransport {
  write(text: string): void;
  /** True while the client reads too slowly: events are dropped then, replies never are. */
  congested(): boolean;
  /** Closes the connection once pending output is written. */
  end(): void;
  /**
   * Stop (true) or resume (false) reading from the client: the session holds input it will not
   * process while the client leaves more than the transport's bound of output unread.
   */
  holdInput?(hold: boolean): void;
}

export interface MonitorSessionOptions {
  /** Longest accepted line in bytes (default MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  /** Internal errors (GenericError replies) are reported here too. */
  readonly log?: (message: string) => void;
  readonly now?: () => number;
  /** Clients must present this token (auth-token.ts) before anything else. */
  readonly authToken?: string;
}

/** Longest request line: enough for a write-memory of MAX_MONITOR_TRANSFER bytes in hex. */
export const MAX_LINE_BYTES = 256 * 1024;
/** Input a session holds before it asks the transport to stop reading (beyond one long line). */
export const MAX_HELD_INPUT = 2 * MAX_LINE_BYTES;

/**
 * One monitor connection: greeting, capability negotiation, then commands executed one at a time
 * in arrival order, and events. Untrusted input never escapes as an exception: invalid JSON,
 * overlong or too deeply nested lines, unknown commands and bad arguments each get an error reply
 * on this connection only.
 *
 * Backpressure (docs/monitor-api.md): a line is only taken while the transport is not congested;
 * otherwise input is held and the transport told to stop reading (`holdInput`), until `resume`.
 * So a client that sends requests without reading the replies queues at most the transport's
 * bound plus one reply, and its unread requests wait in the socket, not in memory.
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
  /** Received bytes not yet split into lines. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private pumping = false;
  private inputHeld = false;
  private authenticated: boolean;
  private authFailures = 0;

  constructor(
    private readonly registry: CommandRegistry,
    private readonly context: MonitorContext,
    private readonly transport: MonitorTransport,
    private readonly options: MonitorSessionOptions = {},
  ) {
    this.maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.authenticated = options.authToken === undefined;
    this.write(greeting());
  }

  /** Bytes from the client. */
  receive(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes > MAX_HELD_INPUT) this.holdInput(true);
    this.kick();
  }

  /** The transport drained: take held input again. */
  resume(): void {
    this.kick();
  }

  /** Bytes received but not yet taken (the rest waits in the socket while input is held). */
  get heldInputBytes(): number {
    return this.heldBytes;
  }

  /**
   * Settles once every command received so far has replied (tests, shutdown), or once the
   * session stopped taking input because the client does not read.
   */
  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.heldBytes = 0;
    this.buffer = '';
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private kick(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    this.queue = this.pump();
  }

  /** Takes lines one at a time, each command replied before the next line is taken. */
  private async pump(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.transport.congested()) {
          this.holdInput(true);
          return;
        }
        const line = this.nextLine();
        if (line === null) break;
        await this.line(line);
      }
      this.holdInput(false);
    } catch (error) {
      this.options.log?.(`monitor: internal error: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.pumping = false;
    }
  }

  private holdInput(hold: boolean): void {
    if (this.inputHeld === hold) return;
    this.inputHeld = hold;
    this.transport.holdInput?.(hold);
  }

  /** The next complete line from held input (null when none is complete yet). */
  private nextLine(): string | null {
    while (this.held.length > 0) {
      const bytes = this.held[0]!;
      const newline = bytes.indexOf(0x0a);
      const part = newline < 0 ? bytes : bytes.subarray(0, newline);
      this.appendPart(part);
      if (newline < 0 || newline + 1 === bytes.length) this.held.shift();
      else this.held[0] = bytes.subarray(newline + 1);
      this.heldBytes -= newline < 0 ? bytes.length : newline + 1;
      if (newline < 0) continue;
      const line = this.buffer;
      const skipped = this.discarding;
      this.buffer = '';
      this.bufferBytes = 0;
      this.discarding = false;
      if (!skipped) return line;
      this.write(errorReply('JSONParsing', `line longer than ${this.maxLine} bytes`, undefined));
    }
    return null;
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

  private async line(text: string): Promise<void> {
    text += this.decoder.decode(); // flush a partial UTF-8 sequence at the end of the line
    if (text.trim() === '') return;
    if (nestedDeeperThan(text)) {
      this.write(errorReply('JSONParsing', `arrays and objects nested deeper than ${MAX_JSON_DEPTH} levels`, undefined));
      return;
    }
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
    await this.execute(execute, args, id);
  }

  private async execute(name: string, args: unknown, id: unknown): Promise<void> {
    if (this.closed) return;
    if (name === 'authenticate') {
      const { token, ...rest } = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>;
      if (Object.keys(rest).length > 0 || typeof token !== 'string') {
        this.write(errorReply('InvalidParameter', "authenticate takes one argument, 'token' (a string)", id));
        return;
      }
      if (this.authenticate(token, id)) this.write(successReply({}, id));
      return;
    }
    if (name === 'qmp_capabilities') {
      if (this.negotiated) {
        this.write(errorReply('CommandNotFound', 'Capabilities negotiation is already complete, command ignored', id));
        return;
      }
      const { token, ...rest } = (typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {}) as Record<string, unknown>;
      if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args) || Object.keys(rest).length > 0)) {
        this.write(errorReply('InvalidParameter', "qmp_capabilities takes no arguments but 'token' (no capabilities are offered)", id));
        return;
      }
      if (token !== undefined && !this.authenticated && !this.authenticate(token, id)) return;
      if (!this.authenticated) {
        this.write(errorReply('AccessDenied', "authentication required: pass {\"token\": ...} in qmp_capabilities' arguments, or send authenticate first", id));
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

  /** Checks a presented token; replies AccessDenied (and closes after MAX_AUTH_FAILURES) when wrong. */
  private authenticate(token: unknown, id: unknown): boolean {
    if (this.options.authToken === undefined || tokenMatches(this.options.authToken, token)) {
      this.authenticated = true;
      return true;
    }
    this.authFailures++;
    this.write(errorReply('AccessDenied', 'wrong authentication token', id));
    if (this.authFailures >= MAX_AUTH_FAILURES) {
      this.options.log?.('monitor: closed a connection after repeated wrong authentication tokens');
      this.transport.end();
      this.close();
    }
    return false;
  }

  private event(event: string, data: Record<string, unknown> | undefined): void {
    if (this.closed || this.transport.congested()) return;
    this.write(eventMessage(event, data, (this.options.now ?? Date.now)()));
  }

  private write(message: unknown): void {
    if (!this.closed) this.transport.write(encodeLine(message));
  }
}
