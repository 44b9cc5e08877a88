/**
 * One bit per page, read-and-reset: the shape both KVM's dirty log and pre-copy migration use.
 * Bit i of word i >>> 5 is page i (LSB first, as KVM_GET_DIRTY_LOG lays out its bitmap on a
 * little-endian host).
 */
export class DirtyBitmap {
  private words: Uint32Array;

  constructor(readonly pages: number) {
    this.words = new Uint32Array(Math.ceil(pages / 32));
  }

  mark(page: number): void {
    this.words[page >>> 5]! |= 1 << (page & 31);
  }

  markRange(firstPage: number, count: number): void {
    for (let page = firstPage, end = firstPage + count; page < end; page++) this.mark(page);
  }

  isSet(page: number): boolean {
    return (this.words[page >>> 5]! & (1 << (page & 31))) !== 0;
  }

  /** Marks every page (the first round of a migration sends everything). */
  setAll(): void {
    this.words.fill(0xffffffff);
    const spare = this.words.length * 32 - this.pages;
    if (spare > 0) this.words[this.words.length - 1] = 0xffffffff >>> spare;
  }

  clear(): void {
    this.words.fill(0);
  }

  /** Returns the current bits and clears them, atomically with respect to the caller's thread. */
  takeAndClear(): DirtyBitmap {
    const taken = new DirtyBitmap(this.pages);
    const swapped = taken.words;
    taken.words = this.words;
    this.words = swapped;
    return taken;
  }

  /** Number of set bits. */
  count(): number {
    let total = 0;
    for (const word of this.words) {
      let w = word;
      while (w !== 0) {
        w &= w - 1;
        total++;
      }
    }
    return total;
  }

  /** Calls `fn` with each set page number in ascending order. */
  forEach(fn: (page: number) => void): void {
    for (let i = 0; i < this.words.length; i++) {
      let w = this.words[i]!;
      while (w !== 0) {
        const bit = 31 - Math.clz32(w & -w);
        fn(i * 32 + bit);
        w &= w - 1;
      }
    }
  }

  /** ORs another bitmap of the same size into this one (merging data and tag logs). */
  orWith(other: DirtyBitmap): void {
    if (other.pages !== this.pages) throw new RangeError('dirty bitmaps of different sizes');
    for (let i = 0; i < this.words.length; i++) this.words[i]! |= other.words[i]!;
  }

  /** The bitmap as bytes, LSB first (the KVM_GET_DIRTY_LOG layout). */
  toBytes(): Uint8Array {
    return new Uint8Array(this.words.buffer.slice(0, Math.ceil(this.pages / 8)));
  }
}
