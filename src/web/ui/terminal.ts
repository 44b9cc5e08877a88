import { h } from './dom.js';

/** Characters kept; older output is dropped from the top. */
const MAX_CHARS = 200_000;

/** The guest's UART (and semihosting console, dimmed) in a <pre>, following the end of output. */
export class Terminal {
  readonly element: HTMLElement;
  private readonly screen: HTMLPreElement;
  private chars = 0;

  constructor() {
    this.screen = h('pre', { class: 'terminal', 'aria-live': 'polite', tabindex: 0 });
    this.element = h('section', { class: 'panel terminal-panel' }, h('header', {}, h('h2', { text: 'UART' })), this.screen);
  }

  write(text: string, stream: 'uart' | 'console' = 'uart'): void {
    if (text === '') return;
    const screen = this.screen;
    const follow = screen.scrollTop + screen.clientHeight >= screen.scrollHeight - 4;
    const last = screen.lastChild;
    if (stream === 'uart' && last instanceof Text) last.appendData(text);
    else screen.append(stream === 'uart' ? document.createTextNode(text) : h('span', { class: 'console', text }));
    this.chars += text.length;
    while (this.chars > MAX_CHARS && screen.firstChild) {
      this.chars -= screen.firstChild.textContent?.length ?? 0;
      screen.firstChild.remove();
    }
    if (follow) screen.scrollTop = screen.scrollHeight;
  }

  /** The UART text shown (tests). */
  get text(): string {
    return [...this.screen.childNodes].filter((node) => node instanceof Text).map((node) => node.textContent).join('');
  }

  clear(): void {
    this.screen.textContent = '';
    this.chars = 0;
  }
}
