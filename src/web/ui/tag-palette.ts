import { GRANULE_NONE, PAGE_MIXED, PAGE_NEVER, PAGE_TAG_MASK, PAGE_UNTAGGED } from '../protocol.js';

/** One colour per allocation tag, distinct on a dark background (tag 0 is a quiet grey). */
export const TAG_COLOURS: readonly string[] = [
  '#5b6270', '#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#42d4f4',
  '#f032e6', '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324', '#fffac8', '#800000',
];
/** Pages never used as tagged memory: darker than any tag, tag 0 included. */
export const NEVER_COLOUR = '#1f232b';
/** RAM without tags (MTE off). */
export const UNTAGGED_COLOUR = '#000000';
export const BACKGROUND_COLOUR = '#0b0d11';
/** How far a mixed page's colour moves towards white. */
const MIXED_LIGHTEN = 0.45;

function rgb(colour: string): [number, number, number] {
  const n = Number.parseInt(colour.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** RGBA as one little-endian Uint32 pixel of ImageData (0xAABBGGRR). */
function pixel([r, g, b]: readonly number[]): number {
  return ((0xff << 24) | (b! << 16) | (g! << 8) | r!) >>> 0;
}

function lighten([r, g, b]: readonly number[], amount: number): [number, number, number] {
  const up = (c: number) => Math.round(c + (255 - c) * amount);
  return [up(r!), up(g!), up(b!)];
}

/** Pixel of every page summary byte (protocol.ts) and of every granule value. */
export const SUMMARY_PIXELS = new Uint32Array(256);
export const GRANULE_PIXELS = new Uint32Array(256);
export const BACKGROUND_PIXEL = pixel(rgb(BACKGROUND_COLOUR));

for (let value = 0; value < 256; value++) {
  const tag = TAG_COLOURS[value & PAGE_TAG_MASK]!;
  if (value & PAGE_UNTAGGED) SUMMARY_PIXELS[value] = pixel(rgb(UNTAGGED_COLOUR));
  else if (value & PAGE_NEVER) SUMMARY_PIXELS[value] = pixel(rgb(NEVER_COLOUR));
  else if (value & PAGE_MIXED) SUMMARY_PIXELS[value] = pixel(lighten(rgb(tag), MIXED_LIGHTEN));
  else SUMMARY_PIXELS[value] = pixel(rgb(tag));
  GRANULE_PIXELS[value] = value === GRANULE_NONE ? pixel(rgb(NEVER_COLOUR)) : pixel(rgb(tag));
}

/** [r, g, b] of a tag (what a map cell showing that tag holds). */
export function tagRgb(tag: number): [number, number, number] {
  return rgb(TAG_COLOURS[tag & 0xf]!);
}

/** Text for a page summary byte. */
export function describeSummary(value: number): string {
  if (value & PAGE_UNTAGGED) return 'no tags (MTE off)';
  if (value & PAGE_NEVER) return 'never tagged';
  if (value & PAGE_MIXED) return `mixed tags, mostly ${value & PAGE_TAG_MASK}`;
  return `all tag ${value & PAGE_TAG_MASK}`;
}
