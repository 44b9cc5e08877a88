import { describe, expect, it } from 'vitest';
import { PhysicalAddressSpace } from '../../src/memory/index.js';
import { translate, type TranslationRegime, type WalkResult } from '../../src/cpu/mmu/translate.js';

/**
 * Stage-1 walks of upper-half (TTBR1) and lower-half addresses under 1 GiB blocks, 2 MiB blocks
 * and 4 KiB pages, with 39-bit (3-level) and 48-bit (4-level) VA spaces. The page offset inside a
 * block must come from the VA's low bits exactly: a 64-bit VA formed as a float loses them
 * (0xffff800009668fdc once translated to 0x41869000 instead of 0x41868000).
 */
const RAM = 0x4000_0000;
const RAM_SIZE = 0x100_0000; // 16 MiB: tables at the start, targets anywhere below 4 GiB
const TABLES = RAM;

function makeSpace(): { space: PhysicalAddressSpace; write64: (pa: number, value: bigint) => void } {
  const space = new PhysicalAddressSpace();
  const region = space.addRam(RAM, RAM_SIZE);
  const write64 = (pa: number, value: bigint): void => region.view.setBigUint64(pa - RAM, value, true);
  return { space, write64 };
}

const AF = 1n << 10n;
const TABLE = 3n;
const BLOCK = 1n;
const PAGE = 3n;

function regime(t0sz: number, t1sz: number, ttbr0: number, ttbr1: number): TranslationRegime {
  // TG1 = 0b10 (4 KiB), IPS = 0b101 (48 bits), MAIR attr 0 = Normal WB.
  const tcrLo = (t0sz & 0x3f) | ((t1sz & 0x3f) << 16) | (2 << 30);
  return { mmuOn: true, tcrLo, tcrHi: 5, ttbr0Lo: ttbr0, ttbr0Hi: 0, ttbr1Lo: ttbr1, ttbr1Hi: 0, mairLo: 0xff, mairHi: 0, wxn: false };
}

function walk(r: TranslationRegime, space: PhysicalAddressSpace, va: bigint): WalkResult {
  const out: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };
  const lo = Number(va & 0xffff_ffffn) | 0;
  const hi = Number((va >> 32n) & 0xffff_ffffn) | 0;
  const fsc = translate(r, space, lo, hi, false, out);
  expect(fsc, `walk of 0x${va.toString(16)}`).toBe(-1);
  return out;
}

/** Index of `va` at `level` (0..3) of a 4 KiB-granule walk. */
const index = (va: bigint, level: number): bigint => (va >> BigInt(12 + 9 * (3 - level))) & 0x1ffn;

describe('stage-1 walk: exact addresses in both halves', () => {
  const cases: { name: string; vaBits: 39 | 48; upper: boolean; va: bigint }[] = [];
  for (const vaBits of [39, 48] as const) {
    for (const upper of [true, false]) {
      const base = upper ? (vaBits === 48 ? 0xffff_8000_0000_0000n : 0xffff_ff80_0000_0000n) : 0n;
      cases.push({ name: `${vaBits}-bit ${upper ? 'TTBR1' : 'TTBR0'}`, vaBits, upper, va: base + 0x9668fdcn + (upper ? 0x12_3456_7000n & ((1n << BigInt(vaBits - 1)) - 1n) : 0n) });
    }
  }

  for (const c of cases) {
    it(`${c.name}: 1 GiB block, 2 MiB block and 4 KiB page give the VA's own offset`, () => {
      const { space, write64 } = makeSpace();
      const levels = c.vaBits === 48 ? 4 : 3;
      const start = 4 - levels;
      // Tables: one page per level. The leaf level of each mapping kind differs.
      const tbl = (n: number): number => TABLES + n * 0x1000;
      const root = tbl(0);
      const r = regime(64 - c.vaBits, 64 - c.vaBits, root, root);
      const blockPa = { 1: 0xc000_0000n, 2: 0x7fe0_0000n, 3: 0x4080_0000n } as const;

      for (const leafLevel of [1, 2, 3] as const) {
        // A VA distinct per leaf level: vary bits [38:30] so the level-1 entries differ.
        const va = c.va + (BigInt(leafLevel) << 30n);
        let table = root;
        let next = 1 + leafLevel * 4;
        for (let level = start; level < leafLevel; level++) {
          const child = tbl(next++);
          write64(table + Number(index(va, level)) * 8, BigInt(child) | TABLE);
          table = child;
        }
        const leaf = leafLevel === 3 ? PAGE : BLOCK;
        write64(table + Number(index(va, leafLevel)) * 8, blockPa[leafLevel] | AF | leaf);
        const blockSize = 1n << BigInt(12 + 9 * (3 - leafLevel));
        const expected = blockPa[leafLevel] + ((va & (blockSize - 1n)) & ~0xfffn);
        const out = walk(r, space, va);
        expect(out.level).toBe(leafLevel);
        expect(out.pagePa.toString(16)).toBe(expected.toString(16));
      }
    });
  }

  it('the kernel address that once fetched the wrong page (2 MiB block under TTBR1, 48-bit VAs)', () => {
    const { space, write64 } = makeSpace();
    const va = 0xffff_8000_0966_8fdcn;
    const r = regime(16, 16, TABLES, TABLES);
    write64(TABLES + Number(index(va, 0)) * 8, BigInt(TABLES + 0x1000) | TABLE);
    write64(TABLES + 0x1000 + Number(index(va, 1)) * 8, BigInt(TABLES + 0x2000) | TABLE);
    write64(TABLES + 0x2000 + Number(index(va, 2)) * 8, 0x4180_0000n | AF | BLOCK);
    expect(walk(r, space, va).pagePa.toString(16)).toBe('41868000');
  });
});
