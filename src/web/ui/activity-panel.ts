import { ACTIVITY_CLASS_NAMES, type ActivitySample } from '../protocol.js';
import { h } from './dom.js';

/** Colours of the access classes in the timeline (not tag colours). */
export const CLASS_COLOURS: Readonly<Record<(typeof ACTIVITY_CLASS_NAMES)[number], string>> = {
  guest: '#7ee787',
  dma: '#4f8cff',
  debug: '#ffc861',
  migration: '#f778ba',
};
/** Samples the timeline keeps (a few per second: about half a minute). */
const SAMPLES = 120;
const WIDTH = 360;
const HEIGHT = 96;

const rate = (count: number, ms: number) => (ms > 0 ? (count * 1000) / ms : 0);
const compact = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : n >= 100 ? n.toFixed(0) : n.toFixed(n === Math.round(n) ? 0 : 1));

/**
 * Memory activity of the live viewer (`activity` messages): page-writes of data and of tags and
 * page reads per access class, as rates and totals, and a short timeline (data above, tags
 * below, stacked by class). What each class counts: src/memory/activity.ts.
 */
export class ActivityPanel {
  readonly element: HTMLElement;
  /** Totals since this viewer connected, per class: [data, tags, reads]. */
  readonly totals = ACTIVITY_CLASS_NAMES.map(() => [0, 0, 0]);
  private readonly samples: ActivitySample[] = [];
  private readonly cells: HTMLElement[][];
  private readonly summary: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private frame = 0;

  constructor() {
    this.cells = ACTIVITY_CLASS_NAMES.map(() => [0, 1, 2, 3, 4, 5].map(() => h('td')));
    const rows = ACTIVITY_CLASS_NAMES.map((name, i) =>
      h('tr', { 'data-class': name }, h('th', {}, h('span', { class: 'swatch', style: `--c: ${CLASS_COLOURS[name]}` }, name)), ...this.cells[i]!),
    );
    const head = h('tr', {}, h('th', { text: 'class' }), ...['data /s', 'tags /s', 'reads /s', 'data', 'tags', 'reads'].map((t) => h('th', { text: t })));
    this.summary = h('span', { class: 'activity-summary' });
    this.canvas = h('canvas', { class: 'activity-timeline', width: WIDTH, height: HEIGHT, 'aria-label': 'memory activity timeline' });
    this.element = h(
      'section',
      { class: 'panel activity-panel', hidden: true },
      h('header', {}, h('h2', { text: 'Memory activity' }), this.summary),
      h('table', { class: 'activity-table', title: 'page-writes (a write touching n pages counts n) and page reads, per access class' }, h('thead', {}, head), h('tbody', {}, ...rows)),
      this.canvas,
      h('div', { class: 'activity-note', text: 'timeline: data page-writes above, tag page-writes below; guest data counts slow-path stores only (docs/web.md)' }),
    );
  }

  add(sample: ActivitySample): void {
    this.element.hidden = false;
    this.samples.push(sample);
    if (this.samples.length > SAMPLES) this.samples.shift();
    ACTIVITY_CLASS_NAMES.forEach((_, i) => {
      const values = [sample.data[i] ?? 0, sample.tags[i] ?? 0, sample.reads[i] ?? 0];
      values.forEach((v, k) => (this.totals[i]![k]! += v));
      const cells = this.cells[i]!;
      values.forEach((v, k) => (cells[k]!.textContent = compact(rate(v, sample.intervalMs))));
      this.totals[i]!.forEach((v, k) => (cells[3 + k]!.textContent = compact(v)));
    });
    this.summary.textContent = `${sample.taggedPages.toLocaleString('en')} pages tagged · ${sample.tagChangedPages.toLocaleString('en')} changed in the last ${sample.intervalMs} ms`;
    this.element.dataset.taggedPages = String(sample.taggedPages);
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.draw());
  }

  clear(): void {
    this.samples.length = 0;
    for (const row of this.totals) row.fill(0);
    this.element.hidden = true;
  }

  private draw(): void {
    this.frame = 0;
    const context = this.canvas.getContext('2d');
    if (!context) return;
    context.fillStyle = '#05070a';
    context.fillRect(0, 0, WIDTH, HEIGHT);
    const half = HEIGHT / 2 - 1;
    const bar = WIDTH / SAMPLES;
    for (const [key, top] of [['data', 0], ['tags', HEIGHT / 2 + 1]] as const) {
      const stacks = this.samples.map((s) => s[key].map((n) => rate(n, s.intervalMs)));
      const peak = Math.max(1, ...stacks.map((stack) => stack.reduce((a, b) => a + b, 0)));
      stacks.forEach((stack, index) => {
        const x = WIDTH - (this.samples.length - index) * bar;
        let y = top + half;
        stack.forEach((value, i) => {
          const height = (value / peak) * half;
          if (height <= 0) return;
          context.fillStyle = CLASS_COLOURS[ACTIVITY_CLASS_NAMES[i]!];
          context.fillRect(x, y - height, Math.max(1, bar - 0.5), height);
          y -= height;
        });
      });
      context.fillStyle = '#8a93a3';
      context.font = '10px ui-monospace, monospace';
      context.fillText(`${key} ≤ ${compact(peak)}/s`, 4, top + 11);
    }
    context.fillStyle = '#262b34';
    context.fillRect(0, HEIGHT / 2, WIDTH, 1);
  }
}
