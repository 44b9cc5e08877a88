import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { xxhash32 } from '../../src/common/xxhash32.js';
import {
  ByteReader, decodeEnd, decodeHello, decodeRam, decodeState, decodeTags, decodeValue, encodeSection, encodeState, encodeValue,
  Section, SectionReader, StreamFormatError,
} from '../../src/vmm/migration/index.js';

const plain: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('xxHash32', () => {
  it.each([
    ['', 0x02cc5d05],
    ['a', 0x550d7456],
    ['abc', 0x32d153ff],
    ['Nobody inspects the spammish repetition', 0xe2293b2f],
  ])('matches the reference for %j', (text, expected) => {
    expect(xxhash32(new TextEncoder().encode(text))).toBe(expected);
  });

  test.prop([fc.uint8Array({ maxLength: 9000 }), fc.integer({ min: 1, max: 3 })])('is the same for aligned and unaligned views', (bytes, shift) => {
    const shifted = new Uint8Array(bytes.length + shift);
    shifted.set(bytes, shift);
    expect(xxhash32(shifted.subarray(shift))).toBe(xxhash32(bytes));
  });
});

describe('state value encoding', () => {
  test.prop([plain])('round-trips plain data', (value) => {
    const decoded = decodeValue(new ByteReader(encodeValue(value).finish()));
    expect(JSON.stringify(decoded, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).toBe(
      JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)),
    );
  });

  test.prop([fc.uint8Array({ maxLength: 200 })])('hostile bytes give a StreamFormatError, never another error or a hang', (bytes) => {
    try {
      decodeValue(new ByteReader(bytes));
    } catch (error) {
      expect(error).toBeInstanceOf(StreamFormatError);
    }
  });

  it('bounds nesting depth', () => {
    const deep = new Uint8Array(200).fill(6); // arrays of one array of ...
    for (let i = 1; i < deep.length; i += 5) deep.set([1, 0, 0, 0], i);
    expect(() => decodeValue(new ByteReader(deep))).toThrow(/deeper|truncated/);
  });
});

describe('payload decoders refuse what they cannot trust', () => {
  test.prop([fc.uint8Array({ maxLength: 300 })])('RAM, TAGS, STATE, END and HELLO decoders only ever throw StreamFormatError', (bytes) => {
    for (const decode of [decodeRam, decodeTags, decodeState, decodeEnd, decodeHello]) {
      try {
        decode(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(StreamFormatError);
      }
    }
  });

  it('a page count larger than the data is a truncation, not an allocation', () => {
    const payload = new Uint8Array([0xa0, 0x0f, 0, 0]); // 4000 pages, no bytes
    expect(() => decodeRam(payload)).toThrow(/truncated/);
  });

  it('refuses misaligned page addresses and 5-bit tags', () => {
    // Format 1-2 (RAM): u64 address, u8 encoding.
    const misaligned = new Uint8Array(13);
    new DataView(misaligned.buffer).setUint32(0, 1, true);
    misaligned[4] = 0x10;
    expect(() => decodeRam(misaligned, Section.RAM)).toThrow(/not page-aligned/);
    // Format 3 (RAM_ALIGNED): the encoding is the address's low 12 bits, so only 0 and 1 are valid there.
    const aligned = new Uint8Array(16);
    new DataView(aligned.buffer).setUint32(0, 1, true);
    new DataView(aligned.buffer).setUint32(8, 0x4000_0002, true);
    expect(() => decodeRam(aligned)).toThrow(/unknown page encoding 2/);
    new DataView(aligned.buffer).setUint32(4, 1, true);
    expect(() => decodeRam(aligned)).toThrow(/reserved field is not zero/);
    const badTag = new Uint8Array(15);
    new DataView(badTag.buffer).setUint32(0, 1, true);
    badTag[12] = 1;
    badTag[13] = 16;
    expect(() => decodeTags(badTag.subarray(0, 14))).toThrow(/not a 4-bit tag/);
  });

  it('state sections carry name, version and value', () => {
    const { name, version, state } = decodeState(encodeState('vcpu0', 3, { x: Uint8Array.of(1, 2) }));
    expect([name, version, (state as { x: Uint8Array }).x]).toEqual(['vcpu0', 3, Uint8Array.of(1, 2)]);
  });
});

describe('section framing', () => {
  test.prop([fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 5000 })])(
    'sections survive any chunking of the stream',
    (payloads, chunk) => {
      const stream = Buffer.concat(payloads.map((p) => encodeSection(Section.STATE, p)));
      const reader = new SectionReader();
      const seen: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += chunk) {
        reader.push(stream.subarray(at, at + chunk));
        for (let s = reader.next(); s; s = reader.next()) seen.push(Uint8Array.from(s.payload));
      }
      expect(seen).toEqual(payloads.map((p) => Uint8Array.from(p)));
    },
  );

  it('refuses a length above the limit before waiting for the payload', () => {
    const header = new Uint8Array(8);
    header[0] = Section.RAM;
    new DataView(header.buffer).setUint32(4, 0x7fffffff, true);
    const reader = new SectionReader();
    reader.push(header);
    expect(() => reader.next()).toThrow(/exceeds/);
  });

  test.prop([fc.integer({ min: 0, max: 44 }), fc.integer({ min: 0, max: 7 })])('any flipped bit is detected, never accepted', (byte, bit) => {
    const section = encodeSection(Section.STATE, new Uint8Array(33).fill(0x42));
    section[byte]! ^= 1 << bit;
    const reader = new SectionReader();
    reader.push(section);
    // Either an error now, or (a length that grew) a reader still waiting: the end of the
    // stream then reports truncation. A corrupted section is never returned.
    let accepted = null;
    try {
      accepted = reader.next();
    } catch (error) {
      expect(error).toBeInstanceOf(StreamFormatError);
      return;
    }
    expect(accepted).toBeNull();
    expect(reader.pending).toBe(section.length);
  });
});

describe('format versions', () => {
  it('accepts the current version and refuses others with the versions it reads', async () => {
    const { encodeHello, decodeHello, FORMAT_VERSION, READABLE_VERSIONS } = await import('../../src/vmm/migration/index.js');
    const caps = { machine: 'virt', pageSize: 4096, mte: true, tagEncoding: 'mte-packed4', ram: [{ base: 0x4000_0000, size: 1 << 26 }], components: ['vcpu0'] };
    const hello = encodeHello(caps);
    expect(decodeHello(hello).version).toBe(FORMAT_VERSION);
    expect(READABLE_VERSIONS).toContain(FORMAT_VERSION);
    for (const version of [0, FORMAT_VERSION + 1, 99]) {
      const other = hello.slice();
      new DataView(other.buffer).setUint16(8, version, true);
      expect(() => decodeHello(other)).toThrow(new RegExp(`unsupported format version ${version}`));
    }
  });
});

describe('SYNC and COMMITTED (format 2)', () => {
  it('SYNC carries its round and kind; an unknown kind is refused; COMMITTED reads leniently', async () => {
    const { encodeSync, decodeSync, encodeCommitted, decodeCommitted } = await import('../../src/vmm/migration/index.js');
    expect(decodeSync(encodeSync({ round: 7, paused: true }))).toEqual({ round: 7, paused: true });
    expect(() => decodeSync(Uint8Array.of(1, 0, 0, 0, 2))).toThrow(/unknown sync kind 2/);
    expect(() => decodeSync(Uint8Array.of(1, 0, 0, 0, 0, 0))).toThrow();
    expect(decodeCommitted(encodeCommitted({ downtimeMs: 12.5 }))).toEqual({ downtimeMs: 12.5 });
    expect(decodeCommitted(new Uint8Array(0))).toEqual({}); // format 1
    expect(decodeCommitted(new TextEncoder().encode('{"downtimeMs": "x"}'))).toEqual({});
  });
});
