import { describe, expect, it } from 'vitest';
import { BlockEntries } from '../../src/cpu/mmu/tlb.js';

/** Keys as the TLBs store them: VA[43:12] and VA[63:44] (mmu/tlb.ts). */
const keyLo = (va: bigint): number => Number((va >> 12n) & 0xffffffffn) | 0;
const keyHi = (va: bigint): number => Number((va >> 44n) & 0xfffffn) | 0;

describe('BlockEntries: which TLBI by VA must look for entries made from blocks', () => {
  it('covers every page of a noted 2 MiB block and 1 GiB block, and nothing past either', () => {
    const blocks = new BlockEntries();
    const va = 0xffff_0000_4020_3000n; // inside the 2 MiB block at 0xffff000040200000
    blocks.note(keyLo(va), keyHi(va), 2);
    expect(blocks.mayCover(keyLo(0xffff_0000_4020_0000n), keyHi(0xffff_0000_4020_0000n))).toBe(true);
    expect(blocks.mayCover(keyLo(0xffff_0000_403f_f000n), keyHi(0xffff_0000_403f_f000n))).toBe(true);
    expect(blocks.mayCover(keyLo(0xffff_0000_4040_0000n), keyHi(0xffff_0000_4040_0000n))).toBe(false);
    expect(blocks.mayCover(keyLo(0xffff_0000_401f_f000n), keyHi(0xffff_0000_401f_f000n))).toBe(false);
    // A page mapping adds nothing.
    blocks.note(keyLo(0x4000_0000n), keyHi(0x4000_0000n), 3);
    expect(blocks.mayCover(keyLo(0x4000_0000n), keyHi(0x4000_0000n))).toBe(false);
    const gib = 0xffff_8000_8765_4000n;
    blocks.note(keyLo(gib), keyHi(gib), 1);
    expect(blocks.mayCover(keyLo(0xffff_8000_bfff_f000n), keyHi(0xffff_8000_bfff_f000n))).toBe(true);
    expect(blocks.mayCover(keyLo(0xffff_8000_c000_0000n), keyHi(0xffff_8000_c000_0000n))).toBe(false);
    // Between the two blocks: neither covers it.
    expect(blocks.mayCover(keyLo(0xffff_4000_0000_0000n), keyHi(0xffff_4000_0000_0000n))).toBe(false);
    expect(blocks.mayCover(keyLo(0xffff_0000_4040_0000n), keyHi(0xffff_0000_4040_0000n))).toBe(false);
    expect(blocks.count).toBe(2);
  });

  it('covers VA bit 47 and the high VA bits above 44 (the key nibble), and nothing after clear', () => {
    const blocks = new BlockEntries();
    const high = 0x0000_f000_0000_0000n;
    blocks.note(keyLo(high), keyHi(high), 2);
    expect(blocks.mayCover(keyLo(high + 0x1000n), keyHi(high + 0x1000n))).toBe(true);
    expect(blocks.mayCover(keyLo(0x0000_7000_0000_1000n), keyHi(0x0000_7000_0000_1000n))).toBe(false);
    blocks.clear();
    expect(blocks.mayCover(keyLo(high + 0x1000n), keyHi(high + 0x1000n))).toBe(false);
    expect(blocks.count).toBe(0);
  });
});
