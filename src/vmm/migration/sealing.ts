/**
 * Encrypted, authenticated migration streams for protected VMs (docs/migration-protocol.md §8):
 * after HELLO, every section travels inside a SEALED section, AES-256-GCM with a fresh random
 * 96-bit nonce per chunk. The additional data binds each chunk to this stream and its position:
 * SHA-256 of the HELLO payload (which carries a random session id and the capabilities) and the
 * chunk's sequence number. A tampered chunk fails authentication, a replayed or reordered one has
 * the wrong sequence number, one from another session the wrong digest, a truncated stream lacks
 * its (sealed) END: the target refuses the migration in every case.
 *
 * WebCrypto (globalThis.crypto.subtle), so this runs in Node and in browsers.
 */
import { encodeSection, Section, SectionReader, type RawSection } from './sections.js';
import { ByteReader, StreamFormatError } from './value-codec.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Parses a key file: 32 raw bytes, or 64 hex digits (whitespace around is ignored). */
export function parseKey(file: Uint8Array): Uint8Array {
  if (file.length === KEY_BYTES) return file;
  const text = new TextDecoder().decode(file).trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(text.match(/../g)!.map((pair) => parseInt(pair, 16)));
  throw new Error(`a migration key is ${KEY_BYTES} raw bytes or 64 hex digits`);
}

/** WebCrypto wants ArrayBuffer-backed views; Node buffers and wasm memory views may not be. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

async function importKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== KEY_BYTES) throw new Error(`a migration key is ${KEY_BYTES} bytes`);
  return globalThis.crypto.subtle.importKey('raw', own(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function helloDigest(hello: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', own(hello)));
}

function additionalData(digest: Uint8Array, sequence: number): Uint8Array<ArrayBuffer> {
  const aad = new Uint8Array(digest.length + 8);
  aad.set(digest);
  const view = new DataView(aad.buffer);
  view.setUint32(digest.length, sequence % 2 ** 32, true);
  view.setUint32(digest.length + 4, Math.floor(sequence / 2 ** 32), true);
  return aad;
}

/** Random bytes for a session id. */
export function sessionId(): string {
  return [...globalThis.crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The source side: seals whole sections in order. */
export class StreamSealer {
  private sequence = 0;

  private constructor(
    private readonly key: CryptoKey,
    private readonly digest: Uint8Array,
  ) {}

  static async create(key: Uint8Array, helloPayload: Uint8Array): Promise<StreamSealer> {
    return new StreamSealer(await importKey(key), await helloDigest(helloPayload));
  }

  async seal(section: Uint8Array): Promise<Uint8Array> {
    const sequence = this.sequence++;
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const sealed = new Uint8Array(
      await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: additionalData(this.digest, sequence), tagLength: TAG_BYTES * 8 }, this.key, own(section)),
    );
    const payload = new Uint8Array(8 + NONCE_BYTES + sealed.length);
    const view = new DataView(payload.buffer);
    view.setUint32(0, sequence % 2 ** 32, true);
    view.setUint32(4, Math.floor(sequence / 2 ** 32), true);
    payload.set(nonce, 8);
    payload.set(sealed, 8 + NONCE_BYTES);
    return encodeSection(Section.SEALED, payload);
  }
}

/** The sections a source sends after HELLO: all of them travel sealed. */
const SEALABLE = new Set<number>([Section.RAM, Section.RAM_ALIGNED, Section.TAGS, Section.STATE, Section.END, Section.SYNC]);

/** The target side: authenticates, checks the order, and returns the inner section. */
export class StreamOpener {
  private expected = 0;

  private constructor(
    private readonly key: CryptoKey,
    private readonly digest: Uint8Array,
  ) {}

  static async create(key: Uint8Array, helloPayload: Uint8Array): Promise<StreamOpener> {
    return new StreamOpener(await importKey(key), await helloDigest(helloPayload));
  }

  async open(section: RawSection): Promise<RawSection> {
    if (section.type !== Section.SEALED) throw new StreamFormatError(`a protected VM's stream carries only sealed sections, got type 0x${section.type.toString(16)}`);
    const reader = new ByteReader(section.payload);
    const sequence = reader.u64('chunk sequence number');
    if (sequence !== this.expected) {
      throw new StreamFormatError(`sealed chunk ${sequence} arrived where chunk ${this.expected} was due: the stream was replayed, reordered or cut`);
    }
    const nonce = reader.take(NONCE_BYTES, 'nonce');
    if (reader.remaining < TAG_BYTES) throw new StreamFormatError('sealed chunk too short');
    const sealed = reader.take(reader.remaining);
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(
        await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: own(nonce), additionalData: additionalData(this.digest, sequence), tagLength: TAG_BYTES * 8 }, this.key, own(sealed)),
      );
    } catch {
      throw new StreamFormatError(`sealed chunk ${sequence} failed authentication: tampered, or sealed with another key or for another stream`);
    }
    this.expected++;
    const inner = new SectionReader();
    inner.push(plain);
    const result = inner.next();
    if (!result || inner.pending !== 0) throw new StreamFormatError(`sealed chunk ${sequence} does not hold exactly one section`);
    if (!SEALABLE.has(result.type)) {
      throw new StreamFormatError(`sealed chunk ${sequence} holds a section of type 0x${result.type.toString(16)}`);
    }
    return result;
  }
}
