import type { VirtMachine } from '../machine.js';
import type { StreamStats } from './page-stream.js';
import { encodeEnd, encodeHello, encodeState } from './payloads.js';
import { encodeSection, Section } from './sections.js';
import { machineCapabilities } from './stream-target.js';

/**
 * The section sequence every stream has (docs/migration-protocol.md §4), written in one place
 * for snapshots and live migration: HELLO, the pages (PageEncoder), one STATE per component in
 * the machine's order, END with the totals.
 */
export class StreamWriter {
  /** HELLO's payload: sealed chunks of a protected VM's stream are bound to it. */
  readonly hello: Uint8Array;
  private states = 0;

  /** `postcopy`: the version of the post-copy phase this stream will use (postcopy.ts). */
  constructor(
    private readonly machine: VirtMachine,
    postcopy?: number,
  ) {
    this.hello = encodeHello({ ...machineCapabilities(machine), ...(postcopy ? { postcopy } : {}) });
  }

  helloSection(): Uint8Array {
    return encodeSection(Section.HELLO, this.hello);
  }

  /** One STATE section per component, saved now (the machine must be stopped). */
  stateSections(): Uint8Array[] {
    const components = this.machine.components();
    this.states = components.length;
    return components.map((c) => encodeSection(Section.STATE, encodeState(c.stateName, c.stateVersion, c.save())));
  }

  endSection(stats: StreamStats, rounds: number): Uint8Array {
    return encodeSection(Section.END, encodeEnd({ ramPages: stats.ramPages, tagPages: stats.tagPages, states: this.states, rounds }));
  }
}
