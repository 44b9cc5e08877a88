import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_MAGIC, FDT_MAX_SIZE, FDT_MIN_READ_VERSION, FDT_NOP, FDT_PROP, FDT_VERSION } from './format.js';
import type { FdtNode, FdtProp } from './tree.js';

/** A blob that is not a usable device tree: the message is one line for the user. */
export class FdtError extends Error {
  override readonly name = 'FdtError';
}

export interface ParsedFdt {
  readonly root: FdtNode;
  readonly version: number;
  readonly bootCpuid: number;
  readonly reserved: readonly (readonly [bigint, bigint])[];
}

const MAX_DEPTH = 64;
const MAX_RESERVED = 1024;
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Parses and validates an untrusted blob (a user's --dtb file): the header, every offset and
 * size against the blob, then the structure block token by token. Throws FdtError naming the
 * first problem; nothing is trusted before it is checked.
 */
export function parseFdt(bytes: Uint8Array): ParsedFdt {
  if (bytes.length < FDT_HEADER_SIZE) throw new FdtError(`too short for a device tree header (${bytes.length} bytes, need ${FDT_HEADER_SIZE})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (at: number): number => view.getUint32(at);
  if (word(0) !== FDT_MAGIC) throw new FdtError(`not a device tree blob (magic 0x${word(0).toString(16).padStart(8, '0')}, expected 0xd00dfeed)`);
  const [totalSize, structOff, stringsOff, rsvOff, version, lastComp, bootCpuid, stringsSize, structSizeField] = [4, 8, 12, 16, 20, 24, 28, 32, 36].map(word) as [number, number, number, number, number, number, number, number, number];
  if (version < FDT_MIN_READ_VERSION) throw new FdtError(`device tree version ${version} is too old (need ${FDT_MIN_READ_VERSION} or later)`);
  if (lastComp > FDT_VERSION) throw new FdtError(`device tree needs a reader of version ${lastComp} (this one reads ${FDT_VERSION})`);
  if (totalSize < FDT_HEADER_SIZE) throw new FdtError(`totalsize ${totalSize} is smaller than the header`);
  if (totalSize > bytes.length) throw new FdtError(`totalsize ${totalSize} exceeds the file size ${bytes.length}`);
  if (totalSize > FDT_MAX_SIZE) throw new FdtError(`device tree of ${totalSize} bytes exceeds the 2 MiB the arm64 boot protocol allows`);
  const inBlob = (what: string, offset: number, size: number): void => {
    if (offset < FDT_HEADER_SIZE || offset + size > totalSize) throw new FdtError(`${what} (offset ${offset}, ${size} bytes) lies outside the blob (totalsize ${totalSize})`);
  };
  if (rsvOff % 8 !== 0) throw new FdtError(`memory reservation block offset ${rsvOff} is not 8-byte aligned`);
  if (structOff % 4 !== 0) throw new FdtError(`structure block offset ${structOff} is not 4-byte aligned`);
  inBlob('strings block', stringsOff, stringsSize);
  // Version 16 has no size_dt_struct: the block runs at most to the end of the blob.
  const structSize = version >= 17 ? structSizeField : totalSize - Math.min(structOff, totalSize);
  inBlob('structure block', structOff, structSize);

  const reserved: (readonly [bigint, bigint])[] = [];
  for (let at = rsvOff; ; at += 16) {
    inBlob('memory reservation block', rsvOff, at + 16 - rsvOff);
    const address = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    if (reserved.length >= MAX_RESERVED) throw new FdtError(`more than ${MAX_RESERVED} memory reservations`);
    reserved.push([address, size]);
  }

  const structEnd = structOff + structSize;
  const stringsEnd = stringsOff + stringsSize;
  /** A NUL-terminated string inside [from, end). */
  const cString = (from: number, end: number, what: string): string => {
    const nul = bytes.subarray(0, end).indexOf(0, from);
    if (nul < 0) throw new FdtError(`${what} at offset ${from} is not NUL-terminated inside its block`);
    return textDecoder.decode(bytes.subarray(from, nul));
  };
  let at = structOff;
  const token = (): number => {
    if (at + 4 > structEnd) throw new FdtError(`structure block ends without FDT_END (offset ${at})`);
    const t = word(at);
    at += 4;
    return t;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const name = cString(at, structEnd, 'node name');
      at = (at + name.length + 1 + 3) & ~3;
      const node: FdtNode = { name, props: [], children: [] };
      const parent = stack.at(-1);
      if (parent) parent.children.push(node);
      else if (root) throw new FdtError('more than one root node');
      else root = node;
      stack.push(node);
      if (stack.length > MAX_DEPTH) throw new FdtError(`nodes nest deeper than ${MAX_DEPTH}`);
    } else if (t === FDT_PROP) {
      const node = stack.at(-1);
      if (!node) throw new FdtError(`property outside any node (offset ${at - 4})`);
      const length = token();
      const nameOff = token();
      if (length > structEnd - at) throw new FdtError(`property at offset ${at - 12} is ${length} bytes long, past the structure block`);
      if (nameOff >= stringsSize) throw new FdtError(`property name offset ${nameOff} lies outside the strings block`);
      const p: FdtProp = { name: cString(stringsOff + nameOff, stringsEnd, 'property name'), value: bytes.slice(at, at + length) };
      node.props.push(p);
      at = (at + length + 3) & ~3;
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) throw new FdtError(`FDT_END_NODE without a node (offset ${at - 4})`);
    } else if (t === FDT_END) {
      if (stack.length > 0 || !root) throw new FdtError('structure block ends inside a node');
      break;
    } else {
      throw new FdtError(`unknown structure token 0x${t.toString(16)} at offset ${at - 4}`);
    }
  }
  if (root.name !== '') throw new FdtError('the root node has a name');
  return { root, version, bootCpuid, reserved };
}
