import { xxhash32 } from '../../common/xxhash32.js';
import { xxhash64Low32 } from '../../common/xxhash64.js';
import { StreamFormatError } from './value-codec.js';

/** Section types (docs/migration-protocol.md §1). */
export const Section = {
  HELLO: 0x01,
  RAM: 0x02,
  TAGS: 0x03,
  STATE: 0x04,
  END: 0x05,
  /** A protected VM's section, encrypted and authenticated (sealing.ts). */
  SEALED: 0x06,
  /** Format 2: the end of a pre-copy round (acknowledged with SYNCED) or the source's pause. */
  SYNC: 0x07,
  /** Post-copy: the device states are complete, the pages follow on the page connection (postcopy.ts). */
  POSTCOPY: 0x08,
  /** Post-copy page connection: pages, each with its tags. */
  PAGES: 0x09,
  /** Format 3: RAM with every page's data 8-byte aligned in the frame (§3.1), so copies run at memory speed. */
  RAM_ALIGNED: 0x0a,
  ACCEPT: 0x10,
  REFUSE: 0x11,
  COMMITTED: 0x12,
  /** Format 2: everything before the SYNC it echoes is applied. */
  SYNCED: 0x13,
  /** Post-copy: the destination's page connection listens on this port; the guest starts once it is connected. */
  LISTEN: 0x14,
  /** Post-copy page connection: pages the destination's guest waits for. */
  REQUEST: 0x15,
} as const;

export type SectionType = (typeof Section)[keyof typeof Section];

/**
 * The checksum of a section's header and payload (`bytes`, without the trailer): XXH32, except for
 * the sections that carry nearly every byte, format 3's RAM and post-copy version 2's PAGES, which
 * use XXH64's low 32 bits (its lanes run in wasm about twice as fast overall; src/common/xxhash64.ts).
 */
export function sectionChecksum(type: number, bytes: Uint8Array): number {
  return type === Section.RAM_ALIGNED || type === Section.PAGES ? xxhash64Low32(bytes) : xxhash32(bytes);
}

/** Either form of a RAM section (format 1-2's RAM, format 3's RAM_ALIGNED). */
export function isRamSection(type: number): boolean {
  return type === Section.RAM || type === Section.RAM_ALIGNED;
}

const KNOWN = new Set<number>(Object.values(Section));
export const SECTION_HEADER_BYTES = 8;
export const SECTION_TRAILER_BYTES = 4;
/** Largest payload a reader accepts: bounds memory use for a hostile stream. */
export const MAX_SECTION_PAYLOAD = 16 * 1024 * 1024;

export interface RawSection {
  readonly type: SectionType;
  readonly payload: Uint8Array;
  /**
   * Set when the reader left the checksum to be verified elsewhere (a decoder thread): the whole
   * frame, header to checksum. `verifySection` checks it; StreamTarget does so before using it.
   */
  readonly unverified?: Uint8Array;
}

/** Verifies the checksum a SectionReader deferred (no-op for a verified section). */
export function verifySection(section: RawSection): void {
  const frame = section.unverified;
  if (!frame) return;
  const length = frame.length - SECTION_HEADER_BYTES - SECTION_TRAILER_BYTES;
  const expected = new DataView(frame.buffer, frame.byteOffset + SECTION_HEADER_BYTES + length, 4).getUint32(0, true);
  if (expected !== sectionChecksum(frame[0]!, frame.subarray(0, SECTION_HEADER_BYTES + length))) throw new StreamFormatError('checksum mismatch (corrupted stream)');
}

/** Frames a payload: header, payload, xxHash32 over both. */
export function encodeSection(type: SectionType, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(SECTION_HEADER_BYTES + payload.length + SECTION_TRAILER_BYTES);
  out.set(payload, SECTION_HEADER_BYTES);
  return sealSection(type, out);
}

/**
 * Completes a section built in place: `frame` holds 8 header bytes, the payload, and 4 bytes of
 * room for the checksum (the page batches write their pages straight into such a frame).
 */
export function sealSection(type: SectionType, frame: Uint8Array): Uint8Array {
  const length = frame.length - SECTION_HEADER_BYTES - SECTION_TRAILER_BYTES;
  if (length > MAX_SECTION_PAYLOAD) throw new Error(`section payload of ${length} bytes exceeds the limit`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  view.setUint8(0, type);
  view.setUint8(1, 0);
  view.setUint16(2, 0, true);
  view.setUint32(4, length, true);
  view.setUint32(SECTION_HEADER_BYTES + length, sectionChecksum(type, frame.subarray(0, SECTION_HEADER_BYTES + length)), true);
  return frame;
}

/**
 * Incremental section parser for bytes arriving in arbitrary chunks (a TCP stream, a file).
 * Every header is validated before its payload is awaited, so a hostile length cannot make it
 * buffer more than MAX_SECTION_PAYLOAD; a checksum mismatch is an error before the payload is used.
 */
export class SectionReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Bytes consumed by complete sections so far (for error messages). */
  consumed = 0;

  /**
   * `deferChecksum`: section types returned with `unverified` set (their own copy) instead of
   * verified here; `allocate` gives the buffer such a copy is gathered in (a spare one: fresh
   * memory costs a page fault per 4 KiB), at least `n` bytes, and not shared with anything else.
   */
  constructor(
    private readonly deferChecksum: ReadonlySet<number> = new Set(),
    private readonly allocate: (n: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received that do not yet form a complete section. */
  get pending(): number {
    return this.buffered;
  }

  /** The next complete section, or null when more bytes are needed. Throws on a bad section. */
  next(): RawSection | null {
    if (this.buffered < SECTION_HEADER_BYTES) return null;
    const header = this.peek(SECTION_HEADER_BYTES);
    const view = new DataView(header.buffer, header.byteOffset, SECTION_HEADER_BYTES);
    const type = view.getUint8(0);
    const where = `section at byte ${this.consumed}`;
    if (!KNOWN.has(type)) {
      // At byte 0 the likeliest story is the wrong file or peer, not a damaged stream: say so.
      if (this.consumed === 0) throw new StreamFormatError(`not a Tagvisor migration stream or snapshot (it starts with byte 0x${type.toString(16)}, no section type)`);
      throw new StreamFormatError(`${where}: unknown section type 0x${type.toString(16)}`);
    }
    if (view.getUint8(1) !== 0 || view.getUint16(2, true) !== 0) throw new StreamFormatError(`${where}: reserved header fields are not zero`);
    const length = view.getUint32(4, true);
    if (length > MAX_SECTION_PAYLOAD) throw new StreamFormatError(`${where}: payload of ${length} bytes exceeds ${MAX_SECTION_PAYLOAD}`);
    const total = SECTION_HEADER_BYTES + length + SECTION_TRAILER_BYTES;
    if (this.buffered < total) return null;
    if (this.deferChecksum.has(type)) {
      // A buffer of its own (gathered from the chunks): it may be handed to another thread.
      const frame = this.gather(total, true, this.allocate(total).subarray(0, total));
      this.consumed += total;
      return { type: type as SectionType, payload: frame.subarray(SECTION_HEADER_BYTES, SECTION_HEADER_BYTES + length), unverified: frame };
    }
    const bytes = this.take(total);
    const payload = bytes.subarray(SECTION_HEADER_BYTES, SECTION_HEADER_BYTES + length);
    const expected = new DataView(bytes.buffer, bytes.byteOffset + SECTION_HEADER_BYTES + length, 4).getUint32(0, true);
    const actual = sectionChecksum(type, bytes.subarray(0, SECTION_HEADER_BYTES + length));
    if (expected !== actual) throw new StreamFormatError(`${where}: checksum mismatch (corrupted stream)`);
    this.consumed += total;
    return { type: type as SectionType, payload };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.gather(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    return this.gather(n, true);
  }

  private gather(n: number, consume: boolean, out: Uint8Array = new Uint8Array(n)): Uint8Array {
    let filled = 0;
    let index = 0;
    while (filled < n) {
      const chunk = this.chunks[index]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (consume) {
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      } else {
        index++;
      }
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
