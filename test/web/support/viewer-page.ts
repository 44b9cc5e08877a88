/**
 * What the browser tests read off a viewer page (the playground's and the live viewer's): the
 * viewer's test hook (src/web/main.ts, src/web/live.ts), its state, UART text, map cells and
 * canvas pixels.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { CellInfo } from '../../../src/web/ui/tag-map.js';
import type { Viewer } from '../../../src/web/viewer.js';

export const ROOT = join(import.meta.dirname, '../../..');
/** Where the tests leave their screenshots. */
export const SHOTS = join(ROOT, 'test-output/web');
/** demo.elf's use-after-free granule. */
export const FREED = 0x4050_0010;

/** The page's test hook. */
export type Hook = { tagvisor: { viewer: Viewer } };

/** The state attribute the viewer keeps on its root element. */
export const state = (page: Page) => page.locator('.viewer').getAttribute('data-state');
export const uartText = (page: Page) => page.evaluate(() => (globalThis as unknown as Hook).tagvisor.viewer.terminal.text);
export const cellAt = (page: Page, gpa: number): Promise<CellInfo | null> =>
  page.evaluate((a) => (globalThis as unknown as Hook).tagvisor.viewer.tagMap.cellAt(a), gpa);

/** The canvas pixel in the middle of a cell, as "#rrggbb". */
export async function pixelAt(page: Page, x: number, y: number): Promise<string> {
  return page.evaluate(([px, py]) => {
    const canvas = document.querySelector('canvas.tag-canvas') as HTMLCanvasElement;
    const [r, g, b] = canvas.getContext('2d')!.getImageData(px!, py!, 1, 1).data;
    return `#${[r, g, b].map((c) => c!.toString(16).padStart(2, '0')).join('')}`;
  }, [x, y]);
}
