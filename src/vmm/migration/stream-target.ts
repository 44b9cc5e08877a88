import { checkState, StateError, type Stateful } from '../../common/persist.js';
import type { VirtMachine } from '../machine.js';
import { PageApplier } from './page-stream.js';
import { capabilityMismatch, decodeEnd, decodeHello, decodeRam, ramSectionFor, decodeState, decodeSync, decodeTags, type Capabilities, type EndSummary, type PageTags, type RamPage, type SyncMark } from './payloads.js';
import { Section, verifySection, type RawSection, type SectionType } from './sections.js';
import { StreamFormatError } from './value-codec.js';
import { sessionId } from './sealing.js';
import type { MigrationAccess } from '../../memory/index.js';
import { decodePostcopy, type PostcopyStart } from './postcopy.js';

/** The capabilities a machine offers or requires (docs/migration-protocol.md §2). */
export function machineCapabilities(machine: VirtMachine): Capabilities {
  return {
    machine: 'virt',
    pageSize: 4096,
    mte: machine.mte,
    tagEncoding: 'mte-packed4',
    ram: machine.vm.memory.migration.layout(),
    components: machine.components().map((c) => c.stateName),
    ...(machine.protection ? { protected: true, session: sessionId() } : {}),
  };
}

/** How migration reads and writes a machine's pages: sealed for a protected VM. */
export function migrationAccess(machine: VirtMachine): MigrationAccess {
  return machine.protection ? machine.vm.memory.sealedMigration : machine.vm.memory.migration;
}

/** The target refuses the stream's capabilities (not a malformed stream: a configuration mismatch). */
export class CapabilityError extends Error {
  override readonly name = 'CapabilityError';
}

type Phase = 'hello' | 'pages' | 'states' | 'done';

/**
 * Consumes a stream section by section (docs/migration-protocol.md §4), validating order, every
 * payload and every component state. In 'direct' mode pages go into the machine's memory as they
 * arrive (a fresh migration target that has not started); in 'staged' mode (loading a snapshot
 * into an existing machine) nothing is written until `commit`, after the whole stream validated.
 * Component states are always checked on arrival and loaded only by `commit`.
 */
export class StreamTarget {
  private phase: Phase = 'hello';
  private readonly pages: PageApplier;
  private readonly stagedRam: RamPage[][] = [];
  private readonly stagedTags: PageTags[][] = [];
  private readonly states = new Map<string, { component: Stateful<unknown>; state: unknown }>();
  private receivedRam = 0;
  private receivedTags = 0;
  summary: EndSummary | null = null;
  /** Post-copy: the POSTCOPY section that ended the stream instead of END (its pages follow elsewhere). */
  postcopy: PostcopyStart | null = null;
  /** The last SYNC section accepted (live migration answers it). */
  lastSync: SyncMark | null = null;
  caps: Capabilities | null = null;
  /** The RAM section type HELLO's format version carries. */
  private ramSection: SectionType = Section.RAM_ALIGNED;
  /** The HELLO payload: sealed chunks are bound to it. */
  hello: Uint8Array | null = null;

  constructor(
    private readonly machine: VirtMachine,
    private readonly mode: 'direct' | 'staged',
  ) {
    this.pages = new PageApplier(migrationAccess(machine));
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  accept(section: RawSection): void {
    verifySection(section);
    switch (section.type) {
      case Section.HELLO: {
        this.expect('hello', 'HELLO');
        const { version, caps } = decodeHello(section.payload);
        this.ramSection = ramSectionFor(version);
        this.hello = section.payload.slice();
        const mismatch = capabilityMismatch(caps, machineCapabilities(this.machine));
        if (mismatch) throw new CapabilityError(`capability mismatch: ${mismatch}`);
        this.caps = caps;
        this.phase = 'pages';
        return;
      }
      case Section.RAM:
      case Section.RAM_ALIGNED: {
        this.expectRam(section.type);
        const pages = decodeRam(section.payload, section.type);
        this.pages.checkPages(pages);
        this.receivedRam += pages.length;
        if (this.mode === 'direct') this.pages.applyRam(pages);
        else this.stagedRam.push(pages);
        return;
      }
      case Section.TAGS: {
        this.expect('pages', 'TAGS');
        if (!this.machine.mte) throw new StreamFormatError('TAGS section for a VM without MTE');
        const pages = decodeTags(section.payload);
        this.pages.checkPages(pages);
        this.receivedTags += pages.length;
        if (this.mode === 'direct') this.pages.applyTags(pages);
        else this.stagedTags.push(pages);
        return;
      }
      case Section.SYNC: {
        // A round's end or the source's pause (format 2): nothing to apply; the caller answers it.
        this.expect('pages', 'SYNC');
        this.lastSync = decodeSync(section.payload);
        return;
      }
      case Section.STATE: {
        if (this.phase === 'pages') this.phase = 'states';
        this.expect('states', 'STATE');
        const { name, version, state } = decodeState(section.payload);
        const component = this.machine.components().find((c) => c.stateName === name);
        if (!component) throw new StreamFormatError(`state for unknown component ${JSON.stringify(name)}`);
        if (this.states.has(name)) throw new StreamFormatError(`state for ${name} sent twice`);
        this.states.set(name, { component, state: checkState(component, state, version) });
        return;
      }
      case Section.END: {
        this.expect('states', 'END');
        const summary = decodeEnd(section.payload);
        if (summary.ramPages !== this.receivedRam || summary.tagPages !== this.receivedTags || summary.states !== this.states.size) {
          throw new StreamFormatError(
            `stream totals do not match: END says ${summary.ramPages} pages, ${summary.tagPages} tag pages, ${summary.states} states; ` +
              `received ${this.receivedRam}, ${this.receivedTags}, ${this.states.size}`,
          );
        }
        this.checkAllStates();
        this.summary = summary;
        this.phase = 'done';
        return;
      }
      case Section.POSTCOPY: {
        // Post-copy's END: the states are complete, the pages come on the page connection.
        this.expect('states', 'POSTCOPY');
        if (this.mode !== 'direct' || !this.caps?.postcopy) throw new StreamFormatError('POSTCOPY section in a stream that did not announce post-copy');
        const start = decodePostcopy(section.payload);
        if (start.states !== this.states.size) throw new StreamFormatError(`POSTCOPY says ${start.states} states; received ${this.states.size}`);
        this.checkAllStates();
        this.postcopy = start;
        this.phase = 'done';
        return;
      }
      default:
        throw new StreamFormatError(`unexpected section 0x${section.type.toString(16)} in a migration stream`);
    }
  }

  /** A RAM section is about to be applied by a decoder thread (ram-apply.ts): it must come where RAM may. */
  expectRam(type: SectionType): void {
    this.expect('pages', 'RAM');
    if (type !== this.ramSection) throw new StreamFormatError(`RAM section type 0x${type.toString(16)} in a stream of another format version`);
  }

  /** Counts pages a decoder thread applied (for END's totals). */
  countRam(pages: number): void {
    this.receivedRam += pages;
  }

  /** Applies a complete, validated stream: staged pages, then every component state. */
  commit(): void {
    if (this.phase !== 'done') throw new StreamFormatError('stream ended before its END section');
    for (const pages of this.stagedRam) this.pages.applyRam(pages);
    for (const pages of this.stagedTags) this.pages.applyTags(pages);
    // Restore in the machine's order (machine, vCPU, devices) so devices see a consistent vCPU.
    for (const component of this.machine.components()) component.load(this.states.get(component.stateName)!.state);
  }

  private checkAllStates(): void {
    const missing = this.machine.components().filter((c) => !this.states.has(c.stateName));
    if (missing.length > 0) throw new StateError(missing[0]!.stateName, 'no state in the stream');
  }

  private expect(phase: Phase, what: string): void {
    if (this.phase !== phase) throw new StreamFormatError(`${what} section out of order (expected ${this.phase === 'done' ? 'nothing after END' : this.phase})`);
  }
}
