/**
 * Inputs for the snapshot and migration-stream targets: a real snapshot, mutated three ways -
 * bytes (with the checksums repaired half the time, so mutants reach the payload decoders),
 * component state values (a field retyped, deleted or added: the generic shape check must refuse
 * those), and bytes after END. Each input says whether it must be refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { VirtMachine } from '../../src/vmm/index.js';
import { decodeState, encodeSection, encodeState, saveSnapshot, Section, sectionChecksum, SectionReader, type RawSection } from '../../src/vmm/migration/index.js';
import { mutatedSeeds } from './harness.js';

export interface StreamInput {
  readonly bytes: Uint8Array;
  /** Why it must be refused, or null when it may be valid. */
  readonly mustRefuse: string | null;
}

export const STREAM_RAM = 8 << 20;

export function streamSeed(): Uint8Array {
  const m = new VirtMachine({ memoryBytes: STREAM_RAM });
  m.loadElf(readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf')));
  m.runSlice(20_000);
  m.pause();
  return new Uint8Array(Buffer.concat(saveSnapshot(m)));
}

/** Recomputes every section checksum it can walk to (the framing is followed by header lengths). */
export function reseal(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes); // a copy, whatever the input (Buffer.slice is a view)
  const view = new DataView(out.buffer);
  for (let at = 0; at + 12 <= out.length; ) {
    const length = view.getUint32(at + 4, true);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, sectionChecksum(out[at]!, out.subarray(at, at + 8 + length)), true);
    at += 12 + length;
  }
  return out;
}

function sectionsOf(bytes: Uint8Array): RawSection[] {
  const reader = new SectionReader();
  reader.push(bytes);
  const out: RawSection[] = [];
  for (let s = reader.next(); s !== null; s = reader.next()) out.push({ type: s.type, payload: s.payload.slice() });
  return out;
}

type Container = Record<string, unknown> | unknown[];
type Slot = { parent: Container; key: string | number; path: string };

function slots(value: unknown, path: string, out: Slot[]): void {
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const childPath = `${path}.${key}`;
    out.push({ parent: value as Container, key, path: childPath });
    slots(child, childPath, out);
  }
}

/** A value of another kind than `value` (never null: `machine.image` may legitimately be null). */
function retyped(value: unknown, choice: number): unknown {
  const others: unknown[] = [{}, 'x', new Uint8Array(3), true, 7, []];
  const kind = (v: unknown) => (v instanceof Uint8Array ? 'bytes' : Array.isArray(v) ? 'array' : typeof v);
  const candidates = others.filter((o) => kind(o) !== kind(value));
  return candidates[choice % candidates.length];
}

const stateMutation = fc.record({
  section: fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 })).map((n) => n / 2 ** 31),
  slot: fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 })).map((n) => n / 2 ** 31),
  op: fc.constantFrom('retype', 'delete', 'add', 'number'),
  choice: fc.nat(100),
  number: fc.constantFrom(-1, 0, 1, 0.5, 2 ** 32, 2 ** 53, 15, 255, Number.NaN),
});

type StateMutation = typeof stateMutation extends fc.Arbitrary<infer T> ? T : never;

/** One component state changed at one field; mustRefuse says whether the shape check must catch it. */
function mutateState(seed: Uint8Array, m: StateMutation): StreamInput {
  const sections = sectionsOf(seed);
  const states = sections.map((s, i) => [s, i] as const).filter(([s]) => s.type === Section.STATE);
  const [section, index] = states[Math.floor(m.section * states.length)]!;
  const decoded = decodeState(section.payload);
  const all: Slot[] = [];
  slots(decoded.state, decoded.name, all);
  const slot = all[Math.floor(m.slot * all.length)];
  let mustRefuse: string | null = null;
  if (slot) {
    const { parent, key, path } = slot;
    const inMap = /^pl011\.registers/.test(path);
    const isObjectKey = !Array.isArray(parent);
    const p = parent as Record<string | number, unknown>;
    if (m.op === 'retype') {
      p[key] = retyped(p[key], m.choice);
      mustRefuse = `${path} retyped`;
    } else if (m.op === 'delete' && isObjectKey) {
      delete p[key];
      if (!inMap) mustRefuse = `${path} deleted`;
    } else if (m.op === 'add' && isObjectKey) {
      p[`zz${m.choice}`] = 1;
      if (!/^pl011\.registers$|^pl011\.registers\./.test(path.replace(/\.[^.]*$/, ''))) mustRefuse = `unknown field next to ${path}`;
    } else if (m.op === 'number' && typeof p[key] === 'number') {
      p[key] = m.number;
    }
  }
  sections[index] = { type: Section.STATE, payload: encodeState(decoded.name, decoded.version, decoded.state) };
  return { bytes: Buffer.concat(sections.map((s) => encodeSection(s.type, s.payload))), mustRefuse };
}

export function streamInputs(seed: Uint8Array): fc.Arbitrary<StreamInput> {
  return fc.oneof(
    { weight: 3, arbitrary: mutatedSeeds([seed], reseal).map((bytes) => ({ bytes, mustRefuse: null })) },
    { weight: 3, arbitrary: stateMutation.map((m) => mutateState(seed, m)) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((junk) => ({ bytes: Buffer.concat([seed, junk]), mustRefuse: 'bytes after END' })) },
  );
}

export const showStream = (input: StreamInput): string => `${input.bytes.length} bytes${input.mustRefuse ? ` (${input.mustRefuse})` : ''}`;
