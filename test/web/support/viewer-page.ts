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

/**
 * How the UART panel lays its text out: `broken` lists the words split over two screen lines
 * although they fit on one (a word longer than a line may break); `screenLines` and
 * `textLines` count lines on screen and in the text, so a test can see that wrapping happened.
 */
export function uartWrapping(page: Page): Promise<{ broken: string[]; screenLines: number; textLines: number }> {
  return page.evaluate(() => {
    const screen = document.querySelector('pre.terminal') as HTMLElement;
    const style = getComputedStyle(screen);
    const lineWidth = screen.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const broken: string[] = [];
    const tops = new Set<number>();
    let textLines = 0;
    for (const line of screen.querySelectorAll(':scope > .uart-line')) {
      // Every character of the line, with its text node and offset, to make a range of a word.
      const chars: [Text, number][] = [];
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode() as Text | null; node; node = walker.nextNode() as Text | null) {
        for (let i = 0; i < node.data.length; i++) chars.push([node, i]);
      }
      const text = line.textContent ?? '';
      if (text.trim() !== '') textLines++;
      for (const word of text.matchAll(/\S+/g)) {
        const range = document.createRange();
        const [startNode, startOffset] = chars[word.index]!;
        const [endNode, endOffset] = chars[word.index + word[0].length - 1]!;
        range.setStart(startNode, startOffset);
        range.setEnd(endNode, endOffset + 1);
        const rects = [...range.getClientRects()].filter((rect) => rect.width > 0);
        const lines = new Set(rects.map((rect) => Math.round(rect.top)));
        for (const top of lines) tops.add(top);
        const width = rects.reduce((sum, rect) => sum + rect.width, 0);
        if (lines.size > 1 && width <= lineWidth) broken.push(word[0]);
      }
    }
    return { broken, screenLines: tops.size, textLines };
  });
}
