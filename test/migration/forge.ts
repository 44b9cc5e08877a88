/**
 * Forging snapshots for tests: decode every section, let the test change one component's state,
 * re-encode it with a correct checksum. What comes out is well-framed but possibly bad input.
 */
import { decodeState, encodeSection, encodeState, Section, SectionReader, type RawSection } from '../../src/vmm/migration/index.js';

export function sectionsOf(bytes: Uint8Array): RawSection[] {
  const reader = new SectionReader();
  reader.push(bytes);
  const out: RawSection[] = [];
  for (let s = reader.next(); s !== null; s = reader.next()) out.push({ type: s.type, payload: s.payload.slice() });
  return out;
}

export function joinSections(sections: readonly RawSection[]): Uint8Array {
  return Buffer.concat(sections.map((s) => encodeSection(s.type, s.payload)));
}

/** Replaces the state of component `name` by what `mutate` returns (it may change it in place). */
export function forgeState(bytes: Uint8Array, name: string, mutate: (state: Record<string, unknown>) => unknown, version?: number): Uint8Array {
  let found = false;
  const sections = sectionsOf(bytes).map((s) => {
    if (s.type !== Section.STATE) return s;
    const decoded = decodeState(s.payload);
    if (decoded.name !== name) return s;
    found = true;
    const state = decoded.state as Record<string, unknown>;
    const next = mutate(state) ?? state;
    return { type: s.type, payload: encodeState(name, version ?? decoded.version, next) };
  });
  if (!found) throw new Error(`no state section ${name}`);
  return joinSections(sections);
}
