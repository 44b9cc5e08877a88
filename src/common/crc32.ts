/** CRC-32 (IEEE 802.3, reflected 0x04C11DB7; zlib's crc32) and CRC-32C (reflected 0x1EDC6F41). */

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

/** zlib-compatible CRC-32 of `bytes`, continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = CRC32_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
