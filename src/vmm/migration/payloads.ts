import { PACKED_TAG_BYTES_PER_PAGE, PAGE_SIZE } from '../../memory/index.js';
import { sealSection, Section, SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES, type SectionType } from './sections.js';
import { ByteReader, ByteWriter, decodeValue, encodeValue, StreamFormatError } from './value-codec.js';

/** docs/migration-protocol.md: the format this code writes, and the versions it reads. */
export const FORMAT_VERSION = 3;
export const READABLE_VERSIONS: readonly number[] = [3, 2, 1];
export const MAGIC = 'TAGVISOR';
export const TAG_ENCODING = 'mte-packed4';
/** 4000 raw pages (4104 bytes each with their entry; 4105 in formats 1-2) stay under MAX_SECTION_PAYLOAD. */
export const MAX_RAM_PAGES_PER_SECTION = 4000;
export const MAX_TAG_PAGES_PER_SECTION = 16384;
const MAX_JSON = 64 * 1024;

export interface Capabilities {
  readonly machine: string;
  readonly pageSize: number;
  readonly mte: boolean;
  /** A protected VM: everything after HELLO is sealed (AES-256-GCM). */
  readonly protected?: boolean;
  /** Random per stream: part of what every sealed chunk is bound to. */
  readonly session?: string;
  /** Post-copy: the version of the phase the source will use (postcopy.ts); absent: pre-copy. */
  readonly postcopy?: number;
  readonly tagEncoding: string;
  readonly ram: readonly { readonly base: number; readonly size: number }[];
  readonly components: readonly string[];
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function json(reader: ByteReader, what: string): unknown {
  if (reader.remaining > MAX_JSON) throw new StreamFormatError(`${what} is larger than ${MAX_JSON} bytes`);
  try {
    return JSON.parse(textDecoder.decode(reader.take(reader.remaining)));
  } catch {
    throw new StreamFormatError(`${what} is not valid JSON`);
  }
}

// ---- HELLO ----

export function encodeHello(caps: Capabilities): Uint8Array {
  const out = new ByteWriter();
  out.bytes(textEncoder.encode(MAGIC));
  out.u16(FORMAT_VERSION);
  out.u16(0);
  out.bytes(textEncoder.encode(JSON.stringify(caps)));
  return out.finish();
}

export function decodeHello(payload: Uint8Array): { version: number; caps: Capabilities } {
  const reader = new ByteReader(payload);
  const magic = reader.take(MAGIC.length, 'magic');
  if (!magic.every((byte, i) => byte === MAGIC.charCodeAt(i))) throw new StreamFormatError('not a Tagvisor migration stream (bad magic)');
  const version = reader.u16('format version');
  if (!READABLE_VERSIONS.includes(version)) {
    throw new StreamFormatError(`unsupported format version ${version} (this reader accepts ${READABLE_VERSIONS.join(', ')})`);
  }
  if (reader.u16('reserved') !== 0) throw new StreamFormatError('reserved HELLO field is not zero');
  return { version, caps: checkCapabilities(json(reader, 'capabilities')) };
}

function checkCapabilities(value: unknown): Capabilities {
  const fail = (why: string): never => {
    throw new StreamFormatError(`bad capabilities: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.machine !== 'string') fail('machine');
  if (typeof v.pageSize !== 'number') fail('pageSize');
  if (typeof v.mte !== 'boolean') fail('mte');
  if (typeof v.tagEncoding !== 'string') fail('tagEncoding');
  if (!Array.isArray(v.ram) || v.ram.length > 64) fail('ram');
  for (const r of v.ram as unknown[]) {
    const region = r as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || !Number.isSafeInteger(region.base) || !Number.isSafeInteger(region.size)) fail('ram region');
  }
  if (!Array.isArray(v.components) || v.components.length > 256 || !v.components.every((c) => typeof c === 'string')) fail('components');
  if (v.protected !== undefined && typeof v.protected !== 'boolean') fail('protected');
  if (v.session !== undefined && (typeof v.session !== 'string' || v.session.length > 64)) fail('session');
  if (v.postcopy !== undefined && !Number.isSafeInteger(v.postcopy)) fail('postcopy');
  return value as Capabilities;
}

/** Why a target cannot accept a source's capabilities, or null when it can. */
export function capabilityMismatch(source: Capabilities, target: Capabilities): string | null {
  if (source.machine !== target.machine) return `machine type differs (source ${source.machine}, destination ${target.machine})`;
  if (source.pageSize !== target.pageSize) return `page size differs (source ${source.pageSize}, destination ${target.pageSize})`;
  if (source.mte !== target.mte) {
    return source.mte
      ? 'the source VM has MTE and the destination does not: allocation tags would be lost'
      : 'the destination VM has MTE and the source does not';
  }
  if (source.mte && source.tagEncoding !== TAG_ENCODING) return `unknown tag encoding ${source.tagEncoding}`;
  if (Boolean(source.protected) !== Boolean(target.protected)) {
    return source.protected ? 'the source is a protected VM and the destination is not' : 'the destination is a protected VM and the source is not';
  }
  const layout = (caps: Capabilities) => caps.ram.map((r) => `${r.base}+${r.size}`).join(',');
  if (layout(source) !== layout(target)) return `RAM layout differs (source ${layout(source)}, destination ${layout(target)})`;
  const components = (caps: Capabilities) => [...caps.components].sort().join(',');
  if (components(source) !== components(target)) return `devices differ (source ${components(source)}, destination ${components(target)})`;
  return null;
}

// ---- RAM ----

export const RAM_ZERO = 0;
export const RAM_RAW = 1;

/** The RAM section type a stream of format `version` carries (the other one is refused there). */
export function ramSectionFor(version: number): SectionType {
  return version >= 3 ? Section.RAM_ALIGNED : Section.RAM;
}

/** Bytes of a RAM_ALIGNED payload before its first entry: the count and a reserved word. */
const RAM_ALIGNED_PREFIX = 8;

/** The largest RAM section frame: a buffer this size can be reused for any batch. */
export const MAX_RAM_FRAME_BYTES = SECTION_HEADER_BYTES + RAM_ALIGNED_PREFIX + MAX_RAM_PAGES_PER_SECTION * (PAGE_SIZE + 8) + SECTION_TRAILER_BYTES;

/**
 * Builds one RAM section (format 3: RAM_ALIGNED) in place. The frame's header (8 bytes), the
 * count and a reserved word (8) and every entry (one u64: page address | encoding) keep each
 * page's data at an 8-byte aligned offset of the frame: copies between the frame and guest memory
 * (a SharedArrayBuffer) run several times faster aligned than not.
 */
export class RamBatch {
  private readonly out: ByteWriter;
  count = 0;

  /**
   * `expectedPages` sizes the buffer up front so that filling it never copies; `reuse`, a buffer
   * of MAX_RAM_FRAME_BYTES a sent section left (fresh memory costs a page fault per 4 KiB).
   */
  constructor(expectedPages = 16, reuse?: Uint8Array) {
    const pages = Math.min(Math.max(expectedPages, 1), MAX_RAM_PAGES_PER_SECTION);
    const bytes = SECTION_HEADER_BYTES + RAM_ALIGNED_PREFIX + pages * (PAGE_SIZE + 8) + SECTION_TRAILER_BYTES;
    this.out = new ByteWriter(reuse && reuse.length >= bytes ? reuse : bytes);
    this.out.reserve(SECTION_HEADER_BYTES); // the section is built in place (sealSection)
    this.out.u32(0);
    this.out.u32(0);
  }

  addZero(gpa: number): void {
    this.out.u64(gpa + RAM_ZERO);
    this.count++;
  }

  /** Appends a raw page and returns the 4 KiB window (8-byte aligned in the frame) to copy its bytes into. */
  addRaw(gpa: number): Uint8Array {
    this.out.u64(gpa + RAM_RAW);
    this.count++;
    return this.out.window(PAGE_SIZE);
  }

  get bytes(): number {
    return this.out.length;
  }

  /** The complete RAM section. */
  seal(): Uint8Array {
    return sealBatch(this.out, this.count, Section.RAM_ALIGNED);
  }
}

/** Writes the count, leaves room for the checksum and seals a batch built after an 8-byte header. */
function sealBatch(out: ByteWriter, count: number, type: SectionType): Uint8Array {
  out.reserve(SECTION_TRAILER_BYTES);
  const frame = out.finish();
  new DataView(frame.buffer, frame.byteOffset).setUint32(SECTION_HEADER_BYTES, count, true);
  return sealSection(type, frame);
}

/** One page of a RAM payload: its address and where its data starts in the payload (-1: a zero page). */
export interface RamEntry {
  readonly gpa: number;
  readonly data: number;
}

/**
 * Parses a RAM (format 1-2) or RAM_ALIGNED (format 3) payload into its entries, checking every
 * field (§3.1); page addresses are not yet checked against RAM. The one parser of both the
 * vCPU thread's decoder and the decoder threads' in-place apply (ram-apply.ts).
 */
export function ramEntries(payload: Uint8Array, type: SectionType): RamEntry[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const aligned = type === Section.RAM_ALIGNED;
  const end = payload.length;
  if (end < (aligned ? RAM_ALIGNED_PREFIX : 4)) throw new StreamFormatError('RAM section: page count: truncated');
  const count = view.getUint32(0, true);
  if (count > MAX_RAM_PAGES_PER_SECTION) throw new StreamFormatError(`RAM section with ${count} pages exceeds ${MAX_RAM_PAGES_PER_SECTION}`);
  if (aligned && view.getUint32(4, true) !== 0) throw new StreamFormatError('RAM section: reserved field is not zero');
  const entries: RamEntry[] = [];
  let at = aligned ? RAM_ALIGNED_PREFIX : 4;
  const entryBytes = aligned ? 8 : 9;
  for (let i = 0; i < count; i++) {
    if (at + entryBytes > end) throw new StreamFormatError('RAM pages: truncated');
    const low = view.getUint32(at, true);
    const word = low + view.getUint32(at + 4, true) * 2 ** 32;
    // Format 3 keeps the encoding in the address's low 12 bits (a page address has them clear).
    const encoding = aligned ? low % PAGE_SIZE : view.getUint8(at + 8);
    const gpa = aligned ? word - encoding : word;
    at += entryBytes;
    if (gpa % PAGE_SIZE !== 0) throw new StreamFormatError(`page address 0x${gpa.toString(16)} is not page-aligned`);
    if (encoding === RAM_RAW) {
      if (at + PAGE_SIZE > end) throw new StreamFormatError('page data: truncated');
      entries.push({ gpa, data: at });
      at += PAGE_SIZE;
    } else if (encoding === RAM_ZERO) entries.push({ gpa, data: -1 });
    else throw new StreamFormatError(`unknown page encoding ${encoding}`);
  }
  if (at !== end) throw new StreamFormatError(`RAM pages: ${end - at} bytes left over`);
  return entries;
}

export interface RamPage {
  readonly gpa: number;
  /** Page data, or null for a zero page. A view into the section: copy it before keeping it. */
  readonly data: Uint8Array | null;
}

export function decodeRam(payload: Uint8Array, type: SectionType = Section.RAM_ALIGNED): RamPage[] {
  return ramEntries(payload, type).map(({ gpa, data }) => ({ gpa, data: data < 0 ? null : payload.subarray(data, data + PAGE_SIZE) }));
}

// ---- TAGS ----

export const TAGS_NONE = 0;
export const TAGS_UNIFORM = 1;
export const TAGS_PACKED = 2;

export class TagBatch {
  private readonly out = new ByteWriter(16 * 1024);
  count = 0;

  constructor() {
    this.out.reserve(SECTION_HEADER_BYTES);
    this.out.u32(0);
  }

  addNone(gpa: number): void {
    this.out.u64(gpa);
    this.out.u8(TAGS_NONE);
    this.count++;
  }

  addUniform(gpa: number, tag: number): void {
    this.out.u64(gpa);
    this.out.u8(TAGS_UNIFORM);
    this.out.u8(tag);
    this.count++;
  }

  /** Appends packed tags and returns the 128-byte window to copy them into. */
  addPacked(gpa: number): Uint8Array {
    this.out.u64(gpa);
    this.out.u8(TAGS_PACKED);
    this.count++;
    return this.out.window(PACKED_TAG_BYTES_PER_PAGE);
  }

  get bytes(): number {
    return this.out.length;
  }

  /** The complete TAGS section. */
  seal(): Uint8Array {
    return sealBatch(this.out, this.count, Section.TAGS);
  }
}

export type PageTags =
  | { readonly gpa: number; readonly kind: 'none' }
  | { readonly gpa: number; readonly kind: 'uniform'; readonly tag: number }
  | { readonly gpa: number; readonly kind: 'packed'; readonly packed: Uint8Array };

export function decodeTags(payload: Uint8Array): PageTags[] {
  const reader = new ByteReader(payload);
  const count = reader.u32('tag page count');
  if (count > MAX_TAG_PAGES_PER_SECTION) throw new StreamFormatError(`TAGS section with ${count} pages exceeds ${MAX_TAG_PAGES_PER_SECTION}`);
  const pages: PageTags[] = [];
  for (let i = 0; i < count; i++) {
    const gpa = reader.u64('page address');
    if (gpa % PAGE_SIZE !== 0) throw new StreamFormatError(`page address 0x${gpa.toString(16)} is not page-aligned`);
    const encoding = reader.u8('tag encoding');
    if (encoding === TAGS_NONE) pages.push({ gpa, kind: 'none' });
    else if (encoding === TAGS_UNIFORM) {
      const tag = reader.u8('uniform tag');
      if (tag > 15) throw new StreamFormatError(`tag value ${tag} is not a 4-bit tag`);
      pages.push({ gpa, kind: 'uniform', tag });
    } else if (encoding === TAGS_PACKED) pages.push({ gpa, kind: 'packed', packed: reader.take(PACKED_TAG_BYTES_PER_PAGE, 'packed tags') });
    else throw new StreamFormatError(`unknown tag encoding ${encoding}`);
  }
  reader.expectEnd('tag pages');
  return pages;
}

// ---- STATE ----

export function encodeState(name: string, version: number, state: unknown): Uint8Array {
  const out = new ByteWriter(1024);
  const nameBytes = textEncoder.encode(name);
  out.u16(nameBytes.length);
  out.bytes(nameBytes);
  out.u16(version);
  encodeValue(state, out);
  return out.finish();
}

export function decodeState(payload: Uint8Array): { name: string; version: number; state: unknown } {
  const reader = new ByteReader(payload);
  const nameLength = reader.u16('state name length');
  let name: string;
  try {
    name = textDecoder.decode(reader.take(nameLength, 'state name'));
  } catch {
    throw new StreamFormatError('state name is not valid UTF-8');
  }
  const version = reader.u16('state version');
  const state = decodeValue(reader);
  reader.expectEnd(`state ${name}`);
  return { name, version, state };
}

// ---- END ----

export interface EndSummary {
  readonly ramPages: number;
  readonly tagPages: number;
  readonly states: number;
  readonly rounds: number;
}

export function encodeEnd(summary: EndSummary): Uint8Array {
  return textEncoder.encode(JSON.stringify(summary));
}

export function decodeEnd(payload: Uint8Array): EndSummary {
  const value = json(new ByteReader(payload), 'END summary') as Record<string, unknown>;
  for (const field of ['ramPages', 'tagPages', 'states', 'rounds']) {
    if (!Number.isSafeInteger(value?.[field]) || (value[field] as number) < 0) throw new StreamFormatError(`END summary: bad ${field}`);
  }
  return value as unknown as EndSummary;
}

// ---- SYNC, SYNCED, COMMITTED (format 2) ----

/** SYNC's second field: acknowledge once applied, or the source paused (no acknowledgement). */
export const SYNC_ACK = 0;
export const SYNC_PAUSED = 1;

export interface SyncMark {
  readonly round: number;
  readonly paused: boolean;
}

export function encodeSync(mark: SyncMark): Uint8Array {
  const out = new ByteWriter(5);
  out.u32(mark.round);
  out.u8(mark.paused ? SYNC_PAUSED : SYNC_ACK);
  return out.finish();
}

export function decodeSync(payload: Uint8Array): SyncMark {
  const reader = new ByteReader(payload);
  const round = reader.u32('sync round');
  const kind = reader.u8('sync kind');
  if (kind !== SYNC_ACK && kind !== SYNC_PAUSED) throw new StreamFormatError(`unknown sync kind ${kind}`);
  reader.expectEnd('sync');
  return { round, paused: kind === SYNC_PAUSED };
}

/** What the destination measured, in COMMITTED (format 1 sent it empty). */
export interface CommitReport {
  /** From the source's pause (its paused SYNC, else END) to the guest resumed here. */
  readonly downtimeMs?: number;
}

export function encodeCommitted(report: CommitReport): Uint8Array {
  return textEncoder.encode(JSON.stringify(report));
}

/** Lenient: the report is informational; an empty or odd one reads as no figures. */
export function decodeCommitted(payload: Uint8Array): CommitReport {
  if (payload.length === 0 || payload.length > 4096) return {};
  try {
    const value = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    return typeof value.downtimeMs === 'number' && Number.isFinite(value.downtimeMs) ? { downtimeMs: value.downtimeMs } : {};
  } catch {
    return {};
  }
}
