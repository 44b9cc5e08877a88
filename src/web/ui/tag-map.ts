import { GRANULES_PER_PAGE, PAGE_NEVER, PAGE_UNTAGGED, type HostMessageOf } from '../protocol.js';
import { h, hex } from './dom.js';
import { fittingZoom, FOCUS_ZOOM, MapGeometry, regionView, ZOOMS } from './map-geometry.js';
import { paintUnits, type MapData } from './map-painter.js';
import { BACKGROUND_PIXEL, describeSummary } from './tag-palette.js';
import { attachMapInput } from './map-input.js';
import { mapLegend } from './map-legend.js';

const WIDTH = 1024;
const HEIGHT = 512;

export interface TagMapOptions {
  /** The map shows granules of these pages (count 0: none); the host should send their tags. */
  readonly onGranuleWindow: (firstPage: number, pageCount: number) => void;
}

/** What the map shows for one granule (the test hook and the info line). */
export interface CellInfo {
  readonly gpa: number;
  /** Canvas pixel of the cell's top-left corner and its size, when in view. */
  readonly x: number;
  readonly y: number;
  readonly px: number;
  /** The granule's tag as the map knows it, or null (never tagged, no tags, not yet received). */
  readonly tag: number | null;
  readonly page: string;
}

/**
 * The tag map of guest RAM on a canvas: a cell per page zoomed out, a cell per granule zoomed
 * in, coloured by tag (tag-palette.ts). Updates repaint only the cells of changed pages; a
 * scroll or zoom repaints the view (mouse: map-input.ts).
 */
export class TagMap {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private readonly image: ImageData;
  private readonly pixels: Uint32Array;
  private readonly info: HTMLElement;
  private readonly range: HTMLElement;
  private readonly marker: HTMLElement;
  private ramBase = 0;
  private summaries = new Uint8Array(0);
  private readonly granules = new Map<number, Uint8Array>();
  private geometry: MapGeometry;
  private zoomIndex = 0;
  private dirtyTop = Infinity;
  private dirtyBottom = -Infinity;
  private fullRepaint = true;
  private frame = 0;
  private selected: number | null = null;
  private window = { first: 0, count: 0 };
  /**
   * Until the user zooms, scrolls, selects or goes somewhere, the view follows the tagged pages
   * [first, end): zoomed in as far as they all fit (at the fitting zoom of 256 MiB they are specks).
   */
  private following = true;
  private tagged = { first: Infinity, end: -Infinity };
  /** Time spent painting frames and applying updates (cells of changed pages), for benchmarks. */
  readonly stats = { frames: 0, paintMs: 0, maxPaintMs: 0, updates: 0, updateMs: 0 };

  constructor(private readonly options: TagMapOptions) {
    this.canvas = h('canvas', { width: WIDTH, height: HEIGHT, class: 'tag-canvas', 'aria-label': 'tag map of guest RAM' });
    this.context = this.canvas.getContext('2d', { alpha: false })!;
    this.image = this.context.createImageData(WIDTH, HEIGHT);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.marker = h('div', { class: 'tag-marker', hidden: true });
    this.info = h('div', { class: 'map-info', text: 'no guest loaded' });
    this.range = h('span', { class: 'map-range' });
    const goto = h('input', { class: 'map-goto', placeholder: 'go to 0x…', spellcheck: 'false', 'aria-label': 'go to address' });
    goto.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      const gpa = Number.parseInt(goto.value.trim().replace(/^0x/i, ''), 16);
      if (Number.isFinite(gpa)) this.centreOn(gpa);
    });
    const button = (text: string, title: string, action: () => void) => {
      const b = h('button', { type: 'button', title, text });
      b.addEventListener('click', action);
      return b;
    };
    this.element = h(
      'section',
      { class: 'panel tag-map', 'data-zoom': '' },
      h('header', {}, h('h2', { text: 'Tag map' }), this.range,
        h('span', { class: 'map-tools' }, button('−', 'zoom out', () => this.zoomBy(-1)), button('+', 'zoom in', () => this.zoomBy(1)), button('fit', 'show all RAM', () => this.fit()), goto)),
      h('div', { class: 'canvas-box' }, this.canvas, this.marker),
      this.info,
      mapLegend(),
    );
    this.geometry = new MapGeometry(ZOOMS[0]!, WIDTH, HEIGHT, 0, 0);
    attachMapInput({
      canvas: this.canvas,
      geometry: () => this.geometry,
      scrollTo: (topRow) => {
        this.following = false;
        this.setGeometry(this.geometry.scrolledTo(topRow));
      },
      zoomBy: (step, unit) => this.zoomBy(step, unit),
      hover: (unit) => {
        if (unit >= 0 && this.selected === null) this.describe(unit * this.geometry.unitBytes);
      },
      select: (unit) => {
        this.following = false;
        this.selected = unit >= 0 ? unit * this.geometry.unitBytes : null;
        if (this.selected !== null) this.describe(this.selected);
        this.placeMarker();
      },
    });
    this.schedule();
  }

  /** A new machine: RAM at `ramBase`, `pages` pages, all unknown until the host reports. */
  reset(ramBase: number, pages: number): void {
    this.ramBase = ramBase;
    this.summaries = new Uint8Array(pages).fill(PAGE_NEVER);
    this.granules.clear();
    this.selected = null;
    this.following = true;
    this.tagged = { first: Infinity, end: -Infinity };
    this.zoomIndex = fittingZoom(WIDTH, HEIGHT, pages);
    this.setGeometry(new MapGeometry(ZOOMS[this.zoomIndex]!, WIDTH, HEIGHT, pages, 0));
    this.info.textContent = `${hex(ramBase)}: ${pages} pages of RAM`;
  }

  applyPages(message: HostMessageOf<'page-tags'>): void {
    const start = performance.now();
    const { pages, values } = message;
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i]!;
      if (page >= this.summaries.length) continue;
      this.summaries[page] = values[i]!;
      if (message.full) continue;
      if (values[i]! & (PAGE_NEVER | PAGE_UNTAGGED)) this.granules.delete(page);
      this.paintPage(page);
    }
    if (message.full) this.repaint();
    if (this.following) this.followTagged(message);
    this.refreshSelection(message.full ? null : message.pages);
    this.counted(start);
  }

  applyGranules(message: HostMessageOf<'granule-tags'>): void {
    const start = performance.now();
    const { first, count } = this.window;
    message.pages.forEach((page, i) => {
      if (page < first || page >= first + count) return;
      this.granules.set(page, message.tags.slice(i * GRANULES_PER_PAGE, (i + 1) * GRANULES_PER_PAGE));
      this.paintPage(page);
    });
    this.refreshSelection(message.pages);
    this.counted(start);
  }

  private counted(start: number): void {
    this.stats.updates++;
    this.stats.updateMs += performance.now() - start;
  }

  /** Zooms to the tagged pages when this update widened their span. */
  private followTagged(message: HostMessageOf<'page-tags'>): void {
    let { first, end } = message.full ? { first: Infinity, end: -Infinity } : this.tagged;
    const isTagged = (value: number) => (value & (PAGE_NEVER | PAGE_UNTAGGED)) === 0;
    const pages = message.full ? this.summaries.keys() : message.pages;
    for (const page of pages) {
      if (page >= this.summaries.length || !isTagged(this.summaries[page]!)) continue;
      first = Math.min(first, page);
      end = Math.max(end, page + 1);
    }
    if (end <= first || (first === this.tagged.first && end === this.tagged.end)) return;
    this.tagged = { first, end };
    const view = regionView(WIDTH, HEIGHT, this.summaries.length, first, end, fittingZoom(WIDTH, HEIGHT, this.summaries.length));
    this.zoomIndex = view.zoomIndex;
    this.setGeometry(view.geometry);
  }

  /** Keeps the info line of the selected granule current when its page changed (null: any page). */
  private refreshSelection(pages: Uint32Array | null): void {
    if (this.selected === null) return;
    const page = Math.floor(this.selected / 4096);
    if (pages === null || pages.includes(page)) this.describe(this.selected);
  }

  /** Zooms in on the granule holding `gpa`, centres it and marks it. */
  centreOn(gpa: number): void {
    const offset = gpa - this.ramBase;
    if (offset < 0 || offset >= this.summaries.length * 4096) {
      this.info.textContent = `${hex(gpa)} is not guest RAM`;
      return;
    }
    this.selected = offset;
    this.following = false;
    this.zoomIndex = Math.max(this.zoomIndex, FOCUS_ZOOM);
    const geometry = new MapGeometry(ZOOMS[this.zoomIndex]!, WIDTH, HEIGHT, this.summaries.length, 0);
    this.setGeometry(geometry.centredOn(geometry.unitOf(offset)));
    this.describe(offset);
  }

  /** What the map shows for the granule holding `gpa` (the browser tests' hook). */
  cellAt(gpa: number): CellInfo | null {
    const offset = gpa - this.ramBase;
    if (offset < 0 || offset >= this.summaries.length * 4096) return null;
    const page = Math.floor(offset / 4096);
    const summary = this.summaries[page]!;
    const granules = this.granules.get(page);
    const known = (summary & (PAGE_NEVER | PAGE_UNTAGGED)) === 0;
    const tag = !known ? null : granules ? granules[(offset >>> 4) & 0xff]! : (summary & 0x10) === 0 ? summary & 0xf : null;
    const cell = this.geometry.cellOf(this.geometry.unitOf(offset));
    return { gpa, x: cell?.x ?? -1, y: cell?.y ?? -1, px: this.geometry.zoom.px, tag, page: describeSummary(summary) };
  }

  private zoomBy(step: number, anchorUnit = -1): void {
    const next = Math.min(Math.max(this.zoomIndex + step, 0), ZOOMS.length - 1);
    this.following = false;
    if (next === this.zoomIndex) return;
    const { first, end } = this.geometry.visibleUnits();
    const anchor = (anchorUnit >= 0 ? anchorUnit : Math.floor((first + end) / 2)) * this.geometry.unitBytes;
    const focus = this.selected ?? anchor;
    this.zoomIndex = next;
    const geometry = new MapGeometry(ZOOMS[next]!, WIDTH, HEIGHT, this.summaries.length, 0);
    this.setGeometry(geometry.centredOn(geometry.unitOf(focus)));
  }

  private fit(): void {
    this.following = false;
    this.zoomIndex = fittingZoom(WIDTH, HEIGHT, this.summaries.length);
    this.setGeometry(new MapGeometry(ZOOMS[this.zoomIndex]!, WIDTH, HEIGHT, this.summaries.length, 0));
  }

  private setGeometry(geometry: MapGeometry): void {
    this.geometry = geometry;
    this.element.dataset.zoom = `${geometry.zoom.unit}-${geometry.zoom.px}`;
    this.element.dataset.topRow = String(geometry.topRow);
    const { first, end } = geometry.visibleUnits();
    this.range.textContent = end > first ? `${hex(this.ramBase + first * geometry.unitBytes)} – ${hex(this.ramBase + end * geometry.unitBytes - 1)}` : '';
    const pages = geometry.zoom.unit === 'granule' ? geometry.visiblePages() : { first: 0, count: 0 };
    if (pages.first !== this.window.first || pages.count !== this.window.count) {
      this.window = pages;
      for (const page of [...this.granules.keys()]) if (page < pages.first || page >= pages.first + pages.count) this.granules.delete(page);
      this.options.onGranuleWindow(pages.first, pages.count);
    }
    this.repaint();
  }

  private describe(offset: number): void {
    const cell = this.cellAt(this.ramBase + offset);
    if (!cell) return;
    const granule = this.ramBase + offset - (offset % 16);
    const tag = cell.tag === null ? '' : `granule ${hex(granule)}: tag ${cell.tag}; `;
    this.info.textContent = `${tag}page ${hex(this.ramBase + offset - (offset % 4096))}: ${cell.page}`;
    this.element.dataset.highlight = this.selected === null ? '' : hex(this.ramBase + this.selected);
  }

  private placeMarker(): void {
    const cell = this.selected === null ? null : this.geometry.cellOf(this.geometry.unitOf(this.selected));
    this.marker.hidden = cell === null;
    if (!cell) return;
    const px = this.geometry.zoom.px;
    Object.assign(this.marker.style, {
      left: `${(cell.x / WIDTH) * 100}%`,
      top: `${(cell.y / HEIGHT) * 100}%`,
      width: `${(px / WIDTH) * 100}%`,
      height: `${(px / HEIGHT) * 100}%`,
    });
  }

  private repaint(): void {
    this.fullRepaint = true;
    this.schedule();
  }

  /** Repaints the cells of one page if they are in view. */
  private paintPage(page: number): void {
    const g = this.geometry;
    const perPage = g.zoom.unit === 'page' ? 1 : GRANULES_PER_PAGE;
    const { first, end } = g.visibleUnits();
    const from = Math.max(page * perPage, first);
    const to = Math.min((page + 1) * perPage, end);
    if (from >= to || this.fullRepaint) return;
    paintUnits(this.pixels, WIDTH, g, this.data(), from, to);
    const top = (Math.floor(from / g.cols) - g.topRow) * g.zoom.px;
    const bottom = (Math.floor((to - 1) / g.cols) - g.topRow + 1) * g.zoom.px;
    this.dirtyTop = Math.min(this.dirtyTop, top);
    this.dirtyBottom = Math.max(this.dirtyBottom, bottom);
    this.schedule();
  }

  private data(): MapData {
    return { summaries: this.summaries, granules: this.granules };
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const start = performance.now();
      this.paint();
      const ms = performance.now() - start;
      this.stats.frames++;
      this.stats.paintMs += ms;
      this.stats.maxPaintMs = Math.max(this.stats.maxPaintMs, ms);
    });
  }

  private paint(): void {
    if (this.fullRepaint) {
      this.fullRepaint = false;
      this.pixels.fill(BACKGROUND_PIXEL);
      const { first, end } = this.geometry.visibleUnits();
      paintUnits(this.pixels, WIDTH, this.geometry, this.data(), first, end);
      this.context.putImageData(this.image, 0, 0);
      this.placeMarker();
    } else if (this.dirtyBottom > this.dirtyTop) {
      const top = Math.max(0, this.dirtyTop);
      this.context.putImageData(this.image, 0, 0, 0, top, WIDTH, Math.min(HEIGHT, this.dirtyBottom) - top);
    }
    this.dirtyTop = Infinity;
    this.dirtyBottom = -Infinity;
  }
}
