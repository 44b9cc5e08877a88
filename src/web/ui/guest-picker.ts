import { h } from './dom.js';

/** Largest file the page reads (the worker refuses larger ones too). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MEMORY_CHOICES = [64, 256, 1024];

export interface GuestEntry {
  readonly name: string;
  readonly file: string;
  readonly description?: string;
}

export interface GuestChoice {
  readonly name: string;
  readonly bytes: ArrayBuffer;
  readonly memoryBytes: number;
  readonly mte: boolean;
}

export interface GuestPickerOptions {
  readonly onLoad: (choice: GuestChoice) => void;
  readonly onError: (message: string) => void;
  readonly memoryMiB?: number;
  readonly mte?: boolean;
}

/**
 * The playground's guest menu (the bundled guests), RAM size and MTE switch, a file chooser,
 * and dropping an ELF file anywhere on the page.
 */
export class GuestPicker {
  readonly element: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly memory: HTMLSelectElement;
  private readonly mte: HTMLInputElement;
  private guests: GuestEntry[] = [];

  constructor(private readonly options: GuestPickerOptions) {
    this.select = h('select', { class: 'guest-menu', 'aria-label': 'guest' });
    this.memory = h('select', { class: 'guest-memory', 'aria-label': 'guest RAM' }, ...MEMORY_CHOICES.map((m) => h('option', { value: m, text: m >= 1024 ? `${m / 1024} GiB` : `${m} MiB` })));
    this.memory.value = String(options.memoryMiB ?? 256);
    this.mte = h('input', { type: 'checkbox', class: 'guest-mte', checked: options.mte ?? true });
    const run = h('button', { type: 'button', class: 'guest-run', text: 'Run' });
    run.addEventListener('click', () => void this.runSelected());
    const file = h('input', { type: 'file', class: 'guest-file', accept: '.elf,application/x-elf,application/octet-stream' });
    file.addEventListener('change', () => {
      if (file.files?.[0]) void this.runFile(file.files[0]);
      file.value = '';
    });
    const open = h('label', { class: 'button file-button', title: 'run your own AArch64 ELF (or drop it on the page)' }, 'Open ELF…', file);
    this.element = h('div', { class: 'guest-picker' }, this.select, this.memory, h('label', { class: 'mte-switch' }, this.mte, 'MTE'), run, open);
    this.acceptDrops();
  }

  /** Fills the menu from the bundle's guest list. */
  async loadManifest(url: string, selected?: string): Promise<void> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`guest list: HTTP ${response.status}`);
    this.guests = (await response.json()) as GuestEntry[];
    this.select.replaceChildren(...this.guests.map((g) => h('option', { value: g.name, title: g.description ?? '', text: g.description ? `${g.name} — ${g.description}` : g.name })));
    const wanted = this.guests.find((g) => g.name === selected) ?? this.guests.find((g) => g.name === 'demo');
    if (wanted) this.select.value = wanted.name;
  }

  async runSelected(): Promise<void> {
    const guest = this.guests.find((g) => g.name === this.select.value);
    if (!guest) return this.options.onError('no guest selected');
    try {
      const response = await fetch(new URL(`guests/${guest.file}`, document.baseURI));
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.emit(guest.name, await response.arrayBuffer());
    } catch (error) {
      this.options.onError(`could not fetch ${guest.file}: ${(error as Error).message}`);
    }
  }

  async runFile(file: File): Promise<void> {
    if (file.size > MAX_FILE_BYTES) return this.options.onError(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB: guest images larger than ${MAX_FILE_BYTES / 2 ** 20} MiB are not accepted`);
    if (file.size === 0) return this.options.onError(`${file.name} is empty`);
    try {
      this.emit(file.name, await file.arrayBuffer());
    } catch (error) {
      this.options.onError(`could not read ${file.name}: ${(error as Error).message}`);
    }
  }

  private emit(name: string, bytes: ArrayBuffer): void {
    this.options.onLoad({ name, bytes, memoryBytes: Number(this.memory.value) * 1024 * 1024, mte: this.mte.checked });
  }

  private acceptDrops(): void {
    const body = document.body;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    document.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      body.classList.add('dropping');
    });
    document.addEventListener('dragleave', (event) => {
      if (event.relatedTarget === null) body.classList.remove('dropping');
    });
    document.addEventListener('drop', (event) => {
      body.classList.remove('dropping');
      if (!hasFiles(event)) return;
      event.preventDefault();
      const files = event.dataTransfer!.files;
      if (files.length !== 1) return this.options.onError('drop one ELF file at a time');
      void this.runFile(files[0]!);
    });
  }
}
