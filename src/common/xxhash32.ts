/**
 * xxHash32 (Yann Collet's XXH32, seed 0 by default): the checksum of migration and snapshot
 * sections. Several times faster than a table CRC-32 in JavaScript, which matters because every
 * byte of guest memory a migration sends is checksummed on both ends.
 */

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** Scratch space for hashing unaligned input through the fast aligned path. */
let aligned = new Uint8Array(0);

/** XXH32 of `bytes`, as an unsigned 32-bit number. */
export function xxhash32(bytes: Uint8Array, seed = 0): number {
  const n = bytes.length;
  if (bytes.byteOffset % 4 !== 0 && n >= 4096) {
    // Copying (memcpy speed) then hashing words beats assembling words from bytes.
    if (aligned.length < n) aligned = new Uint8Array(Math.max(n, aligned.length * 2));
    aligned.set(bytes);
    bytes = aligned.subarray(0, n);
  }
  // Aligned input reads whole words; otherwise assemble them byte by byte.
  const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, n >>> 2) : null;
  const word = words
    ? (i: number): number => words[i >>> 2]!
    : (i: number): number => bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    if (words) {
      for (let w = 0, end = (n >>> 4) << 2; w < end; w += 4) {
        v1 = round(v1, words[w]!);
        v2 = round(v2, words[w + 1]!);
        v3 = round(v3, words[w + 2]!);
        v4 = round(v4, words[w + 3]!);
      }
      i = (n >>> 4) << 4;
    } else {
      for (; i + 16 <= n; i += 16) {
        v1 = round(v1, word(i));
        v2 = round(v2, word(i + 4));
        v3 = round(v3, word(i + 8));
        v4 = round(v4, word(i + 12));
      }
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + n) | 0;
  for (; i + 4 <= n; i += 4) h = Math.imul(rotl((h + Math.imul(word(i), P3)) | 0, 17), P4);
  for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(bytes[i]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
