import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MachineHost } from '../../src/web/host/machine-host.js';
import type { HostCommand, HostMessage, HostMessageOf, HostMessageType, LoadCommand } from '../../src/web/protocol.js';

export const GUESTS = join(import.meta.dirname, '../../guests/build');

export function guestBytes(name: string): ArrayBuffer {
  const bytes = readFileSync(join(GUESTS, `${name}.elf`));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A MachineHost driven synchronously, recording every message it posts. */
export class HostProbe {
  readonly messages: HostMessage[] = [];
  woken = 0;
  readonly host = new MachineHost({ post: (m) => this.messages.push(m), wake: () => this.woken++ });

  send(command: HostCommand): this {
    this.host.handle(command);
    return this;
  }

  load(name: string, options: Partial<LoadCommand> = {}): this {
    return this.send({ type: 'load', name, bytes: guestBytes(name), memoryBytes: 64 * 1024 * 1024, mte: true, ...options });
  }

  /** Runs until the machine stops running (or `limitMs` of ticks), flushing like the worker. */
  run(limitMs = 30_000): this {
    const end = performance.now() + limitMs;
    while (this.host.tick(20) && performance.now() < end) this.host.flush();
    this.host.flush();
    return this;
  }

  all<T extends HostMessageType>(type: T): HostMessageOf<T>[] {
    return this.messages.filter((m): m is HostMessageOf<T> => m.type === type);
  }

  last<T extends HostMessageType>(type: T): HostMessageOf<T> | undefined {
    return this.all(type).at(-1);
  }

  text(stream: 'uart' | 'console' = 'uart'): string {
    return this.all('output').filter((m) => m.stream === stream).map((m) => m.text).join('');
  }

  /** The latest summary byte of every page, from all page-tags messages so far. */
  summaries(): Uint8Array {
    const loaded = this.last('loaded')!;
    const out = new Uint8Array(loaded.pages);
    for (const m of this.all('page-tags')) m.pages.forEach((page, i) => (out[page] = m.values[i]!));
    return out;
  }
}
