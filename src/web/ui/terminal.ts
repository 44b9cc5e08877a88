import { h } from './dom.js';

/** Characters kept; older output is dropped from the top. */
const MAX_CHARS = 200_000;
/** An unfinished line is re-laid out on every write; past this length it continues in a new one. */
const MAX_LINE_CHARS = 4096;
/**
 * Words the browser would break inside although they are not too long: the line breaking rules
 * allow a break after a hyphen or a slash ("use-after-free"), so such a word is kept whole.
 * Longer words may break anywhere (overflow-wrap: break-word in web/style.css).
 */
const KEEP_WHOLE = /\S*[^\sA-Za-z0-9_]\S*/g;
const KEEP_WHOLE_MAX = 64;

/**
 * The guest's UART (and semihosting console, dimmed) in a <pre>, following the end of output.
 * Long lines wrap between words, never inside one that fits on a line.
 */
export class Terminal {
  readonly element: HTMLElement;
  private readonly screen: HTMLPreElement;
  private chars = 0;
  /** The last UART line while it has no newline yet, and its text. */
  private open: HTMLSpanElement | null = null;
  private openText = '';

  constructor() {
    this.screen = h('pre', { class: 'terminal', 'aria-live': 'polite', tabindex: 0 });
    this.element = h('section', { class: 'panel terminal-panel' }, h('header', {}, h('h2', { text: 'UART' })), this.screen);
  }

  write(text: string, stream: 'uart' | 'console' = 'uart'): void {
    if (text === '') return;
    const screen = this.screen;
    const follow = screen.scrollTop + screen.clientHeight >= screen.scrollHeight - 4;
    if (stream === 'uart') this.writeUart(text);
    else {
      this.open = null;
      screen.append(h('span', { class: 'console', text }));
    }
    this.chars += text.length;
    while (this.chars > MAX_CHARS && screen.firstChild) {
      if (screen.firstChild === this.open) this.open = null;
      this.chars -= screen.firstChild.textContent?.length ?? 0;
      screen.firstChild.remove();
    }
    if (follow) screen.scrollTop = screen.scrollHeight;
  }

  /** Appends UART text line by line; the unfinished last line is laid out again as it grows. */
  private writeUart(text: string): void {
    for (const piece of text.match(/[^\n]*\n|[^\n]+/g) ?? []) {
      if (this.open === null || this.open !== this.screen.lastChild || this.openText.length >= MAX_LINE_CHARS) {
        this.open = h('span', { class: 'uart-line' });
        this.openText = '';
        this.screen.append(this.open);
      }
      this.openText += piece;
      this.open.replaceChildren(...layOut(this.openText));
      if (piece.endsWith('\n')) this.open = null;
    }
  }

  /** The UART text shown (tests). */
  get text(): string {
    return [...this.screen.querySelectorAll(':scope > .uart-line')].map((line) => line.textContent).join('');
  }

  clear(): void {
    this.screen.textContent = '';
    this.chars = 0;
    this.open = null;
  }
}

/** A line's text as text nodes, with the words a browser would break kept whole. */
function layOut(line: string): Node[] {
  const nodes: Node[] = [];
  let done = 0;
  for (const word of line.matchAll(KEEP_WHOLE)) {
    if (word[0].length > KEEP_WHOLE_MAX) continue;
    if (word.index > done) nodes.push(document.createTextNode(line.slice(done, word.index)));
    nodes.push(h('span', { class: 'whole', text: word[0] }));
    done = word.index + word[0].length;
  }
  if (done < line.length) nodes.push(document.createTextNode(line.slice(done)));
  return nodes;
}
