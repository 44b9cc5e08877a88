import type { MigrationProgressData } from '../protocol.js';
import { h } from './dom.js';

const mib = (bytes: number | undefined) => `${((bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`;
const count = (n: number | undefined) => (n ?? 0).toLocaleString('en');

/**
 * A migration's progress in the live viewer (the monitor's MIGRATION events / query-migrate):
 * status, round, pages and tag pages sent, bytes, what remains, bandwidth, downtime. Hidden until
 * a migration has run.
 */
export class MigrationPanel {
  readonly element: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly facts: HTMLElement;
  private readonly state: HTMLElement;

  constructor() {
    this.bar = h('progress', { class: 'migration-bar', max: 1, value: 0 });
    this.facts = h('dl', { class: 'migration-facts' });
    this.state = h('span', { class: 'migration-status' });
    this.element = h('section', { class: 'panel migration-panel', hidden: true }, h('header', {}, h('h2', { text: 'Migration' }), this.state), this.bar, this.facts);
  }

  show(progress: MigrationProgressData): void {
    if (progress.status === 'none') return;
    this.element.hidden = false;
    this.element.dataset.status = progress.status;
    const total = progress['total-pages'] ?? 0;
    const sent = progress['pages-sent'] ?? 0;
    // Round 0 sends all of RAM; later rounds resend what the guest dirtied: show what is left.
    const remaining = progress['remaining-pages'] ?? total;
    this.bar.max = Math.max(1, total);
    this.bar.value = progress.status === 'completed' ? this.bar.max : (progress.round ?? 0) === 0 ? Math.min(sent, total) : Math.max(0, total - remaining);
    this.state.textContent = `${progress.status}${progress.round ? ` · round ${progress.round}` : ''}${progress.error ? `: ${progress.error}` : ''}`;
    const rows: [string, string][] = [
      ['pages sent', `${count(sent)} (RAM: ${count(total)} pages)`],
      ['tag pages sent', count(progress['tag-pages-sent'])],
      ['sent', `${mib(progress['bytes-sent'])} (data ${mib(progress['data-bytes'])}, tags ${mib(progress['tag-bytes'])})`],
      ['remaining', `${count(progress['remaining-pages'])} pages`],
      ['bandwidth', `${mib(progress['bandwidth-bytes-per-s'])}/s`],
      ['time', `${count(progress['total-ms'])} ms`],
      ['downtime', `${progress['downtime-ms'] ?? 0} ms`],
    ];
    this.facts.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { 'data-fact': k, text: v })]));
  }

  clear(): void {
    this.element.hidden = true;
  }
}
