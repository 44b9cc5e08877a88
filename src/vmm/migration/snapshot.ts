import type { VirtMachine } from '../machine.js';
import { PageEncoder } from './page-stream.js';
import { encodeEnd, encodeHello, encodeState } from './payloads.js';
import { encodeSection, Section, SectionReader } from './sections.js';
import { machineCapabilities, StreamTarget } from './stream-target.js';
import { StreamFormatError } from './value-codec.js';

/**
 * Serialises a paused (or shut down) machine into the stream format: every page (zero pages
 * compactly), the tag state of every page, every component, and END.
 */
export function saveSnapshot(machine: VirtMachine): Uint8Array[] {
  if (machine.state === 'running') throw new Error('pause the machine before saving a snapshot');
  const chunks: Uint8Array[] = [encodeSection(Section.HELLO, encodeHello(machineCapabilities(machine)))];
  const memory = machine.vm.memory.migration;
  const encoder = new PageEncoder(memory, (section) => chunks.push(section));
  encoder.expect(memory.layout().reduce((pages, r) => pages + r.size / 4096, 0));
  for (const region of memory.layout()) {
    for (let gpa = region.base; gpa < region.base + region.size; gpa += 4096) encoder.addData(gpa);
  }
  // Every page's tag state, uninitialised ones included: the target may be a machine that ran.
  for (const region of memory.layout()) {
    for (let gpa = region.base; gpa < region.base + region.size; gpa += 4096) encoder.addTags(gpa, true);
  }
  encoder.flush();
  const components = machine.components();
  for (const component of components) {
    chunks.push(encodeSection(Section.STATE, encodeState(component.stateName, component.stateVersion, component.save())));
  }
  const summary = { ramPages: encoder.stats.ramPages, tagPages: encoder.stats.tagPages, states: components.length, rounds: 1 };
  chunks.push(encodeSection(Section.END, encodeEnd(summary)));
  return chunks;
}

/**
 * Restores a snapshot into `machine`, which must have the same configuration. The whole stream is
 * validated (checksums, order, capabilities, totals, every component state) before anything is
 * applied; a bad snapshot leaves the machine exactly as it was. The machine ends up paused.
 */
export function loadSnapshot(machine: VirtMachine, bytes: Uint8Array): void {
  const reader = new SectionReader();
  reader.push(bytes);
  const target = new StreamTarget(machine, 'staged');
  for (let section = reader.next(); section !== null; section = reader.next()) {
    if (target.done) throw new StreamFormatError('data after the END section');
    target.accept(section);
  }
  if (reader.pending > 0) throw new StreamFormatError(`snapshot is truncated (${reader.pending} bytes of an incomplete section)`);
  if (!target.done) throw new StreamFormatError('snapshot is truncated (no END section)');
  target.commit();
  machine.restored('paused');
}
