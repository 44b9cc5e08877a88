import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { xxhash64, xxhash64Low32 } from '../../src/common/xxhash64.js';

/** The reference: xxhash-wasm (the xxHash C code compiled to wasm), an implementation independent of ours. */
const reference = await xxhashWasm();

describe('XXH64 (format 3 RAM sections)', () => {
  it('matches the published vectors', () => {
    expect(xxhash64(new Uint8Array(0)).toString(16)).toBe('ef46db3751d8e999');
    expect(xxhash64(new TextEncoder().encode('a')).toString(16)).toBe('d24ec4f1a98c6e5b');
  });

  // Lengths around the 32-byte stripes and the 64 KiB window the wasm lanes copy in.
  const lengths = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65_536 - 40, max: 65_536 + 40 }), fc.integer({ min: 131_000, max: 140_000 }));
  test.prop([lengths, fc.integer({ min: 0, max: 7 }), fc.integer()], { numRuns: 60 })(
    'equals xxHash itself, in wasm and in BigInt, at any length and alignment',
    (length, offset, seed) => {
      const buffer = new Uint8Array(length + offset);
      let x = seed | 1;
      for (let i = 0; i < buffer.length; i++) buffer[i] = (x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ i) >>> 24;
      const bytes = buffer.subarray(offset);
      const expected = reference.h64Raw(bytes);
      expect(xxhash64(bytes)).toBe(expected);
      if (length < 70_000) expect(xxhash64(bytes, true)).toBe(expected);
      expect(xxhash64Low32(bytes)).toBe(Number(expected & 0xffffffffn));
    },
  );
});
