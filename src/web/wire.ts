/**
 * The live viewer's WebSocket framing of protocol.ts (docs/web.md, "The live viewer"). Browser-
 * and Node-safe (no imports beyond the protocol's types).
 *
 * - Text frames: one JSON object, a HostMessage (server -> page) or a HostCommand (page -> server).
 * - Binary frames (server -> page only): the two bulk tag messages, little-endian:
 *
 *       u8 kind (1 page-tags, 2 granule-tags) | u8 flags (bit 0: full) | u16 0 | u32 count
 *       page-tags:    count x u32 page index (absent when full: pages 0..count-1), count x u8 summary
 *       granule-tags: count x u32 page index, count x 256 x u8 tag (GRANULE_NONE: no tags)
 */
import { GRANULES_PER_PAGE, type HostMessage, type HostMessageOf } from './protocol.js';

export const FRAME_PAGE_TAGS = 1;
export const FRAME_GRANULE_TAGS = 2;
const HEADER = 8;

export type TagMessage = HostMessageOf<'page-tags'> | HostMessageOf<'granule-tags'>;

export function isTagMessage(message: HostMessage): message is TagMessage {
  return message.type === 'page-tags' || message.type === 'granule-tags';
}

/** A binary frame for a page-tags or granule-tags message. */
export function encodeTagFrame(message: TagMessage): Uint8Array {
  const count = message.pages.length;
  const full = message.type === 'page-tags' && message.full;
  const pagesBytes = full ? 0 : count * 4;
  const body = message.type === 'page-tags' ? message.values : message.tags;
  const out = new Uint8Array(HEADER + pagesBytes + body.length);
  const view = new DataView(out.buffer);
  out[0] = message.type === 'page-tags' ? FRAME_PAGE_TAGS : FRAME_GRANULE_TAGS;
  out[1] = full ? 1 : 0;
  view.setUint32(4, count, true);
  for (let i = 0; !full && i < count; i++) view.setUint32(HEADER + i * 4, message.pages[i]!, true);
  out.set(body, HEADER + pagesBytes);
  return out;
}

/** Decodes a binary frame; throws on a malformed one. */
export function decodeTagFrame(frame: ArrayBuffer | Uint8Array): TagMessage {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.length < HEADER) throw new Error(`tag frame of ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[0];
  const full = (bytes[1]! & 1) === 1;
  const count = view.getUint32(4, true);
  const pages = new Uint32Array(count);
  if (kind === FRAME_PAGE_TAGS) {
    const pagesBytes = full ? 0 : count * 4;
    if (bytes.length !== HEADER + pagesBytes + count) throw new Error('page-tags frame has the wrong length');
    for (let i = 0; i < count; i++) pages[i] = full ? i : view.getUint32(HEADER + i * 4, true);
    return { type: 'page-tags', full, pages, values: bytes.slice(HEADER + pagesBytes) };
  }
  if (kind === FRAME_GRANULE_TAGS) {
    if (bytes.length !== HEADER + count * 4 + count * GRANULES_PER_PAGE) throw new Error('granule-tags frame has the wrong length');
    for (let i = 0; i < count; i++) pages[i] = view.getUint32(HEADER + i * 4, true);
    return { type: 'granule-tags', pages, tags: bytes.slice(HEADER + count * 4) };
  }
  throw new Error(`unknown tag frame kind ${kind}`);
}
