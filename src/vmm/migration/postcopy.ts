import { isZeroPageAt, PACKED_TAG_BYTES_PER_PAGE, PAGE_ARRIVED_TAGGED, PAGE_ARRIVED_UNTAGGED, PAGE_MISSING, PAGE_SIZE, type RamRegion } from '../../memory/index.js';
import type { RegionMemory } from './chunk-codec.js';
import { encodeSection, sealSection, Section, SECTION_HEADER_BYTES, SECTION_TRAILER_BYTES } from './sections.js';
import { ByteReader, ByteWriter, StreamFormatError } from './value-codec.js';
import type { MigrationChannel } from './channel.js';
// A page's data and tag encodings are RAM's and TAGS' own (payloads.ts).
import { encodeEnd, RAM_RAW, RAM_ZERO, TAGS_NONE, TAGS_PACKED, TAGS_UNIFORM } from './payloads.js';

/**
 * Post-copy (docs/migration-protocol.md §9): the destination runs the guest as soon as the device
 * states arrive and the pages follow on a second connection, each with its tags, demanded ones
 * first. This file holds the payloads of that phase, the source's page pusher and the
 * destination's page apply (which runs on a worker thread in Node).
 */

/** The version of the post-copy phase (the `postcopy` capability in HELLO). */
export const POSTCOPY_VERSION = 2;
/** Pages per PAGES section of demanded pages: small, so the guest waiting for one gets it soon. */
export const PAGES_PER_SECTION = 16;
/**
 * Pages per background PAGES section, sent while no demand waits. Each section costs a socket
 * write and an event-loop turn; at 16 pages those made a 1 GiB push take 3-6 s. A demand that
 * arrives meanwhile waits for one such section at most (1 MiB: about a millisecond on loopback).
 */
export const BACKGROUND_PAGES_PER_SECTION = 256;
/** Page addresses per REQUEST section. */
export const MAX_REQUEST_PAGES = 1024;

const textEncoder = new TextEncoder();

function jsonOf(payload: Uint8Array, what: string): Record<string, unknown> {
  if (payload.length > 4096) throw new StreamFormatError(`${what} is larger than 4096 bytes`);
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new StreamFormatError(`${what} is not a JSON object`);
}

function count(value: Record<string, unknown>, field: string, what: string): number {
  const n = value[field];
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw new StreamFormatError(`${what}: bad ${field}`);
  return n as number;
}

// ---- POSTCOPY (source -> target, main connection): the states are complete, the pages follow ----

export interface PostcopyStart {
  readonly version: number;
  /** STATE sections sent before it. */
  readonly states: number;
  /** Pages that will come on the page connection (every page of RAM). */
  readonly pages: number;
}

export function encodePostcopy(start: PostcopyStart): Uint8Array {
  return textEncoder.encode(JSON.stringify(start));
}

export function decodePostcopy(payload: Uint8Array): PostcopyStart {
  const value = jsonOf(payload, 'POSTCOPY');
  const version = count(value, 'version', 'POSTCOPY');
  if (version !== POSTCOPY_VERSION) throw new StreamFormatError(`post-copy version ${version} is not supported (this destination knows ${POSTCOPY_VERSION})`);
  return { version, states: count(value, 'states', 'POSTCOPY'), pages: count(value, 'pages', 'POSTCOPY') };
}

// ---- LISTEN (target -> source): where the page connection goes ----

export function encodeListen(port: number): Uint8Array {
  return textEncoder.encode(JSON.stringify({ port }));
}

export function decodeListen(payload: Uint8Array): number {
  const port = count(jsonOf(payload, 'LISTEN'), 'port', 'LISTEN');
  if (port < 1 || port > 65535) throw new StreamFormatError(`LISTEN: port ${port} out of range`);
  return port;
}

// ---- REQUEST (target -> source, page connection): pages the guest is waiting for ----

export function encodeRequest(gpas: readonly number[]): Uint8Array {
  const out = new ByteWriter(4 + gpas.length * 8);
  out.u32(gpas.length);
  for (const gpa of gpas) out.u64(gpa);
  return encodeSection(Section.REQUEST, out.finish());
}

export function decodeRequest(payload: Uint8Array): number[] {
  const reader = new ByteReader(payload);
  const n = reader.u32('request count');
  if (n > MAX_REQUEST_PAGES) throw new StreamFormatError(`REQUEST for ${n} pages exceeds ${MAX_REQUEST_PAGES}`);
  const gpas: number[] = [];
  for (let i = 0; i < n; i++) {
    const gpa = reader.u64('page address');
    if (gpa % PAGE_SIZE !== 0) throw new StreamFormatError(`requested page 0x${gpa.toString(16)} is not page-aligned`);
    gpas.push(gpa);
  }
  reader.expectEnd('request');
  return gpas;
}

// ---- PAGES (source -> target, page connection): pages with their tags ----

/** Bytes of a PAGES payload before its first entry: the count and a reserved word. */
const PAGES_PREFIX = 8;
/** An entry's word: the page address, data encoding in bit 0, tag encoding in bits 4-5, a uniform tag in bits 8-11. */
const TAG_ENCODING_SHIFT = 4;
const UNIFORM_TAG_SHIFT = 8;

/**
 * One PAGES section (post-copy version 2), built in place: count, reserved, then per page one
 * 8-byte word (its address with the data and tag encodings in the low 12 bits), its data if raw
 * and its packed tags if packed, so a page's tags can never arrive after its data. Everything
 * stays 8-byte aligned in the frame (fast copies from shared guest memory), and the section is
 * checksummed with XXH64 (sections.ts), as format 3's RAM sections are.
 */
export function encodePages(regions: readonly RamRegion[], gpas: readonly number[], reuse?: Uint8Array): Uint8Array {
  const bytes = pagesFrameBytes(gpas.length);
  const out = new ByteWriter(reuse && reuse.length >= bytes ? reuse : bytes);
  out.reserve(SECTION_HEADER_BYTES);
  out.u32(gpas.length);
  out.u32(0);
  for (const gpa of gpas) {
    const region = regions.find((r) => gpa >= r.base && gpa < r.end)!;
    const page = (gpa - region.base) / PAGE_SIZE;
    const raw = !isZeroPageAt(region.bytes, page * PAGE_SIZE);
    const tags = region.tags;
    let tagEncoding = TAGS_NONE;
    let uniform = 0;
    if (tags && tags.isInitialised(page)) {
      uniform = tags.uniformTag(page);
      tagEncoding = uniform >= 0 ? TAGS_UNIFORM : TAGS_PACKED;
    }
    out.u64(gpa + (raw ? RAM_RAW : RAM_ZERO) + (tagEncoding << TAG_ENCODING_SHIFT) + (tagEncoding === TAGS_UNIFORM ? uniform << UNIFORM_TAG_SHIFT : 0));
    if (raw) out.window(PAGE_SIZE).set(region.bytes.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    if (tagEncoding === TAGS_PACKED) out.window(PACKED_TAG_BYTES_PER_PAGE).set(tags!.packed.subarray(page * PACKED_TAG_BYTES_PER_PAGE, (page + 1) * PACKED_TAG_BYTES_PER_PAGE));
  }
  out.reserve(SECTION_TRAILER_BYTES);
  return sealSection(Section.PAGES, out.finish());
}

/** The largest PAGES frame of `pages` pages. */
function pagesFrameBytes(pages: number): number {
  return SECTION_HEADER_BYTES + PAGES_PREFIX + pages * (8 + PAGE_SIZE + PACKED_TAG_BYTES_PER_PAGE) + SECTION_TRAILER_BYTES;
}

/** A destination region for `applyPages`: its memory and its missing-page states (missing-pages.ts). */
export interface PostcopyRegion extends RegionMemory {
  readonly state: Uint8Array;
}

/**
 * Writes the pages of a PAGES payload into the regions, data and tags, then publishes each page's
 * state (Atomics, for the vCPU's thread). The whole payload is checked before any page is
 * written. A page that already arrived is left alone: the guest may have written it since.
 * Returns the pages newly arrived.
 */
export function applyPages(regions: readonly PostcopyRegion[], payload: Uint8Array): number {
  const reader = new ByteReader(payload);
  const n = reader.u32('page count');
  if (n > 4 * BACKGROUND_PAGES_PER_SECTION) throw new StreamFormatError(`PAGES section with ${n} pages`);
  if (reader.u32('reserved') !== 0) throw new StreamFormatError('PAGES: reserved field is not zero');
  const pages: { region: PostcopyRegion; page: number; data: Uint8Array | null; tags: number | Uint8Array | null }[] = [];
  for (let i = 0; i < n; i++) {
    const word = reader.u64('page entry');
    const low = word % PAGE_SIZE;
    const gpa = word - low;
    const region = regions.find((r) => gpa >= r.base && gpa < r.base + r.data.length);
    if (!region) throw new StreamFormatError(`page 0x${gpa.toString(16)} is not a RAM page of this machine`);
    const encoding = low & 1;
    const tagEncoding = (low >>> TAG_ENCODING_SHIFT) & 3;
    const uniform = low >>> UNIFORM_TAG_SHIFT;
    if ((low & 0b1110) !== 0 || tagEncoding > TAGS_PACKED || (tagEncoding !== TAGS_UNIFORM && uniform !== 0)) {
      throw new StreamFormatError(`page 0x${gpa.toString(16)}: bad encoding bits 0x${low.toString(16)}`);
    }
    const data = encoding === RAM_RAW ? reader.take(PAGE_SIZE, 'page data') : null;
    let tags: number | Uint8Array | null = null;
    if (tagEncoding === TAGS_UNIFORM) tags = uniform;
    else if (tagEncoding === TAGS_PACKED) tags = reader.take(PACKED_TAG_BYTES_PER_PAGE, 'packed tags');
    if (tags !== null && !region.tags) throw new StreamFormatError('tags for a VM without MTE');
    pages.push({ region, page: (gpa - region.base) / PAGE_SIZE, data, tags });
  }
  reader.expectEnd('pages');
  let arrived = 0;
  for (const { region, page, data, tags } of pages) {
    if (Atomics.load(region.state, page) !== PAGE_MISSING) continue;
    if (data) region.data.set(data, page * PAGE_SIZE);
    else region.data.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const at = page * PACKED_TAG_BYTES_PER_PAGE;
    if (typeof tags === 'number') region.tags!.fill(tags * 0x11, at, at + PACKED_TAG_BYTES_PER_PAGE);
    else if (tags) region.tags!.set(tags, at);
    Atomics.store(region.state, page, tags === null ? PAGE_ARRIVED_UNTAGGED : PAGE_ARRIVED_TAGGED);
    arrived++;
  }
  return arrived;
}

// ---- the source's side of the page connection ----

/** One turn of the host's event loop (setImmediate where it exists: Node; a timer elsewhere). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Sends every page of `regions` (the paused source's RAM) on `channel`, demanded pages first:
 * REQUEST sections are read as they come and served before the next background batch. Ends with
 * END (the page total) and waits for the destination's COMMITTED: once every page has arrived
 * there, the source is no longer needed.
 */
export async function pushPages(regions: readonly RamRegion[], channel: MigrationChannel, progress: (sent: number, bytes: number) => void): Promise<void> {
  const total = regions.reduce((n, r) => n + r.pages, 0);
  const sent = regions.map((r) => new Uint8Array(r.pages));
  const demanded: number[] = [];
  let failure: unknown = null;
  let verdict: number | null = null;
  let wake: () => void = () => {};
  const reading = (async () => {
    for (;;) {
      const section = await channel.receive();
      if (section.type === Section.REQUEST) demanded.push(...decodeRequest(section.payload));
      else if (section.type === Section.COMMITTED || section.type === Section.REFUSE) {
        verdict = section.type;
        if (section.type === Section.REFUSE) throw new Error(`destination failed: ${new TextDecoder().decode(section.payload)}`);
        wake();
        return;
      } else throw new StreamFormatError(`unexpected section 0x${section.type.toString(16)} on the page connection`);
      wake();
    }
  })().catch((error: unknown) => {
    failure = error;
    wake();
  });
  const mark = (gpa: number): boolean => {
    const index = regions.findIndex((r) => gpa >= r.base && gpa < r.end);
    if (index < 0) throw new StreamFormatError(`the destination asked for page 0x${gpa.toString(16)}, not RAM`);
    const page = (gpa - regions[index]!.base) / PAGE_SIZE;
    if (sent[index]![page] === 1) return false;
    sent[index]![page] = 1;
    return true;
  };
  let done = 0;
  let bytes = 0;
  let region = 0;
  let next = 0;
  const batch: number[] = [];
  const spares: Uint8Array[] = [];
  while (done < total) {
    if (failure !== null) throw failure;
    if (verdict === Section.COMMITTED) break; // the destination ended its guest: nothing more is needed
    batch.length = 0;
    while (demanded.length > 0 && batch.length < PAGES_PER_SECTION) {
      const gpa = demanded.shift()!;
      if (mark(gpa)) batch.push(gpa);
    }
    // Demanded pages leave in a small section of their own; otherwise a larger background one.
    const limit = batch.length > 0 ? PAGES_PER_SECTION : BACKGROUND_PAGES_PER_SECTION;
    while (batch.length < limit && region < regions.length) {
      const r = regions[region]!;
      if (next >= r.pages) {
        region++;
        next = 0;
        continue;
      }
      const gpa = r.base + next++ * PAGE_SIZE;
      if (mark(gpa)) batch.push(gpa);
    }
    if (batch.length === 0) continue;
    // Frames are reused once the socket has written them (fresh ones cost page faults and GC).
    const section = encodePages(regions, batch, spares.pop() ?? new Uint8Array(pagesFrameBytes(BACKGROUND_PAGES_PER_SECTION)));
    try {
      await channel.send(section, () => spares.length < 8 && spares.push(new Uint8Array(section.buffer)));
    } catch (error) {
      // A destination whose guest ended says COMMITTED and closes: that answer may be queued behind the error.
      await reading;
      if (verdict === Section.COMMITTED) break;
      throw error;
    }
    done += batch.length;
    bytes += section.length;
    progress(done, bytes);
    // A socket that takes every write at once never lets its reads in: turn the event loop, so a
    // REQUEST waits for one batch at most.
    await nextTurn();
  }
  if (verdict === null && failure === null) await channel.send(encodeSection(Section.END, encodeEnd({ ramPages: done, tagPages: 0, states: 0, rounds: 0 })));
  while (verdict === null && failure === null) await new Promise<void>((resolve) => (wake = resolve));
  if (failure !== null) throw failure;
}
