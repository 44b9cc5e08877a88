import type { VirtMachine } from '../machine.js';
import { PageEncoder } from './page-stream.js';
import { StreamOpener, StreamSealer } from './sealing.js';
import { encodeSection, Section, SectionReader, type RawSection } from './sections.js';
import { migrationAccess, StreamTarget } from './stream-target.js';
import { StreamWriter } from './stream-writer.js';
import { StreamFormatError } from './value-codec.js';

/**
 * The sections of a snapshot of a paused (or shut down) machine: every page (zero pages
 * compactly), the tag state of every page, every component, and END. `hello` is HELLO's payload.
 */
function snapshotSections(machine: VirtMachine): { hello: Uint8Array; sections: Uint8Array[] } {
  if (machine.state === 'running') throw new Error('pause the machine before saving a snapshot');
  const writer = new StreamWriter(machine);
  const sections: Uint8Array[] = [];
  const memory = migrationAccess(machine);
  const encoder = new PageEncoder(memory, (section) => sections.push(section));
  encoder.expect(memory.layout().reduce((pages, r) => pages + r.size / 4096, 0));
  for (const region of memory.layout()) {
    for (let gpa = region.base; gpa < region.base + region.size; gpa += 4096) encoder.addData(gpa);
  }
  // Every page's tag state, uninitialised ones included: the target may be a machine that ran.
  for (const region of memory.layout()) {
    for (let gpa = region.base; gpa < region.base + region.size; gpa += 4096) encoder.addTags(gpa, true);
  }
  encoder.flush();
  sections.push(...writer.stateSections(), writer.endSection(encoder.stats, 1));
  return { hello: writer.hello, sections };
}

/** A plaintext snapshot (refused for a protected VM, whose memory leaves only encrypted). */
export function saveSnapshot(machine: VirtMachine): Uint8Array[] {
  if (machine.protection) throw new Error("a protected VM's snapshot must be encrypted: save it with its migration key");
  const { hello, sections } = snapshotSections(machine);
  return [encodeSection(Section.HELLO, hello), ...sections];
}

/** A snapshot whose every section after HELLO is sealed with `key` (docs/migration-protocol.md §8). */
export async function saveSealedSnapshot(machine: VirtMachine, key: Uint8Array): Promise<Uint8Array[]> {
  const { hello, sections } = snapshotSections(machine);
  const sealer = await StreamSealer.create(key, hello);
  const out = [encodeSection(Section.HELLO, hello)];
  for (const section of sections) out.push(await sealer.seal(section));
  return out;
}

/**
 * The largest snapshot a machine with `ramBytes` of RAM can have: every page raw with its packed
 * tags and headers, plus a margin for the component states (the boot image they may carry is at
 * most one 16 MiB section) and section framing. Readers stop at this bound (docs/snapshot-format.md).
 */
export function maxSnapshotBytes(ramBytes: number): number {
  const pages = Math.ceil(ramBytes / 4096);
  return pages * (4096 + 9 + 128 + 9) + 64 * 2 ** 20;
}

function readSections(bytes: Uint8Array): RawSection[] {
  if (bytes.length === 0) throw new StreamFormatError('the snapshot is empty (0 bytes)');
  const reader = new SectionReader();
  reader.push(bytes);
  const sections: RawSection[] = [];
  for (let section = reader.next(); section !== null; section = reader.next()) sections.push(section);
  if (reader.pending > 0) throw new StreamFormatError(`snapshot is truncated (${reader.pending} bytes of an incomplete section)`);
  return sections;
}

/** Validates every section, then applies them all; leaves the machine paused. */
function apply(machine: VirtMachine, sections: readonly RawSection[]): void {
  const target = new StreamTarget(machine, 'staged');
  for (const section of sections) {
    if (target.done) throw new StreamFormatError('data after the END section');
    target.accept(section);
  }
  if (!target.done) throw new StreamFormatError('snapshot is truncated (no END section)');
  target.commit();
  machine.restored('paused');
}

/**
 * Restores a snapshot into `machine`, which must have the same configuration. The whole stream is
 * validated (checksums, order, capabilities, totals, every component state) before anything is
 * applied; a bad snapshot leaves the machine exactly as it was. The machine ends up paused.
 */
export function loadSnapshot(machine: VirtMachine, bytes: Uint8Array): void {
  if (machine.protection) throw new StreamFormatError('a protected VM restores only from an encrypted snapshot (give its key)');
  apply(machine, readSections(bytes));
}

/** The same for a sealed snapshot: every chunk is authenticated and decrypted before anything applies. */
export async function loadSealedSnapshot(machine: VirtMachine, bytes: Uint8Array, key: Uint8Array): Promise<void> {
  const [hello, ...rest] = readSections(bytes);
  if (!hello || hello.type !== Section.HELLO) throw new StreamFormatError('snapshot does not start with HELLO');
  const opener = await StreamOpener.create(key, hello.payload);
  const plain: RawSection[] = [hello];
  for (const section of rest) plain.push(await opener.open(section));
  apply(machine, plain);
}
