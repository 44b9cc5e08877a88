import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';

/**
 * AES, SHA-1 and SHA-256 instructions checked against the standards' test vectors (FIPS-197
 * appendix C.1, FIPS-180-4 "abc" examples) by running the block functions the way Linux's
 * arm64 crypto drivers do (aes-ce, sha1-ce, sha2-ce): Linux's boot self-tests run exactly these.
 */

const DATA = RAM_BASE + 0x10000;
const PROLOGUE = '.arch_extension crypto\n.arch_extension aes\n.arch_extension sha2\n';

function machine(): TestMachine {
  const m = new TestMachine();
  m.cpu.setSys(Sys.CPACR_EL1, 3 << 20, 0);
  return m;
}

function run(m: TestMachine, source: string): void {
  m.load(`${PROLOGUE}${source}\n hvc #0`);
  m.setX(0, BigInt(DATA));
  m.runToHvc(1_000_000);
}

function bytesOf(m: TestMachine, addr: number, n: number): Buffer {
  return Buffer.from(m.ram.bytes.subarray(addr - RAM_BASE, addr - RAM_BASE + n));
}

function put(m: TestMachine, addr: number, data: Uint8Array): void {
  m.ram.bytes.set(data, addr - RAM_BASE);
}

/** FIPS-197 key expansion (AES-128): the 11 round keys, in the instruction's byte order. */
function expandKey(key: Buffer): Buffer {
  const sbox = (x: number): number => {
    // The S-box again from first principles, so the test does not share the emulator's table.
    let inv = 0;
    for (let y = 1; y < 256 && x; y++) {
      let p = 0;
      let a = x;
      for (let k = 0; k < 8; k++) {
        if (y & (1 << k)) p ^= a;
        a = (a << 1) ^ (a & 0x80 ? 0x11b : 0);
      }
      if (p === 1) inv = y;
    }
    let s = inv;
    for (let k = 1; k <= 4; k++) s ^= ((inv << k) | (inv >> (8 - k))) & 0xff;
    return s ^ 0x63;
  };
  const w = Buffer.alloc(176);
  key.copy(w);
  let rcon = 1;
  for (let i = 16; i < 176; i += 4) {
    let t = [w[i - 4]!, w[i - 3]!, w[i - 2]!, w[i - 1]!];
    if (i % 16 === 0) {
      t = [sbox(t[1]!) ^ rcon, sbox(t[2]!), sbox(t[3]!), sbox(t[0]!)];
      rcon = (rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0);
    }
    for (let k = 0; k < 4; k++) w[i + k] = w[i - 16 + k]! ^ t[k]!;
  }
  return w;
}

const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** One padded block of a short message (< 56 bytes), as SHA-1 and SHA-256 pad it. */
function padBlock(msg: string): Buffer {
  const block = Buffer.alloc(64);
  block.write(msg, 'latin1');
  block[msg.length] = 0x80;
  block.writeUInt32BE(msg.length * 8, 60);
  return block;
}

function wordsLE(words: readonly number[]): Buffer {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, k) => b.writeUInt32LE(w >>> 0, k * 4));
  return b;
}

/** The digest words in v0 (and s1 for SHA-1's E) as the big-endian digest. */
function digest(m: TestMachine, regs: readonly [number, number][]): string {
  const out: Buffer[] = [];
  for (const [reg, count] of regs) {
    for (let k = 0; k < count; k++) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(m.cpu.vw[reg * 4 + k]!);
      out.push(b);
    }
  }
  return Buffer.concat(out).toString('hex');
}

describe.runIf(assemblerAvailable())('crypto extension', () => {
  it('AES-128 encrypts and decrypts the FIPS-197 C.1 vector (AESE/AESMC, AESD/AESIMC)', () => {
    const m = machine();
    const keys = expandKey(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
    put(m, DATA, keys);
    put(m, DATA + 0x100, Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
    // Encryption: rounds 1-9 AESE+AESMC, round 10 AESE, then the last key. Decryption uses the
    // equivalent inverse cipher: AESIMC applied to round keys 1-9.
    let enc = 'ld1 {v0.16b}, [x1]\n';
    for (let r = 0; r < 10; r++) enc += `ldr q1, [x0, #${16 * r}]\n aese v0.16b, v1.16b\n${r < 9 ? ' aesmc v0.16b, v0.16b\n' : ''}`;
    enc += 'ldr q1, [x0, #160]\n eor v0.16b, v0.16b, v1.16b\n st1 {v0.16b}, [x2]\n';
    let dec = 'mov v2.16b, v0.16b\n';
    for (let r = 10; r > 0; r--) {
      dec += `ldr q1, [x0, #${16 * r}]\n${r < 10 ? ' aesimc v1.16b, v1.16b\n' : ''} aesd v2.16b, v1.16b\n${r > 1 ? ' aesimc v2.16b, v2.16b\n' : ''}`;
    }
    dec += 'ldr q1, [x0]\n eor v2.16b, v2.16b, v1.16b\n st1 {v2.16b}, [x3]\n';
    run(m, `add x1, x0, #0x100\n add x2, x0, #0x200\n add x3, x0, #0x300\n${enc}${dec}`);
    expect(bytesOf(m, DATA + 0x200, 16).toString('hex')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    expect(bytesOf(m, DATA + 0x300, 16).toString('hex')).toBe('00112233445566778899aabbccddeeff');
  });

  it('SHA-256 of "abc" and of a 55-byte message (SHA256H/H2/SU0/SU1)', () => {
    for (const msg of ['abc', 'The quick brown fox jumps over the lazy dog, twice fast']) {
      const m = machine();
      put(m, DATA, wordsLE([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]));
      put(m, DATA + 0x40, padBlock(msg));
      put(m, DATA + 0x100, wordsLE(SHA256_K));
      let src = 'ld1 {v0.4s, v1.4s}, [x0]\n mov v20.16b, v0.16b\n mov v21.16b, v1.16b\n add x1, x0, #0x40\n ld1 {v4.16b-v7.16b}, [x1]\n';
      src += 'rev32 v4.16b, v4.16b\n rev32 v5.16b, v5.16b\n rev32 v6.16b, v6.16b\n rev32 v7.16b, v7.16b\n add x2, x0, #0x100\n';
      for (let q = 0; q < 16; q++) {
        const w = (k: number): string => `v${4 + ((q + k) % 4)}`;
        src += `ld1 {v16.4s}, [x2], #16\n add v16.4s, v16.4s, ${w(0)}.4s\n mov v2.16b, v0.16b\n sha256h q0, q1, v16.4s\n sha256h2 q1, q2, v16.4s\n`;
        if (q < 12) src += `sha256su0 ${w(0)}.4s, ${w(1)}.4s\n sha256su1 ${w(0)}.4s, ${w(2)}.4s, ${w(3)}.4s\n`;
      }
      src += 'add v0.4s, v0.4s, v20.4s\n add v1.4s, v1.4s, v21.4s\n';
      run(m, src);
      expect(digest(m, [[0, 4], [1, 4]])).toBe(createHash('sha256').update(msg, 'latin1').digest('hex'));
    }
    expect(createHash('sha256').update('abc').digest('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('SHA-1 of "abc" and of a 55-byte message (SHA1C/P/M/H/SU0/SU1)', () => {
    for (const msg of ['abc', 'The quick brown fox jumps over the lazy dog, twice fast']) {
      const m = machine();
      put(m, DATA, wordsLE([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]));
      put(m, DATA + 0x40, padBlock(msg));
      put(m, DATA + 0x100, wordsLE([0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6].flatMap((k) => [k, k, k, k])));
      let src = 'ld1 {v0.4s}, [x0]\n ldr s1, [x0, #16]\n mov v20.16b, v0.16b\n mov v21.16b, v1.16b\n add x1, x0, #0x40\n ld1 {v4.16b-v7.16b}, [x1]\n';
      src += 'rev32 v4.16b, v4.16b\n rev32 v5.16b, v5.16b\n rev32 v6.16b, v6.16b\n rev32 v7.16b, v7.16b\n add x2, x0, #0x100\n';
      // e alternates between s1 and s2: sha1h computes the next quad-round's e from a.
      for (let q = 0; q < 20; q++) {
        const w = (k: number): string => `v${4 + ((q + k) % 4)}`;
        const op = q < 5 ? 'c' : q < 10 || q >= 15 ? 'p' : 'm';
        const e = q % 2 ? 2 : 1;
        src += `ldr q17, [x2, #${16 * Math.floor(q / 5)}]\n add v16.4s, v17.4s, ${w(0)}.4s\n sha1h s${3 - e}, s0\n sha1${op} q0, s${e}, v16.4s\n`;
        if (q < 16) src += `sha1su0 ${w(0)}.4s, ${w(1)}.4s, ${w(2)}.4s\n sha1su1 ${w(0)}.4s, ${w(3)}.4s\n`;
      }
      src += 'add v0.4s, v0.4s, v20.4s\n add v1.4s, v1.4s, v21.4s\n';
      run(m, src);
      expect(digest(m, [[0, 4], [1, 1]])).toBe(createHash('sha1').update(msg, 'latin1').digest('hex'));
    }
    expect(createHash('sha1').update('abc').digest('hex')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  it('SHA1H zeroes the rest of the register; AESMC reads Vn, not Vd', () => {
    const m = machine();
    put(m, DATA, Buffer.from('0102030405060708090a0b0c0d0e0f10db135345f20a225c01010101c6c6c6c6', 'hex'));
    run(m, 'ldr q0, [x0]\n sha1h s1, s0\n ldr q2, [x0, #16]\n mov v3.16b, v0.16b\n aesmc v3.16b, v2.16b');
    expect(m.cpu.vw[4]).toBe(((0x04030201 << 30) | (0x04030201 >>> 2)) >>> 0);
    expect([...m.cpu.vw.subarray(5, 8)]).toEqual([0, 0, 0]);
    // FIPS-197 / the MixColumns test columns: db 13 53 45 -> 8e 4d a1 bc, f2 0a 22 5c -> 9f dc 58 9d.
    expect(Buffer.from(m.cpu.vb.subarray(48, 64)).toString('hex')).toBe('8e4da1bc9fdc589d01010101c6c6c6c6');
  });
});
