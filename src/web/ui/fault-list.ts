import type { FaultRecord } from '../protocol.js';
import { h, hex, shortHex } from './dom.js';
import { TAG_COLOURS } from './tag-palette.js';

/** Rows kept (newest first). */
const MAX_ROWS = 500;

const chip = (tag: number) => h('span', { class: 'chip', style: `--c: ${TAG_COLOURS[tag & 0xf]}`, text: tag.toString(16) });

/** Tag-check faults as they arrive; clicking one calls `onSelect` (the map centres on it). */
export class FaultList {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly summary: HTMLElement;
  private total = 0;
  private unlisted = 0;

  constructor(private readonly onSelect: (fault: FaultRecord) => void) {
    this.body = h('tbody');
    this.summary = h('span', { class: 'fault-count' });
    const head = h('tr', {}, ...['#', 'PC', 'address (pointer)', 'PA', 'ptr tag', 'mem tag', 'size', 'access', 'mode', 'EL'].map((t) => h('th', { text: t })));
    this.element = h(
      'section',
      { class: 'panel fault-list' },
      h('header', {}, h('h2', { text: 'Tag-check faults' }), this.summary),
      h('div', { class: 'table-box' }, h('table', {}, h('thead', {}, head), this.body)),
    );
    this.body.addEventListener('click', (event) => {
      const row = (event.target as Element).closest('tr');
      const fault = row ? faultsByRow.get(row) : undefined;
      if (!fault) return;
      for (const selected of this.body.querySelectorAll('tr.selected')) selected.classList.remove('selected');
      row!.classList.add('selected');
      this.onSelect(fault);
    });
    this.render();
  }

  add(faults: readonly FaultRecord[], suppressed: number): void {
    this.total += faults.length + suppressed;
    this.unlisted += suppressed;
    for (const fault of faults) {
      const row = h(
        'tr',
        { 'data-seq': fault.seq, 'data-pa': fault.pa ?? '', 'data-logical-tag': fault.logicalTag, 'data-allocation-tag': fault.allocationTag, title: 'show this granule in the tag map' },
        h('td', { text: fault.seq }),
        h('td', { text: shortHex(fault.pc) }),
        h('td', { text: shortHex(fault.addr) }),
        h('td', { text: fault.pa === null ? 'unmapped' : hex(fault.pa) }),
        h('td', {}, chip(fault.logicalTag)),
        h('td', {}, chip(fault.allocationTag)),
        h('td', { text: fault.size }),
        h('td', { text: fault.write ? 'write' : 'read' }),
        h('td', { text: fault.sync ? 'sync' : 'async' }),
        h('td', { text: fault.el }),
      );
      faultsByRow.set(row, fault);
      this.body.prepend(row);
    }
    while (this.body.rows.length > MAX_ROWS) this.body.lastElementChild!.remove();
    this.render();
  }

  clear(): void {
    this.body.textContent = '';
    this.total = this.unlisted = 0;
    this.render();
  }

  private render(): void {
    const shown = this.total - this.unlisted;
    this.summary.textContent = this.total === 0 ? 'none yet' : `${this.total}${this.unlisted > 0 ? ` (${shown} listed, the rest over the rate limit)` : ''}`;
  }
}

const faultsByRow = new WeakMap<Element, FaultRecord>();
