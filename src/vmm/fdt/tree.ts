/**
 * A flattened device tree in memory: nodes with named properties whose values are the raw
 * big-endian bytes the blob holds (Devicetree Specification v0.4, chapter 2 and 5).
 */
export interface FdtNode {
  /** Node name with its unit address ("pl011@9000000"); the root's name is "". */
  readonly name: string;
  readonly props: FdtProp[];
  readonly children: FdtNode[];
}

export interface FdtProp {
  readonly name: string;
  readonly value: Uint8Array;
}

export function fdtNode(name: string, props: FdtProp[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props, children };
}

const textEncoder = new TextEncoder();

/** Property value encoders (all multi-byte values big-endian, as the format requires). */
export const prop = {
  /** A property with no value (a boolean such as `interrupt-controller`). */
  empty(name: string): FdtProp {
    return { name, value: new Uint8Array(0) };
  },
  /** One or more 32-bit cells. */
  cells(name: string, ...cells: readonly number[]): FdtProp {
    const value = new Uint8Array(cells.length * 4);
    const view = new DataView(value.buffer);
    cells.forEach((cell, i) => {
      if (!Number.isInteger(cell) || cell < 0 || cell > 0xffff_ffff) throw new RangeError(`${name}: cell ${cell} is not a 32-bit value`);
      view.setUint32(i * 4, cell);
    });
    return { name, value };
  },
  /** 64-bit values, two cells each (a `reg` with #address-cells = #size-cells = 2). */
  u64(name: string, ...values: readonly (number | bigint)[]): FdtProp {
    const value = new Uint8Array(values.length * 8);
    const view = new DataView(value.buffer);
    values.forEach((v, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v))));
    return { name, value };
  },
  /** A NUL-terminated string; several strings make a string list (`compatible`). */
  strings(name: string, ...strings: readonly string[]): FdtProp {
    const parts = strings.map((s) => {
      if (s.includes('\0')) throw new RangeError(`${name}: a string may not contain NUL`);
      return textEncoder.encode(`${s}\0`);
    });
    const value = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      value.set(part, at);
      at += part.length;
    }
    return { name, value };
  },
  bytes(name: string, value: Uint8Array): FdtProp {
    return { name, value: value.slice() };
  },
};

/** The node at `path` ("/chosen", "/cpus/cpu@0"), or undefined. */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
  }
  return node;
}

/** Sets (replaces or appends) a property of `node`. */
export function setProp(node: FdtNode, value: FdtProp): void {
  const at = node.props.findIndex((p) => p.name === value.name);
  if (at >= 0) node.props[at] = value;
  else node.props.push(value);
}

/** The node named `name` under `parent`, created (empty) when missing. */
export function childNode(parent: FdtNode, name: string): FdtNode {
  let node = parent.children.find((c) => c.name === name);
  if (!node) {
    node = fdtNode(name);
    parent.children.push(node);
  }
  return node;
}
