import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  encodePacket,
  escapeBinary,
  fromHex,
  parseHexLength,
  parseHexNumber,
  registerFromHex,
  registerToHex,
  RspDecoder,
  RspSyntaxError,
  toHex,
  unescapeBinary,
} from '../../src/vmm/debug/gdb/packet-codec.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('RSP framing', () => {
  it('decodes packets, acks, naks and interrupts, in order', () => {
    const d = new RspDecoder();
    expect(d.push(bytes('+$g#67-\x03$qC#b4'))).toEqual([
      { type: 'ack' },
      { type: 'packet', payload: 'g' },
      { type: 'nak' },
      { type: 'interrupt' },
      { type: 'packet', payload: 'qC' },
    ]);
    expect(d.midPacket).toBe(false);
  });

  it('reports a bad checksum (wrong value or not hex)', () => {
    const d = new RspDecoder();
    expect(d.push(bytes('$g#00'))).toEqual([{ type: 'bad-checksum', payload: 'g' }]);
    expect(d.push(bytes('$g#zz'))).toEqual([{ type: 'bad-checksum', payload: 'g' }]);
  });

  it('reassembles a packet split across chunks, byte by byte', () => {
    const d = new RspDecoder();
    const events = [...bytes('$m40000000,4#51')].flatMap((b) => d.push(Uint8Array.of(b)));
    expect(events).toEqual([{ type: 'packet', payload: 'm40000000,4' }]);
  });

  it('is mid-packet until the checksum arrives', () => {
    const d = new RspDecoder();
    d.push(bytes('$qSupp'));
    expect(d.midPacket).toBe(true);
    d.push(bytes('orted#37'));
    expect(d.midPacket).toBe(false);
  });

  it('restarts on a new $ inside a packet and ignores noise between packets', () => {
    const d = new RspDecoder();
    expect(d.push(bytes('garbage$m1,$g#67'))).toEqual([{ type: 'packet', payload: 'g' }]);
  });

  it('bounds a packet: an overlong one is reported once its end is seen, without buffering it', () => {
    const d = new RspDecoder(16);
    const long = 'X'.repeat(100_000);
    let sum = 0;
    for (const c of long) sum = (sum + c.charCodeAt(0)) & 0xff;
    expect(d.push(bytes(`$${long}#${sum.toString(16).padStart(2, '0')}`))).toEqual([{ type: 'overflow' }]);
    expect(d.push(bytes('$g#67'))).toEqual([{ type: 'packet', payload: 'g' }]);
  });

  test.prop([fc.uint8Array({ maxLength: 300 })])('escaped binary survives encode and decode', (data) => {
    const payload = `X0,${data.length.toString(16)}:${escapeBinary(data)}`;
    const events = new RspDecoder().push(encodePacket(payload));
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.type).toBe('packet');
    if (event.type !== 'packet') return;
    const body = event.payload.slice(event.payload.indexOf(':') + 1);
    expect(unescapeBinary(body)).toEqual(data);
    // '#', '$' and '*' never appear unescaped in a reply (gdb reads '*' as run-length encoding).
    expect(escapeBinary(data)).not.toMatch(/[#$*]/);
  });
});

describe('RSP values', () => {
  it('hex bytes round-trip and bad hex is refused', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0x10))).toBe('00ab10');
    expect(fromHex('00AB10')).toEqual(Uint8Array.of(0, 0xab, 0x10));
    expect(() => fromHex('abc')).toThrow(RspSyntaxError);
    expect(() => fromHex('zz')).toThrow(RspSyntaxError);
  });

  it('numbers are bounded', () => {
    expect(parseHexNumber('ffffffffffffffff')).toBe(2n ** 64n - 1n);
    expect(() => parseHexNumber('1ffffffffffffffff')).toThrow(RspSyntaxError);
    expect(() => parseHexNumber('')).toThrow(RspSyntaxError);
    expect(parseHexLength('10', 16)).toBe(16);
    expect(() => parseHexLength('11', 16)).toThrow(/exceeds/);
  });

  it('registers are little-endian hex of their width', () => {
    expect(registerToHex(0x1122334455667788n, 64)).toBe('8877665544332211');
    expect(registerFromHex('8877665544332211', 64)).toBe(0x1122334455667788n);
    expect(registerToHex(0x600003c5n, 32)).toBe('c5030060');
    expect(() => registerFromHex('c503', 32)).toThrow(RspSyntaxError);
  });

  it('a dangling escape is refused', () => {
    expect(() => unescapeBinary('ab}')).toThrow(RspSyntaxError);
  });
});
