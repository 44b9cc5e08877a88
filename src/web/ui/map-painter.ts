import { GRANULES_PER_PAGE, PAGE_NEVER, PAGE_UNTAGGED } from '../protocol.js';
import type { MapGeometry } from './map-geometry.js';
import { GRANULE_PIXELS, SUMMARY_PIXELS } from './tag-palette.js';

/** What the map paints from: page summaries, and granule tags of the pages that have them. */
export interface MapData {
  readonly summaries: Uint8Array;
  readonly granules: ReadonlyMap<number, Uint8Array>;
}

/**
 * Paints cells [from, to) (units of `g`, all in view) into `pixels` (a `width`-wide RGBA image as
 * Uint32). Each row's first pixel line is written cell by cell, then copied down for the cell
 * height, so the cost is about one write per cell plus a memcpy per row.
 */
export function paintUnits(pixels: Uint32Array, width: number, g: MapGeometry, data: MapData, from: number, to: number): void {
  const { px } = g.zoom;
  const { summaries, granules } = data;
  let unit = from;
  while (unit < to) {
    const row = Math.floor(unit / g.cols);
    const rowEnd = Math.min(to, (row + 1) * g.cols);
    const line = (row - g.topRow) * px * width;
    const start = line + (unit % g.cols) * px;
    let at = start;
    if (g.zoom.unit === 'page') {
      for (; unit < rowEnd; unit++) at = put(pixels, at, px, SUMMARY_PIXELS[summaries[unit]!]!);
    } else {
      while (unit < rowEnd) {
        const page = Math.floor(unit / GRANULES_PER_PAGE);
        const pageEnd = Math.min(rowEnd, (page + 1) * GRANULES_PER_PAGE);
        const summary = summaries[page]!;
        const tags = summary & (PAGE_NEVER | PAGE_UNTAGGED) ? undefined : granules.get(page);
        if (tags === undefined) {
          pixels.fill(SUMMARY_PIXELS[summary]!, at, at + (pageEnd - unit) * px);
          at += (pageEnd - unit) * px;
          unit = pageEnd;
        } else {
          for (; unit < pageEnd; unit++) at = put(pixels, at, px, GRANULE_PIXELS[tags[unit % GRANULES_PER_PAGE]!]!);
        }
      }
    }
    for (let dy = 1; dy < px; dy++) pixels.copyWithin(start + dy * width, start, at);
  }
}

function put(pixels: Uint32Array, at: number, px: number, colour: number): number {
  for (let i = 0; i < px; i++) pixels[at + i] = colour;
  return at + px;
}
