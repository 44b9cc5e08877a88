import { h } from './dom.js';

/** A line for errors (stay until dismissed or replaced) and warnings. */
export class Notice {
  readonly element: HTMLElement;
  private readonly text: HTMLElement;

  constructor() {
    this.text = h('span', { class: 'notice-text' });
    const close = h('button', { type: 'button', class: 'notice-close', title: 'dismiss', text: '×' });
    close.addEventListener('click', () => this.clear());
    this.element = h('div', { class: 'notice', role: 'alert', hidden: true }, this.text, close);
  }

  show(kind: 'error' | 'warning' | 'info', message: string): void {
    this.element.hidden = false;
    this.element.dataset.kind = kind;
    this.text.textContent = message;
  }

  clear(): void {
    this.element.hidden = true;
    this.text.textContent = '';
  }
}
