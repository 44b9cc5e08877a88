import { GRANULE_BYTES, GRANULES_PER_PAGE, PAGE_BYTES } from '../protocol.js';

/** A zoom level of the tag map: what one cell is, and its size in canvas pixels. */
export interface Zoom {
  readonly unit: 'page' | 'granule';
  readonly px: number;
}

/** Zoomed out: a cell per page; zoomed in: a cell per 16-byte granule. */
export const ZOOMS: readonly Zoom[] = [
  { unit: 'page', px: 1 },
  { unit: 'page', px: 2 },
  { unit: 'page', px: 4 },
  { unit: 'page', px: 8 },
  { unit: 'granule', px: 2 },
  { unit: 'granule', px: 4 },
  { unit: 'granule', px: 8 },
];
/** The level a click on a fault zooms to. */
export const FOCUS_ZOOM = 6;

/**
 * Where the cells of guest RAM go on a canvas. Cells are laid out row by row in address order;
 * a row holds a power of two of cells, so row start addresses are round numbers.
 */
export class MapGeometry {
  readonly cols: number;
  readonly rows: number;
  readonly viewRows: number;
  readonly units: number;
  readonly unitBytes: number;
  readonly topRow: number;

  constructor(
    readonly zoom: Zoom,
    readonly width: number,
    readonly height: number,
    readonly pages: number,
    topRow: number,
  ) {
    this.units = zoom.unit === 'page' ? pages : pages * GRANULES_PER_PAGE;
    this.unitBytes = zoom.unit === 'page' ? PAGE_BYTES : GRANULE_BYTES;
    this.cols = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(width / zoom.px))));
    this.rows = Math.ceil(this.units / this.cols);
    this.viewRows = Math.max(1, Math.floor(height / zoom.px));
    this.topRow = clamp(Math.round(topRow), 0, this.maxTopRow);
  }

  get maxTopRow(): number {
    return Math.max(0, this.rows - this.viewRows);
  }

  /** The same view with another top row (clamped). */
  scrolledTo(topRow: number): MapGeometry {
    return new MapGeometry(this.zoom, this.width, this.height, this.pages, topRow);
  }

  /** The unit (page or granule index) at a canvas pixel, or -1 outside RAM. */
  unitAt(x: number, y: number): number {
    const col = Math.floor(x / this.zoom.px);
    const row = this.topRow + Math.floor(y / this.zoom.px);
    if (col < 0 || col >= this.cols || y < 0 || row >= this.rows) return -1;
    const unit = row * this.cols + col;
    return unit < this.units ? unit : -1;
  }

  /** The unit holding a byte offset into RAM. */
  unitOf(offset: number): number {
    return Math.floor(offset / this.unitBytes);
  }

  /** Top-left canvas pixel of a unit's cell, or null when it is not in view. */
  cellOf(unit: number): { x: number; y: number } | null {
    if (unit < 0 || unit >= this.units) return null;
    const row = Math.floor(unit / this.cols) - this.topRow;
    if (row < 0 || row >= this.viewRows) return null;
    return { x: (unit % this.cols) * this.zoom.px, y: row * this.zoom.px };
  }

  /** First and one-past-last unit in view. */
  visibleUnits(): { first: number; end: number } {
    const first = this.topRow * this.cols;
    return { first, end: Math.min(this.units, first + this.viewRows * this.cols) };
  }

  /** Pages that have a cell in view (for a granule zoom, the pages whose granules are shown). */
  visiblePages(): { first: number; count: number } {
    const { first, end } = this.visibleUnits();
    if (end <= first) return { first: 0, count: 0 };
    if (this.zoom.unit === 'page') return { first, count: end - first };
    const firstPage = Math.floor(first / GRANULES_PER_PAGE);
    return { first: firstPage, count: Math.ceil(end / GRANULES_PER_PAGE) - firstPage };
  }

  /** The top row that puts a unit in the middle of the view. */
  centredOn(unit: number): MapGeometry {
    return this.scrolledTo(Math.floor(unit / this.cols) - Math.floor(this.viewRows / 2));
  }
}

/** The first zoom at which all of RAM fits in view (or the most zoomed-out one). */
export function fittingZoom(width: number, height: number, pages: number): number {
  let best = 0;
  for (let i = 0; i < ZOOMS.length; i++) {
    const g = new MapGeometry(ZOOMS[i]!, width, height, pages, 0);
    if (g.rows <= g.viewRows) best = i;
    else break;
  }
  return best;
}

/**
 * The most zoomed-in level (not below `minimum`) at which the pages [firstPage, endPage) all fit
 * in view, with the view centred on them: how the map starts on the tagged part of a large RAM.
 */
export function regionView(width: number, height: number, pages: number, firstPage: number, endPage: number, minimum: number): { zoomIndex: number; geometry: MapGeometry } {
  for (let i = ZOOMS.length - 1; i > minimum; i--) {
    const g = new MapGeometry(ZOOMS[i]!, width, height, pages, 0);
    const perPage = g.zoom.unit === 'page' ? 1 : GRANULES_PER_PAGE;
    const firstRow = Math.floor((firstPage * perPage) / g.cols);
    const lastRow = Math.floor((endPage * perPage - 1) / g.cols);
    if (lastRow - firstRow + 1 <= g.viewRows) return { zoomIndex: i, geometry: g.scrolledTo(Math.floor((firstRow + lastRow + 1 - g.viewRows) / 2)) };
  }
  return { zoomIndex: minimum, geometry: new MapGeometry(ZOOMS[minimum]!, width, height, pages, 0) };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
