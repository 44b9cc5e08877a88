import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_LAST_COMP_VERSION, FDT_MAGIC, FDT_PROP, FDT_VERSION } from './format.js';
import type { FdtNode } from './tree.js';

/** Grows a byte buffer of big-endian words and padded strings. */
class ByteSink {
  private bytes = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u32(value: number): void {
    this.reserve(4);
    new DataView(this.bytes.buffer).setUint32(this.length, value >>> 0);
    this.length += 4;
  }

  /** Bytes followed by zeros up to a 4-byte boundary (the structure block's alignment). */
  padded(data: Uint8Array): void {
    const size = (data.length + 3) & ~3;
    this.reserve(size);
    this.bytes.set(data, this.length);
    this.bytes.fill(0, this.length + data.length, this.length + size);
    this.length += size;
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export interface FdtWriteOptions {
  /** The physical ID of the boot CPU (its `reg` under /cpus). */
  readonly bootCpuid?: number;
  /** /memreserve/ entries: [address, size]. */
  readonly reserved?: readonly (readonly [bigint, bigint])[];
}

const textEncoder = new TextEncoder();

/**
 * Serialises a tree into a version-17 blob: header, memory reservation block, structure block,
 * strings block (property names stored once each). Node and property order is kept.
 */
export function writeFdt(root: FdtNode, options: FdtWriteOptions = {}): Uint8Array {
  if (root.name !== '') throw new RangeError('the root node has no name');
  const strings = new ByteSink();
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let offset = stringOffsets.get(name);
    if (offset === undefined) {
      offset = strings.length;
      strings.raw(textEncoder.encode(`${name}\0`));
      stringOffsets.set(name, offset);
    }
    return offset;
  };
  const struct = new ByteSink();
  const emit = (node: FdtNode): void => {
    struct.u32(FDT_BEGIN_NODE);
    struct.padded(textEncoder.encode(`${node.name}\0`));
    for (const p of node.props) {
      struct.u32(FDT_PROP);
      struct.u32(p.value.length);
      struct.u32(nameOffset(p.name));
      struct.padded(p.value);
    }
    for (const child of node.children) emit(child);
    struct.u32(FDT_END_NODE);
  };
  emit(root);
  struct.u32(FDT_END);

  const reserved = options.reserved ?? [];
  const memRsvOffset = FDT_HEADER_SIZE; // 40 is already 8-byte aligned
  const memRsvSize = (reserved.length + 1) * 16;
  const structOffset = memRsvOffset + memRsvSize;
  const stringsOffset = structOffset + struct.length;
  const total = stringsOffset + strings.length;
  const blob = new Uint8Array(total);
  const view = new DataView(blob.buffer);
  const header = [FDT_MAGIC, total, structOffset, stringsOffset, memRsvOffset, FDT_VERSION, FDT_LAST_COMP_VERSION, options.bootCpuid ?? 0, strings.length, struct.length];
  header.forEach((word, i) => view.setUint32(i * 4, word));
  reserved.forEach(([address, size], i) => {
    view.setBigUint64(memRsvOffset + i * 16, address);
    view.setBigUint64(memRsvOffset + i * 16 + 8, size);
  });
  blob.set(struct.done(), structOffset);
  blob.set(strings.done(), stringsOffset);
  return blob;
}
