/**
 * CRC-32 (IEEE 802.3, reflected 0x04C11DB7; zlib's crc32) and CRC-32C (reflected 0x1EDC6F41).
 * `crc32` uses slicing-by-8 (eight table lookups per 8 bytes), because migration checksums every
 * section of guest memory it sends and a byte-at-a-time CRC would cap the stream's throughput.
 */

function table(reflectedPolynomial: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ reflectedPolynomial : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

/** Byte-at-a-time tables, without the usual pre/post inversion (callers choose). */
export const CRC32_TABLE = table(0xedb88320);
export const CRC32C_TABLE = table(0x82f63b78);

/** SLICES[k][b]: the CRC of byte b followed by k zero bytes. */
const SLICES: Int32Array[] = [Int32Array.from(CRC32_TABLE)];
for (let k = 1; k < 8; k++) {
  const previous = SLICES[k - 1]!;
  const next = new Int32Array(256);
  for (let b = 0; b < 256; b++) next[b] = (previous[b]! >>> 8) ^ SLICES[0]![previous[b]! & 0xff]!;
  SLICES.push(next);
}

/** zlib-compatible CRC-32 of `bytes`, continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = SLICES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
