import type { DirtyBitmap } from '../../memory/index.js';

/** Dirty bitmaps of all RAM regions, addressed by guest physical address. */
export class DirtyBitmapSet {
  constructor(private readonly regions: { base: number; bitmap: DirtyBitmap }[]) {}

  forEachPage(fn: (gpa: number) => void): void {
    for (const { base, bitmap } of this.regions) bitmap.forEach((page) => fn(base + page * 4096));
  }

  has(gpa: number): boolean {
    return this.regions.some(({ base, bitmap }) => gpa >= base && gpa < base + bitmap.pages * 4096 && bitmap.isSet((gpa - base) / 4096));
  }

  count(): number {
    return this.regions.reduce((sum, { bitmap }) => sum + bitmap.count(), 0);
  }

  orWith(other: DirtyBitmapSet): void {
    this.regions.forEach((r, i) => r.bitmap.orWith(other.regions[i]!.bitmap));
  }
}
