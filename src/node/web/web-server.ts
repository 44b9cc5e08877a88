import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Monitor } from '../../vmm/monitor/monitor.js';
import { MAX_JSON_DEPTH, nestedDeeperThan, tokenMatches } from '../../vmm/monitor/index.js';
import { LiveHub, type LiveSession } from '../../web/host/live-host.js';
import type { HostMessage } from '../../web/protocol.js';
import { encodeTagFrame, isTagMessage } from '../../web/wire.js';
import type { ListenAddress } from '../listen-address.js';
import { closeServer, listenOn } from '../servers.js';

/** Viewers served at once; more are refused (HTTP 503 on the upgrade). */
export const MAX_WEB_CLIENTS = 8;
/** Largest message a viewer may send (commands are small; write-memory of 64 KiB is ~130 KiB of JSON). */
const MAX_PAYLOAD = 512 * 1024;
/**
 * A viewer with this much unsent output is behind: its tag polls and commands wait, and its
 * socket is not read until it is under half of it (backpressure; docs/web.md).
 */
export const WEB_CONGESTED_BYTES = 4 * 1024 * 1024;
/** Unsent output beyond which a viewer that does not read at all is dropped. */
export const WEB_MAX_UNSENT_BYTES = 32 * 1024 * 1024;
/** Commands waiting for an answer beyond which a viewer's socket is not read. */
const PAUSE_PENDING_COMMANDS = 16;
/**
 * Commands a viewer may have waiting for an answer; one more and it is dropped. Only reached by
 * messages already read when its socket was paused.
 */
export const WEB_MAX_PENDING_COMMANDS = 1024;
/** With --auth-token-file, a viewer that has not presented the token by then is closed (1008, saying why). */
export const WEB_AUTH_TIMEOUT_MS = 5_000;
/** Flush interval, and the share of time flushes may take before they are spaced out (as the playground's worker). */
const FLUSH_MS = 40;
const FLUSH_SHARE = 10;
const MAX_FLUSH_MS = 250;
/**
 * Guest instructions between event-loop turns once a viewer has connected: the CLI's run loop
 * takes slices of up to 4 M instructions (0.1-0.5 s), and flushes only happen between slices.
 * The cap stays after the viewers leave (an event-loop turn per million instructions costs
 * nothing measurable); a migration lowers it further for its duration and restores it.
 */
const VIEWER_SLICE = 1_000_000;

/** The files the live viewer needs from the web bundle (npm run build:web), and their types. */
const FILES: Record<string, { readonly file: string; readonly type: string }> = {
  '/': { file: 'live.html', type: 'text/html; charset=utf-8' },
  '/live.html': { file: 'live.html', type: 'text/html; charset=utf-8' },
  '/live.js': { file: 'live.js', type: 'text/javascript; charset=utf-8' },
  '/live.js.map': { file: 'live.js.map', type: 'application/json' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const REQUIRED = ['live.html', 'live.js', 'style.css'];

/**
 * Inline style attributes are used by the UI (colour chips); scripts only from this server; no
 * framing (the control buttons cannot be clickjacked); WebSockets only back to this server.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface WebServerOptions {
  /** The guest's name for the page. */
  readonly name: string;
  /** Allow commands that change the VM (--web-control). */
  readonly control: boolean;
  /** Directory of the web bundle (default: dist/web of this package, or $TAGVISOR_WEB_DIR). */
  readonly assets?: string;
  readonly log?: (message: string) => void;
  readonly version?: string;
  /** Viewers must present this token: `/ws?token=...` or a first {"type": "authenticate", "token"} message. */
  readonly authToken?: string;
}

/** The bundle is missing: a one-line error for the CLI. */
export class WebAssetsError extends Error {
  override readonly name = 'WebAssetsError';
}

/** dist/web of this package: the directory holding package.json, above this module (src or dist). */
export function defaultAssetsDir(): string {
  const override = process.env.TAGVISOR_WEB_DIR;
  if (override) return override;
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(import.meta.dirname, '../../../web');
    dir = parent;
  }
  return join(dir, 'dist/web');
}

/**
 * `tagvisor run --web tcp:<host>:<port>`: the live viewer of this process's VM. An HTTP server
 * serves the page (live.html, live.js, style.css from the web bundle) and upgrades `/ws` to a
 * WebSocket that speaks src/web/protocol.ts (framing: src/web/wire.ts) through a LiveHub fed by
 * the JSON monitor's event stream and command registry.
 *
 * Security (docs/web.md): loopback unless told otherwise; read-only unless `control`; requests
 * whose Host header is not this server's address (DNS rebinding) and WebSocket upgrades from
 * another origin (cross-site WebSocket hijacking: any page the user visits could otherwise talk
 * to a loopback port) are refused.
 */
export class WebServer {
  readonly hub: LiveHub;
  private readonly sockets = new Set<WebSocket>();
  private readonly paused = new Set<WebSocket>();
  /** Commands each viewer has waiting. */
  private readonly pending = new Map<WebSocket, () => number>();
  private readonly raw = new Set<Socket>();
  private readonly wss: WebSocketServer;
  private timer: NodeJS.Timeout | null = null;
  private soon = false;
  private flushEvery = FLUSH_MS;
  private closing = false;

  private constructor(
    private readonly server: Server,
    readonly address: ListenAddress & { kind: 'tcp' },
    monitor: Monitor,
    private readonly files: ReadonlyMap<string, Buffer>,
    private readonly options: WebServerOptions,
  ) {
    this.hub = new LiveHub(monitor, { name: options.name, control: options.control, ...(options.version ? { version: options.version } : {}) });
    this.hub.wake = () => this.flushSoon();
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
    server.on('request', (request, response) => this.request(request, response));
    server.on('upgrade', (request, socket: Socket, head) => this.upgrade(request, socket, head));
    server.on('connection', (socket: Socket) => {
      this.raw.add(socket);
      socket.on('close', () => this.raw.delete(socket));
    });
    this.schedule();
  }

  /** Loads the bundle's files (a WebAssetsError when they are missing), then listens. */
  static async listen(monitor: Monitor, address: ListenAddress, options: WebServerOptions): Promise<WebServer> {
    if (address.kind !== 'tcp') throw new WebAssetsError('--web needs tcp:<host>:<port>');
    const assets = options.assets ?? defaultAssetsDir();
    const missing = REQUIRED.filter((file) => !existsSync(join(assets, file)));
    if (missing.length > 0) throw new WebAssetsError(`--web: the viewer's files are missing (${join(assets, missing[0]!)}): run npm run build:web`);
    const files = new Map<string, Buffer>();
    for (const { file } of Object.values(FILES)) {
      if (!files.has(file)) files.set(file, await readFile(join(assets, file)).catch(() => Buffer.alloc(0)));
    }
    const server = createServer();
    const bound = await listenOn(server, address);
    return new WebServer(server, bound as ListenAddress & { kind: 'tcp' }, monitor, files, options);
  }

  /** Output not yet sent to the viewers, in bytes (tests; docs/web.md's bound). */
  queuedBytes(): number {
    let total = 0;
    for (const ws of this.sockets) total += ws.bufferedAmount;
    return total;
  }

  /** Sends every viewer the final picture, closes their connections with `reason`, stops listening. */
  async close(reason = 'tagvisor is exiting'): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.hub.flush();
    const closed = [...this.sockets].map((ws) => new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1001, reason.slice(0, 120));
    }));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([Promise.all(closed), grace]);
    for (const ws of this.sockets) ws.terminate();
    this.hub.dispose();
    this.wss.close();
    await closeServer(this.server, [...this.raw], 500);
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.tick(), this.flushEvery);
    this.timer.unref();
  }

  private tick(): void {
    if (this.closing) return;
    this.relieve();
    if (this.hub.sessions.size > 0) {
      const start = performance.now();
      this.hub.flush();
      const took = performance.now() - start;
      this.flushEvery = Math.min(MAX_FLUSH_MS, Math.max(FLUSH_MS, took * FLUSH_SHARE));
    }
    this.schedule();
  }

  /** Resumes reading from viewers that caught up; drops those that read nothing at all. */
  private relieve(): void {
    for (const ws of this.sockets) {
      if (ws.bufferedAmount > WEB_MAX_UNSENT_BYTES) {
        this.options.log?.(`web: dropped a viewer that left ${ws.bufferedAmount} bytes unread`);
        ws.terminate();
      } else if (this.paused.has(ws) && ws.bufferedAmount <= WEB_CONGESTED_BYTES / 2 && (this.pending.get(ws)?.() ?? 0) <= PAUSE_PENDING_COMMANDS / 2) {
        this.paused.delete(ws);
        ws.resume();
      }
    }
  }

  /** A stop, a reply, a new window: flush at the next turn of the event loop. */
  private flushSoon(): void {
    if (this.soon || this.closing) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      if (!this.closing) this.hub.flush();
    });
  }

  /** Host names this server answers to: its address, and loopback names when it is on loopback. */
  private hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    let url: URL;
    try {
      url = new URL(`http://${hostHeader}`);
    } catch {
      return false;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    if (port !== this.address.port) return false;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const bound = this.address.host;
    if (host === bound || host === 'localhost' || host === '127.0.0.1' || host === '::1') return true;
    // Bound to all interfaces: any IP literal of this machine; never a DNS name (rebinding).
    return (bound === '0.0.0.0' || bound === '::') && isIP(host) !== 0;
  }

  private request(request: IncomingMessage, response: ServerResponse): void {
    if (!this.hostAllowed(request.headers.host)) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end('misdirected request: use the address tagvisor printed\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const entry = FILES[path];
    const body = entry ? this.files.get(entry.file) : undefined;
    if (!entry || !body) {
      response.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, ...SECURITY_HEADERS });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (new URL(request.url ?? '/', 'http://x').pathname !== '/ws') return refuse('404 Not Found');
    if (!this.hostAllowed(request.headers.host)) return refuse('421 Misdirected Request');
    // Browsers always send Origin on a WebSocket upgrade: it must be this server's own page.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host}`) {
      this.options.log?.(`web: refused a connection from origin ${origin.slice(0, 100)}`);
      return refuse('403 Forbidden');
    }
    if (this.closing) return refuse('503 Service Unavailable');
    if (this.sockets.size >= MAX_WEB_CLIENTS) return refuse('503 Service Unavailable');
    const token = this.options.authToken;
    const presented = new URL(request.url ?? '/', 'http://x').searchParams.get('token');
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, token === undefined || tokenMatches(token, presented)));
  }

  private accept(ws: WebSocket, authenticated: boolean): void {
    this.sockets.add(ws);
    let session: LiveSession | null = null;
    // A page opened without ?token= sends nothing: close it, saying why, rather than show nothing.
    const authTimer = authenticated ? undefined : setTimeout(() => this.refuse(ws, undefined), WEB_AUTH_TIMEOUT_MS);
    const start = (): void => {
      clearTimeout(authTimer);
      this.hub.machine.sliceLimit = Math.min(this.hub.machine.sliceLimit, VIEWER_SLICE);
      session = this.hub.connect({
        post: (message) => send(ws, message),
        congested: () => ws.bufferedAmount > WEB_CONGESTED_BYTES,
      });
      this.pending.set(ws, () => session?.pendingCommands ?? 0);
      this.flushSoon();
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!session) return this.authenticate(ws, data, isBinary, start);
      if (session.pendingCommands >= WEB_MAX_PENDING_COMMANDS) {
        this.options.log?.('web: dropped a viewer with too many commands waiting');
        ws.close(1008, 'too many commands waiting: read the replies');
        ws.terminate();
        return;
      }
      if ((ws.bufferedAmount > WEB_CONGESTED_BYTES || session.pendingCommands >= PAUSE_PENDING_COMMANDS) && !this.paused.has(ws)) {
        this.paused.add(ws);
        ws.pause();
      }
      if (isBinary) {
        session?.post({ type: 'error', message: 'commands are JSON text frames' });
        return;
      }
      let command: unknown;
      const text = rawText(data);
      if (nestedDeeperThan(text)) {
        session.post({ type: 'error', message: `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels` });
        return;
      }
      try {
        command = JSON.parse(text);
      } catch (error) {
        session?.post({ type: 'error', message: `invalid JSON: ${(error as Error).message}` });
        return;
      }
      session?.handle(command);
    });
    ws.on('error', (error) => this.options.log?.(`web: connection error: ${error.message}`));
    ws.on('close', () => {
      clearTimeout(authTimer);
      if (session) this.hub.disconnect(session);
      session = null;
      this.sockets.delete(ws);
      this.paused.delete(ws);
      this.pending.delete(ws);
    });
    if (authenticated) start();
  }

  /** Before anything else, a viewer without the token in its URL sends {"type": "authenticate", "token"}. */
  private authenticate(ws: WebSocket, data: RawData, isBinary: boolean, start: () => void): void {
    let token: unknown;
    try {
      const message = isBinary || nestedDeeperThan(rawText(data)) ? null : (JSON.parse(rawText(data)) as { type?: unknown; token?: unknown });
      token = message?.type === 'authenticate' ? message.token : undefined;
    } catch {
      token = undefined;
    }
    if (this.options.authToken !== undefined && tokenMatches(this.options.authToken, token)) return start();
    this.refuse(ws, token);
  }

  private refuse(ws: WebSocket, token: unknown): void {
    this.options.log?.('web: refused a viewer without the right authentication token');
    ws.close(1008, token === undefined ? 'authentication required: ?token=... or {"type":"authenticate","token":...} first' : 'wrong authentication token');
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** One message: bulk tags as a binary frame, anything else as JSON (bigints as "0x..." like the monitor). */
function send(ws: WebSocket, message: HostMessage): void {
  if (ws.readyState !== ws.OPEN) return;
  if (isTagMessage(message)) ws.send(encodeTagFrame(message), { binary: true });
  else ws.send(JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? `0x${value.toString(16)}` : value)));
}
