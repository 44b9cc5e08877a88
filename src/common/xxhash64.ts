/**
 * XXH64 (Yann Collet's xxHash64, seed 0): the checksum of format 3's RAM sections, which carry
 * nearly every byte a migration or snapshot moves. Its four 64-bit lanes run in a small
 * WebAssembly module at about 14 GB/s (XXH32 in JavaScript: ~2.8 GB/s; in wasm ~5.6, its 32-bit
 * multiplies are latency-bound); the input is copied into the module's memory 64 KiB at a time,
 * which stays in cache, so a hash costs about twice less than XXH32 in JavaScript overall.
 * Finishing (the merge, the last < 32 bytes, the avalanche) is done in BigInt: once per input.
 * Where wasm cannot be compiled (a page whose Content-Security-Policy forbids it) the same lanes
 * run in BigInt (`stripesInJs`, slow); test/common/xxhash64.test.ts holds the two together.
 */

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

/** Bytes copied into the module per call, and where its four accumulators live after them. */
const WINDOW = 65536;
const STATE = WINDOW;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK;
}

function round(acc: bigint, lane: bigint): bigint {
  return (rotl((acc + lane * P2) & MASK, 31n) * P1) & MASK;
}

function mergeRound(h: bigint, v: bigint): bigint {
  return ((((h ^ round(0n, v)) * P1) & MASK) + P4) & MASK;
}

// ---- the wasm module: stripes(len) runs the four lanes over memory [0, len), len a multiple of 32 ----

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function sleb64(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function moduleBytes(): Uint8Array {
  const [LOCAL_LEN, LOCAL_AT] = [0, 1];
  const acc = (k: number): number => 2 + k;
  // acc_k = rotl(acc_k + load64(at + 8k) * P2, 31) * P1
  const lane = (k: number): number[] => [
    0x20, acc(k), 0x20, LOCAL_AT, 0x29, 3, ...uleb(8 * k), 0x42, ...sleb64(P2), 0x7e, 0x7c,
    0x42, 31, 0x89, 0x42, ...sleb64(P1), 0x7e, 0x21, acc(k),
  ];
  const body = [
    2, 1, 0x7f, 4, 0x7e, // locals: at (i32), four accumulators (i64)
    ...[0, 1, 2, 3].flatMap((k) => [0x41, 0, 0x29, 3, ...uleb(STATE + 8 * k), 0x21, acc(k)]),
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, LOCAL_AT, 0x20, LOCAL_LEN, 0x4f, 0x0d, 1, // at >= len: done
    ...lane(0), ...lane(1), ...lane(2), ...lane(3),
    0x20, LOCAL_AT, 0x41, 32, 0x6a, 0x21, LOCAL_AT,
    0x0c, 0, 0x0b, 0x0b,
    ...[0, 1, 2, 3].flatMap((k) => [0x41, 0, 0x20, acc(k), 0x37, 3, ...uleb(STATE + 8 * k)]),
    0x0b,
  ];
  const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
  const name = (text: string): number[] => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 0]), // type: (i32) -> ()
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 2]), // memory: 2 pages (the window, then the state)
    ...section(7, [2, ...name('stripes'), 0, 0, ...name('memory'), 2, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

interface Lanes {
  readonly window: Uint8Array;
  readonly state: BigUint64Array;
  readonly stripes: (length: number) => void;
}

let lanes: Lanes | null | undefined;

function wasmLanes(): Lanes | null {
  if (lanes !== undefined) return lanes;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes() as Uint8Array<ArrayBuffer>));
    const memory = instance.exports.memory as WebAssembly.Memory;
    lanes = { window: new Uint8Array(memory.buffer, 0, WINDOW), state: new BigUint64Array(memory.buffer, STATE, 4), stripes: instance.exports.stripes as (length: number) => void };
  } catch {
    lanes = null; // no wasm here: the lanes run in BigInt
  }
  return lanes;
}

/** The four lanes over `bytes` (a multiple of 32 bytes) in BigInt: the reference, and the fallback without wasm. */
export function stripesInJs(bytes: Uint8Array, acc: bigint[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 32 <= bytes.length; at += 32) {
    for (let k = 0; k < 4; k++) acc[k] = round(acc[k]!, view.getBigUint64(at + 8 * k, true));
  }
}

/** XXH64 of `bytes` with seed 0; `inJs` forces the BigInt lanes (tests). */
export function xxhash64(bytes: Uint8Array, inJs = false): bigint {
  const n = bytes.length;
  const bulk = n - (n % 32);
  let h: bigint;
  if (n >= 32) {
    const acc = [(P1 + P2) & MASK, P2, 0n, (MASK + 1n - P1) & MASK];
    const wasm = inJs ? null : wasmLanes();
    if (wasm) {
      wasm.state.set(acc);
      for (let at = 0; at < bulk; at += WINDOW) {
        const length = Math.min(WINDOW, bulk - at);
        wasm.window.set(bytes.subarray(at, at + length));
        wasm.stripes(length);
      }
      for (let k = 0; k < 4; k++) acc[k] = wasm.state[k]!;
    } else {
      stripesInJs(bytes.subarray(0, bulk), acc);
    }
    h = (rotl(acc[0]!, 1n) + rotl(acc[1]!, 7n) + rotl(acc[2]!, 12n) + rotl(acc[3]!, 18n)) & MASK;
    for (const v of acc) h = mergeRound(h, v);
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & MASK;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = bulk;
  for (; at + 8 <= n; at += 8) h = (((rotl(h ^ round(0n, view.getBigUint64(at, true)), 27n) * P1) & MASK) + P4) & MASK;
  if (at + 4 <= n) {
    h = (((rotl(h ^ ((BigInt(view.getUint32(at, true)) * P1) & MASK), 23n) * P2) & MASK) + P3) & MASK;
    at += 4;
  }
  for (; at < n; at++) h = (rotl(h ^ ((BigInt(bytes[at]!) * P5) & MASK), 11n) * P1) & MASK;
  h ^= h >> 33n;
  h = (h * P2) & MASK;
  h ^= h >> 29n;
  h = (h * P3) & MASK;
  h ^= h >> 32n;
  return h;
}

/** The low 32 bits of XXH64: the 4-byte trailer of a format-3 RAM section. */
export function xxhash64Low32(bytes: Uint8Array): number {
  return Number(xxhash64(bytes) & 0xffffffffn);
}
