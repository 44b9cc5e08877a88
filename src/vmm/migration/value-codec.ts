/**
 * The self-describing encoding of component state (docs/migration-protocol.md §5): plain data
 * (null, booleans, numbers, strings, Uint8Array, arrays, objects) to bytes and back. The decoder
 * treats its input as hostile: every length is checked against the bytes left, nesting is bounded.
 */

const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const NUMBER = 3;
const STRING = 4;
const BYTES = 5;
const ARRAY = 6;
const OBJECT = 7;

const MAX_DEPTH = 32;
const MAX_STRING = 64 * 1024;

export class StreamFormatError extends Error {
  override readonly name = 'StreamFormatError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Growable byte buffer with little-endian writers. */
export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  length = 0;

  /** `initial`: a size, or a buffer to build in (reused: its old bytes are overwritten as the writer goes). */
  constructor(initial: number | Uint8Array = 256) {
    this.buffer = typeof initial === 'number' ? new Uint8Array(initial) : initial;
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Makes room for `n` more bytes and returns the offset to write them at. */
  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buffer.subarray(0, at));
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  // Each writer reserves first: reserve() may replace buffer and view.
  u8(value: number): void {
    const at = this.reserve(1);
    this.buffer[at] = value;
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  u64(value: number): void {
    const at = this.reserve(8);
    this.view.setUint32(at, value % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
  }

  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }

  bytes(value: Uint8Array): void {
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
  }

  /** A window of `n` bytes to fill in place (avoids a copy for page data). */
  window(n: number): Uint8Array {
    const at = this.reserve(n);
    return this.buffer.subarray(at, at + n);
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Bounds-checked little-endian reader over untrusted bytes. */
export class ByteReader {
  private readonly view: DataView;
  offset = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, what: string): number {
    if (n > this.remaining) throw new StreamFormatError(`truncated ${what}: needs ${n} bytes, ${this.remaining} left`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(what = 'byte'): number {
    return this.bytes[this.need(1, what)]!;
  }

  u16(what = 'u16'): number {
    return this.view.getUint16(this.need(2, what), true);
  }

  u32(what = 'u32'): number {
    return this.view.getUint32(this.need(4, what), true);
  }

  u64(what = 'u64'): number {
    const at = this.need(8, what);
    const hi = this.view.getUint32(at + 4, true);
    if (hi >= 2 ** 21) throw new StreamFormatError(`${what} out of range`);
    return hi * 2 ** 32 + this.view.getUint32(at, true);
  }

  f64(what = 'number'): number {
    return this.view.getFloat64(this.need(8, what), true);
  }

  /** A view (not a copy) of the next `n` bytes. */
  take(n: number, what = 'bytes'): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }

  expectEnd(what: string): void {
    if (this.remaining !== 0) throw new StreamFormatError(`${this.remaining} unexpected bytes after ${what}`);
  }
}

export function encodeValue(value: unknown, out = new ByteWriter()): ByteWriter {
  write(out, value, 0);
  return out;
}

function write(out: ByteWriter, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('state nests too deeply');
  if (value === null || value === undefined) out.u8(NULL);
  else if (value === false) out.u8(FALSE);
  else if (value === true) out.u8(TRUE);
  else if (typeof value === 'number') {
    out.u8(NUMBER);
    out.f64(value);
  } else if (typeof value === 'string') {
    out.u8(STRING);
    writeString(out, value);
  } else if (value instanceof Uint8Array) {
    out.u8(BYTES);
    out.u32(value.length);
    out.bytes(value);
  } else if (Array.isArray(value)) {
    out.u8(ARRAY);
    out.u32(value.length);
    for (const item of value) write(out, item, depth + 1);
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    out.u8(OBJECT);
    out.u32(entries.length);
    for (const [key, item] of entries) {
      writeString(out, key);
      write(out, item, depth + 1);
    }
  } else {
    throw new Error(`cannot encode a ${typeof value} in saved state`);
  }
}

function writeString(out: ByteWriter, value: string): void {
  const bytes = encoder.encode(value);
  out.u32(bytes.length);
  out.bytes(bytes);
}

/** Decodes one value; byte arrays are copies, so the result outlives the input buffer. */
export function decodeValue(input: ByteReader): unknown {
  return read(input, 0);
}

function read(input: ByteReader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new StreamFormatError(`state nests deeper than ${MAX_DEPTH}`);
  const tag = input.u8('value tag');
  switch (tag) {
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case NUMBER:
      return input.f64();
    case STRING:
      return readString(input);
    case BYTES:
      return input.take(input.u32('byte length'), 'byte string').slice();
    case ARRAY: {
      const count = input.u32('array length');
      if (count > input.remaining) throw new StreamFormatError(`array of ${count} items in ${input.remaining} bytes`);
      const items: unknown[] = [];
      for (let i = 0; i < count; i++) items.push(read(input, depth + 1));
      return items;
    }
    case OBJECT: {
      const count = input.u32('object size');
      if (count > input.remaining) throw new StreamFormatError(`object of ${count} fields in ${input.remaining} bytes`);
      const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (let i = 0; i < count; i++) {
        const key = readString(input);
        if (key in result) throw new StreamFormatError(`duplicate field ${JSON.stringify(key)}`);
        result[key] = read(input, depth + 1);
      }
      return result;
    }
    default:
      throw new StreamFormatError(`unknown value tag ${tag}`);
  }
}

function readString(input: ByteReader): string {
  const length = input.u32('string length');
  if (length > MAX_STRING) throw new StreamFormatError(`string of ${length} bytes exceeds ${MAX_STRING}`);
  try {
    return decoder.decode(input.take(length, 'string'));
  } catch {
    throw new StreamFormatError('string is not valid UTF-8');
  }
}
