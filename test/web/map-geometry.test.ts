import { describe, expect, it } from 'vitest';
import { fittingZoom, FOCUS_ZOOM, MapGeometry, regionView, ZOOMS } from '../../src/web/ui/map-geometry.js';

const GIB_PAGES = 262_144;

describe('tag map geometry', () => {
  it('fits a 1 GiB guest on a 1024x512 canvas at one pixel per page', () => {
    expect(fittingZoom(1024, 512, GIB_PAGES)).toBe(0);
    const g = new MapGeometry(ZOOMS[0]!, 1024, 512, GIB_PAGES, 0);
    expect([g.cols, g.rows, g.viewRows, g.maxTopRow]).toEqual([1024, 256, 512, 0]);
    expect(g.visiblePages()).toEqual({ first: 0, count: GIB_PAGES });
  });

  it('picks bigger cells for smaller guests', () => {
    expect(ZOOMS[fittingZoom(1024, 512, 16_384)]).toEqual({ unit: 'page', px: 4 }); // 64 MiB
    expect(ZOOMS[fittingZoom(1024, 512, 65_536)]).toEqual({ unit: 'page', px: 2 }); // 256 MiB
  });

  it('maps pixels to cells and back, granule by granule when zoomed in', () => {
    const g = new MapGeometry(ZOOMS[FOCUS_ZOOM]!, 1024, 512, GIB_PAGES, 0).centredOn(0x500010 / 16);
    expect(g.zoom).toEqual({ unit: 'granule', px: 8 });
    expect(g.cols).toBe(128); // two rows per page
    const unit = g.unitOf(0x500010);
    const cell = g.cellOf(unit)!;
    expect(cell.y).toBe(256); // the middle of the view
    expect(g.unitAt(cell.x + 7, cell.y + 7)).toBe(unit);
    expect(g.unitAt(cell.x + 8, cell.y)).toBe(unit + 1);
    expect(g.visiblePages()).toEqual({ first: 0x500 - 16, count: 32 });
  });

  it('clamps scrolling to the RAM and answers -1 / null outside it', () => {
    const g = new MapGeometry(ZOOMS[3]!, 1024, 512, 16_384, 0); // 8 px pages: 128 per row, 128 rows
    expect(g.maxTopRow).toBe(64);
    expect(g.scrolledTo(1e9).topRow).toBe(64);
    expect(g.scrolledTo(-5).topRow).toBe(0);
    expect(g.unitAt(-1, 0)).toBe(-1);
    expect(g.unitAt(1024, 0)).toBe(-1);
    expect(g.cellOf(16_384)).toBeNull();
    expect(g.cellOf(127 * 128)).toBeNull(); // below the view
  });

  it('starts on the tagged pages: the deepest zoom that shows them all, centred', () => {
    const pages = 65_536; // 256 MiB: fits at page-2, where a page is a 2-pixel speck
    const fit = fittingZoom(1024, 512, pages);
    // A few pages around the demo's heap: granules of 8 pixels, the pages in the middle.
    const near = regionView(1024, 512, pages, 0x500, 0x504, fit);
    expect(ZOOMS[near.zoomIndex]).toEqual({ unit: 'granule', px: 8 });
    const first = near.geometry.cellOf(0x500 * 256)!;
    const last = near.geometry.cellOf(0x504 * 256 - 1)!;
    expect(first.y).toBeGreaterThan(100);
    expect(512 - (last.y + 8)).toBeGreaterThan(100);
    // Pages 5 MiB apart: 8-pixel pages; all of RAM tagged: the fitting zoom.
    expect(ZOOMS[regionView(1024, 512, pages, 0x80, 0x510, fit).zoomIndex]).toEqual({ unit: 'page', px: 8 });
    expect(regionView(1024, 512, pages, 0, pages, fit).zoomIndex).toBe(fit);
  });
});
