/**
 * Framing of the GDB Remote Serial Protocol (GDB manual, "Overview" of "Remote Protocol"):
 * `$payload#xx` with a two-digit hex checksum (sum of the payload bytes mod 256), `+`/`-`
 * acknowledgements, and a bare 0x03 byte for an interrupt (Ctrl-C). Binary data inside a packet is
 * escaped with `}` followed by the byte XOR 0x20; the stub's replies escape `#`, `$`, `}` and `*`
 * (gdb reads `*` in a reply as run-length encoding).
 *
 * Payloads are handled as latin1 strings (one char per byte). The decoder is a byte-at-a-time
 * state machine: it never buffers more than `maxPayload` bytes, resynchronises on `$`, and reports
 * a packet that grows past the bound as an overflow once its end is seen.
 */
import { hexToBytes, toHex } from '../hex.js';

export type RspEvent =
  | { readonly type: 'packet'; readonly payload: string }
  | { readonly type: 'bad-checksum'; readonly payload: string }
  | { readonly type: 'overflow' }
  | { readonly type: 'ack' }
  | { readonly type: 'nak' }
  | { readonly type: 'interrupt' };

const enum State {
  Idle,
  Payload,
  Checksum1,
  Checksum2,
}

export class RspDecoder {
  private state = State.Idle;
  private payload: number[] = [];
  private sum = 0;
  private checksum = '';
  private overflowed = false;

  constructor(private readonly maxPayload = 0x10000) {}

  /** True while a packet has started but not ended (a disconnect now leaves it unfinished). */
  get midPacket(): boolean {
    return this.state !== State.Idle;
  }

  push(bytes: Uint8Array): RspEvent[] {
    const events: RspEvent[] = [];
    for (const byte of bytes) {
      const event = this.byte(byte);
      if (event) events.push(event);
    }
    return events;
  }

  /**
   * Consumes bytes up to and including the first one that completes an event; returns that event
   * (null when `bytes` ran out first) and how many bytes were consumed. Lets a session take one
   * packet at a time and leave the rest for later (backpressure).
   */
  next(bytes: Uint8Array): { event: RspEvent | null; consumed: number } {
    for (let i = 0; i < bytes.length; i++) {
      const event = this.byte(bytes[i]!);
      if (event) return { event, consumed: i + 1 };
    }
    return { event: null, consumed: bytes.length };
  }

  private byte(byte: number): RspEvent | null {
    switch (this.state) {
      case State.Idle:
        if (byte === 0x24) this.start(); // '$'
        else if (byte === 0x2b) return { type: 'ack' };
        else if (byte === 0x2d) return { type: 'nak' };
        else if (byte === 0x03) return { type: 'interrupt' };
        // Anything else between packets is line noise: ignored, as gdbserver does.
        return null;
      case State.Payload:
        if (byte === 0x23) {
          this.state = State.Checksum1; // '#'
        } else if (byte === 0x24) {
          this.start(); // a new packet restarts framing
        } else {
          this.sum = (this.sum + byte) & 0xff;
          if (this.payload.length < this.maxPayload) this.payload.push(byte);
          else this.overflowed = true;
        }
        return null;
      case State.Checksum1:
        this.checksum = String.fromCharCode(byte);
        this.state = State.Checksum2;
        return null;
      case State.Checksum2: {
        this.checksum += String.fromCharCode(byte);
        this.state = State.Idle;
        const payload = latin1(this.payload);
        this.payload = [];
        if (this.overflowed) return { type: 'overflow' };
        if (/^[0-9a-fA-F]{2}$/.test(this.checksum) && parseInt(this.checksum, 16) === this.sum) return { type: 'packet', payload };
        return { type: 'bad-checksum', payload };
      }
    }
  }

  private start(): void {
    this.state = State.Payload;
    this.payload = [];
    this.sum = 0;
    this.overflowed = false;
  }
}

function latin1(bytes: readonly number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.slice(i, i + 8192));
  return out;
}

/** `$payload#xx` as bytes. The payload must already be escaped where it carries binary data. */
export function encodePacket(payload: string): Uint8Array {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum = (sum + payload.charCodeAt(i)) & 0xff;
  const text = `$${payload}#${sum.toString(16).padStart(2, '0')}`;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Escapes binary data for a reply (`#`, `$`, `}`, `*`). */
export function escapeBinary(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x23 || byte === 0x24 || byte === 0x7d || byte === 0x2a) out += '}' + String.fromCharCode(byte ^ 0x20);
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** Undoes `}` escaping (X and vFile:pwrite data). Throws on a dangling escape. */
export function unescapeBinary(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7d) {
      if (++i >= text.length) throw new RspSyntaxError('dangling escape in binary data');
      out.push(text.charCodeAt(i) ^ 0x20);
    } else {
      out.push(c & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** A packet whose arguments do not parse: the stub replies with an error. */
export class RspSyntaxError extends Error {
  override readonly name = 'RspSyntaxError';
}

export { toHex };

export function fromHex(text: string): Uint8Array {
  const bytes = hexToBytes(text);
  if (!bytes) throw new RspSyntaxError(`bad hex data '${text.slice(0, 32)}'`);
  return bytes;
}

/** A hex number of at most `maxDigits` digits (16 for a 64-bit address). */
export function parseHexNumber(text: string, maxDigits = 16): bigint {
  if (!/^[0-9a-fA-F]+$/.test(text) || text.length > maxDigits) throw new RspSyntaxError(`bad hex number '${text.slice(0, 32)}'`);
  return BigInt(`0x${text}`);
}

/** A hex length, clamped to `max` (gdb may ask for more than a reply carries; it takes less). */
export function parseHexLengthClamped(text: string, max: number): number {
  const value = parseHexNumber(text, 16);
  return value > BigInt(max) ? max : Number(value);
}

/** A hex length or count that must fit a JS number below `max`. */
export function parseHexLength(text: string, max: number): number {
  const value = parseHexNumber(text, 16);
  if (value > BigInt(max)) throw new RspSyntaxError(`length 0x${text} exceeds 0x${max.toString(16)}`);
  return Number(value);
}

/** A little-endian register value as hex, `bits` wide. */
export function registerToHex(value: bigint, bits: number): string {
  const bytes = new Uint8Array(bits / 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return toHex(bytes);
}

export function registerFromHex(text: string, bits: number): bigint {
  const bytes = fromHex(text);
  if (bytes.length !== bits / 8) throw new RspSyntaxError(`register value '${text.slice(0, 32)}' is not ${bits / 8} bytes`);
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}
