import type { WatchKind } from '../../../cpu/index.js';
import type { Debugger } from '../debugger.js';
import { DebugError, type DebugErrorCode } from '../errors.js';
import { HostIo } from './host-io.js';
import { handleMemTagPacket } from './memtag-packets.js';
import { PACKET_SIZE, readAllRegisters, readMemory, readRegister, writeAllRegisters, writeMemory, writeRegister, xfer } from './data-packets.js';
import { encodePacket, parseHexLength, parseHexNumber, RspDecoder, RspSyntaxError, toHex, type RspEvent } from './packet-codec.js';
import { exitReply, stopReply, THREAD_ID } from './stop-reply.js';
import { auxv, GUEST_PID, syntheticFile } from './synthetic-files.js';
import { targetXml } from './target-xml.js';

/** How the session reaches gdb: a TCP socket in Node (src/node/gdb), anything byte-shaped elsewhere. */
export interface GdbTransport {
  write(bytes: Uint8Array): void;
  /** Closes the connection once pending bytes are written (after detach or kill). */
  end(): void;
  /**
   * True while gdb leaves more than the transport's bound of output unread: the session then
   * takes no more packets (backpressure) until `drained`.
   */
  congested?(): boolean;
}

export interface GdbSessionOptions {
  /** Diagnostics: refused packets, internal errors. */
  readonly log?: (message: string) => void;
  /** Every packet in (`<-`) and out (`->`), for debugging the stub. */
  readonly trace?: (direction: '<-' | '->', payload: string) => void;
}

/** Consecutive NAKs of one reply before the stub stops resending it. */
const MAX_RESENDS = 8;

/** gdb errno values for `E` replies (GDB manual, "Errno Values"). */
const ERRNO: Partial<Record<DebugErrorCode, number>> = {
  denied: 13, // EACCES: the VM's debug policy refused (protected VM)
  'not-mapped': 14, // EFAULT
  unmapped: 14,
  'read-only': 14,
  'no-tags': 5, // EIO, as Linux's ptrace reports tag access to untagged memory
  limit: 28, // ENOSPC
  'not-found': 2, // ENOENT
};
const EINVAL = 22;

const SUPPORTED = [
  `PacketSize=${PACKET_SIZE.toString(16)}`,
  'qXfer:features:read+',
  'qXfer:auxv:read+',
  'multiprocess+',
  'swbreak+',
  'hwbreak+',
  'QStartNoAckMode+',
  'vContSupported+',
  'memory-tagging+',
].join(';');

const WATCH_KINDS: Record<string, WatchKind> = { '2': 'write', '3': 'read', '4': 'access' };

/**
 * One gdb connection speaking the Remote Serial Protocol in all-stop mode (docs/gdb.md lists the
 * packets). Transport-agnostic and browser-safe: feed it bytes with `receive`, it writes bytes to
 * the transport. The guest is presented as process 1, thread 1 (multiprocess+), a GNU/Linux
 * process with an smaps file, which is what gdb 13 needs for its memory-tag commands.
 *
 * - Attaching stops a running machine (as QEMU's stub does); the machine runs again on `c`.
 * - Breakpoints and watchpoints are the session's: they go when gdb detaches or disconnects.
 * - A disconnect without `D` or `k` leaves the machine running or paused as it was.
 * - Every failure is an `E` reply (`E0d` for a refusal by the VM's debug policy); an unknown
 *   packet gets the empty reply; nothing gdb sends can throw out of `receive`.
 */
export class GdbSession {
  private readonly decoder = new RspDecoder(PACKET_SIZE * 2);
  private readonly hostIo: HostIo;
  private readonly owned = new Map<string, number>();
  private readonly unsubscribe: (() => void)[];
  private ackMode = true;
  private lastPacket: Uint8Array | null = null;
  private resends = 0;
  /** gdb resumed the target and waits for a stop reply. */
  private waiting = false;
  private closed = false;
  private xml: Uint8Array | null = null;
  /** Received bytes not yet taken (backpressure). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(
    private readonly debug: Debugger,
    private readonly transport: GdbTransport,
    private readonly options: GdbSessionOptions = {},
  ) {
    this.hostIo = new HostIo((path) => syntheticFile(debug, path));
    const events = debug.machine.events;
    this.unsubscribe = [events.on('stop', () => this.onStop()), events.on('shutdown', () => this.onShutdown())];
    if (debug.inspection.mode === 'closed') options.log?.('gdb: this protected VM hides its registers, page tables and execution control (docs/protected-vm.md): gdb will find no pc');
    debug.pause();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Bytes from gdb. Taken one packet at a time; while the transport is congested the rest is held
   * (`heldInputBytes`), and the transport should stop reading until it drains and calls `drained`.
   */
  receive(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    this.pump();
  }

  /** The transport drained: take held input again. */
  drained(): void {
    this.pump();
  }

  /** Bytes received but not yet taken. */
  get heldInputBytes(): number {
    return this.heldBytes;
  }

  private pump(): void {
    while (this.held.length > 0 && !this.closed) {
      if (this.transport.congested?.()) return;
      const bytes = this.held[0]!;
      const { event, consumed } = this.decoder.next(bytes);
      if (consumed === bytes.length) this.held.shift();
      else this.held[0] = bytes.subarray(consumed);
      this.heldBytes -= consumed;
      if (event) this.handleEvent(event);
    }
  }

  private handleEvent(event: RspEvent): void {
    switch (event.type) {
      case 'packet':
        if (this.ackMode) this.transport.write(ACK);
        this.handlePacket(event.payload);
        break;
      case 'bad-checksum':
        this.options.log?.(`gdb: bad checksum on packet '${event.payload.slice(0, 40)}'`);
        if (this.ackMode) this.transport.write(NAK);
        break;
      case 'overflow':
        // Too long to be a packet of ours; a NAK would only make gdb send it again.
        if (this.ackMode) this.transport.write(ACK);
        this.send(`E${EINVAL.toString(16)}`);
        break;
      case 'nak':
        if (this.lastPacket && this.resends++ < MAX_RESENDS) this.transport.write(this.lastPacket);
        break;
      case 'ack':
        this.resends = 0;
        break;
      case 'interrupt':
        this.interrupt();
        break;
    }
  }

  /**
   * The connection is gone (closed, reset, or after detach/kill). Drops this session's
   * breakpoints and watchpoints; the machine stays running or paused as it was.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.heldBytes = 0;
    this.waiting = false;
    for (const off of this.unsubscribe) off();
    this.removeOwned();
    this.hostIo.reset();
  }

  // ---- framing ----

  private send(payload: string): void {
    if (this.closed) return;
    this.options.trace?.('->', payload);
    const packet = encodePacket(payload);
    this.lastPacket = this.ackMode ? packet : null;
    this.resends = 0;
    this.transport.write(packet);
  }

  private handlePacket(payload: string): void {
    this.options.trace?.('<-', payload);
    let reply: string | null;
    try {
      reply = this.dispatch(payload);
    } catch (error) {
      reply = this.errorReply(error, payload);
    }
    if (reply !== null) this.send(reply);
    if (payload === 'QStartNoAckMode' && reply === 'OK') this.ackMode = false;
  }

  private errorReply(error: unknown, payload: string): string {
    if (error instanceof DebugError) return `E${(ERRNO[error.code] ?? EINVAL).toString(16).padStart(2, '0')}`;
    if (error instanceof RspSyntaxError) {
      this.options.log?.(`gdb: malformed packet '${payload.slice(0, 40)}': ${error.message}`);
      return `E${EINVAL.toString(16)}`;
    }
    this.options.log?.(`gdb: internal error on packet '${payload.slice(0, 40)}': ${error instanceof Error ? error.message : String(error)}`);
    return 'E01';
  }

  // ---- packets ----

  private dispatch(p: string): string | null {
    const args = p.slice(1);
    switch (p[0]) {
      case '?':
        return this.statusReply();
      case 'g':
        return readAllRegisters(this.debug);
      case 'G':
        return writeAllRegisters(this.debug, args);
      case 'p':
        return readRegister(this.debug, args);
      case 'P':
        return writeRegister(this.debug, args);
      case 'm':
        return readMemory(this.debug, args);
      case 'M':
      case 'X':
        return writeMemory(this.debug, args, p[0] === 'X');
      case 'c':
      case 's':
        return this.resume(p[0] === 's', args === '' ? undefined : parseHexNumber(args));
      case 'C':
      case 'S': {
        const at = args.indexOf(';'); // the signal is ignored: the guest has none to deliver
        return this.resume(p[0] === 'S', at < 0 ? undefined : parseHexNumber(args.slice(at + 1)));
      }
      case 'D':
        return this.detach();
      case 'k':
        this.kill();
        return null;
      case 'H':
        return this.isOurThread(args.slice(1), true) ? 'OK' : 'E02';
      case 'T':
        return this.isOurThread(args, false) ? 'OK' : 'E02';
      case 'Z':
      case 'z':
        return this.breakpoint(p[0] === 'Z', args);
      case 'q':
      case 'Q':
        return this.query(p);
      case 'v':
        return this.vPacket(p);
      default:
        return '';
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) return SUPPORTED;
    if (p.startsWith('qAttached')) return '1'; // quitting gdb detaches and leaves the VM running
    if (p === 'qC') return `QC${THREAD_ID}`;
    if (p === 'qfThreadInfo') return `m${THREAD_ID}`;
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo,')) return toHex(new TextEncoder().encode(this.debug.inspection.mode === 'open' ? `vCPU 0 (EL${this.debug.machine.vcpu.cpu.el})` : 'vCPU 0'));
    if (p.startsWith('qSymbol')) return 'OK';
    if (p === 'QStartNoAckMode') return 'OK';
    if (p === 'QNonStop:0') return 'OK';
    if (p.startsWith('qXfer:features:read:')) return xfer(p.slice('qXfer:features:read:'.length), (annex) => (annex === 'target.xml' ? this.targetXml() : null));
    if (p.startsWith('qXfer:auxv:read:')) return xfer(p.slice('qXfer:auxv:read:'.length), (annex) => (annex === '' ? auxv(this.debug.machine.mte) : null));
    return handleMemTagPacket(this.debug, p) ?? '';
  }

  private vPacket(p: string): string | null {
    if (p === 'vMustReplyEmpty') return '';
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) return this.vCont(p.slice('vCont;'.length));
    if (p.startsWith('vFile:')) return this.hostIo.handle(p.slice('vFile:'.length)) ?? '';
    if (p.startsWith('vKill')) {
      this.send('OK');
      this.kill();
      return null;
    }
    if (p === 'vCtrlC') {
      this.interrupt();
      return 'OK';
    }
    return '';
  }

  private targetXml(): Uint8Array {
    this.xml ??= new TextEncoder().encode(targetXml(this.debug.registers.list));
    return this.xml;
  }

  // ---- breakpoints and watchpoints ----

  /** Z/z<type>,<addr>,<kind>: 0 software and 1 hardware breakpoints, 2/3/4 write/read/access watchpoints. */
  private breakpoint(insert: boolean, args: string): string {
    const [type, addrText, kindText] = args.split(';')[0]!.split(',');
    if (type === undefined || addrText === undefined || kindText === undefined) throw new RspSyntaxError('Z/z needs <type>,<addr>,<kind>');
    const addr = parseHexNumber(addrText);
    const kind = parseHexLength(kindText, 1 << 20);
    const key = `${type},${addr.toString(16)},${kind}`;
    if (type === '0' || type === '1') {
      if (insert) this.debug.addBreakpoint(addr, type === '1');
      else this.debug.removeBreakpoint(addr, type === '1');
    } else if (WATCH_KINDS[type]) {
      if (insert) this.debug.addWatchpoint(addr, kind, WATCH_KINDS[type]);
      else this.debug.removeWatchpoint(addr, kind, WATCH_KINDS[type]);
    } else {
      return '';
    }
    const count = (this.owned.get(key) ?? 0) + (insert ? 1 : -1);
    if (count > 0) this.owned.set(key, count);
    else this.owned.delete(key);
    return 'OK';
  }

  private removeOwned(): void {
    for (const [key, count] of this.owned) {
      const [type, addrText, kindText] = key.split(',');
      const addr = BigInt(`0x${addrText}`);
      for (let i = 0; i < count; i++) {
        if (type === '0' || type === '1') this.debug.removeBreakpoint(addr, type === '1');
        else this.debug.removeWatchpoint(addr, Number(kindText), WATCH_KINDS[type!]!);
      }
    }
    this.owned.clear();
  }

  // ---- run control ----

  private statusReply(): string {
    const machine = this.debug.machine;
    if (machine.state === 'shutdown' && machine.shutdown) return exitReply(machine.shutdown);
    const stop = this.debug.lastStop;
    // The stop gdb's attach caused is reported as a plain SIGTRAP, as QEMU does.
    return stopReply(stop?.hit ? stop : null);
  }

  private resume(step: boolean, addr: bigint | undefined): string | null {
    const machine = this.debug.machine;
    if (machine.state === 'shutdown' && machine.shutdown) return exitReply(machine.shutdown);
    if (machine.state === 'created') return 'E01';
    if (addr !== undefined) this.debug.registers.write(this.debug.registers.indexOf('pc'), addr);
    this.waiting = true;
    try {
      if (step) {
        this.debug.pause(); // in case something else resumed it: a step starts from a stop
        this.debug.step();
      } else {
        this.debug.resume();
      }
    } catch (error) {
      this.waiting = false; // refused (a protected VM): the E reply is the answer
      throw error;
    }
    return null;
  }

  /** vCont;<action>[:<thread>]...: the first action that applies to our thread decides. */
  private vCont(actions: string): string | null {
    for (const item of actions.split(';')) {
      const [action, thread] = item.split(':');
      if (thread !== undefined && !this.isOurThread(thread, true)) continue;
      switch (action?.[0]) {
        case 'c':
        case 'C':
          return this.resume(false, undefined);
        case 's':
        case 'S':
          return this.resume(true, undefined);
        default:
          throw new RspSyntaxError(`unsupported vCont action '${item.slice(0, 16)}'`);
      }
    }
    return 'E01';
  }

  private onStop(): void {
    if (!this.waiting || this.closed) return;
    this.waiting = false;
    this.send(stopReply(this.debug.lastStop));
  }

  private onShutdown(): void {
    const shutdown = this.debug.machine.shutdown;
    if (!this.waiting || this.closed || !shutdown) return;
    this.waiting = false;
    this.send(exitReply(shutdown));
  }

  /** Ctrl-C: stop a running machine; if something else already stopped it, say so. */
  private interrupt(): void {
    if (!this.waiting) return;
    if (this.debug.pause()) return; // the 'stop' event sends the reply
    if (this.debug.machine.state === 'paused') {
      this.waiting = false;
      this.send(stopReply({ reason: 'pause', hit: null }));
    }
  }

  private detach(): string | null {
    this.removeOwned();
    this.waiting = false;
    this.send('OK');
    this.close();
    this.debug.resume();
    this.transport.end();
    return null;
  }

  private kill(): void {
    this.removeOwned();
    this.close();
    this.debug.machine.terminate('gdb');
    this.transport.end();
  }

  /** Thread ids gdb may use for our one thread: p1.1, p1.-1, p1.0, 1, 0, -1 (and p0/p-1 for "any"). */
  private isOurThread(id: string, allowAny: boolean): boolean {
    const match = /^(?:p(-1|[0-9a-fA-F]+)\.)?(-1|[0-9a-fA-F]+)$/.exec(id);
    if (!match) return false;
    const pid = match[1] === undefined ? GUEST_PID : match[1] === '-1' ? -1 : parseInt(match[1], 16);
    const tid = match[2] === '-1' ? -1 : parseInt(match[2]!, 16);
    const pidOk = pid === GUEST_PID || (allowAny && (pid === 0 || pid === -1));
    const tidOk = tid === 1 || (allowAny && (tid === 0 || tid === -1));
    return pidOk && tidOk;
  }
}

const ACK = Uint8Array.of(0x2b);
const NAK = Uint8Array.of(0x2d);
