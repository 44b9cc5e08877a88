import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FdtError, fdtNode, findNode, parseFdt, prop, writeFdt } from '../../src/vmm/fdt/index.js';

const be32 = (bytes: Uint8Array, at: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at);

function sampleTree() {
  return fdtNode('', [prop.cells('#address-cells', 2), prop.strings('compatible', 'a,b', 'c')], [
    fdtNode('chosen', [prop.strings('bootargs', 'console=ttyAMA0'), prop.empty('flag')]),
    fdtNode('memory@40000000', [prop.u64('reg', 0x4000_0000, 0x1000_0000), prop.strings('compatible', 'x')]),
  ]);
}

describe('FDT writer', () => {
  it('lays out header, reservation map, structure and strings as the specification says', () => {
    const blob = writeFdt(sampleTree(), { bootCpuid: 3, reserved: [[0x1000n, 0x2000n]] });
    expect(be32(blob, 0)).toBe(0xd00dfeed);
    expect(be32(blob, 4)).toBe(blob.length); // totalsize
    const [structOff, stringsOff, rsvOff, version, lastComp, cpuid, stringsSize, structSize] = [8, 12, 16, 20, 24, 28, 32, 36].map((at) => be32(blob, at));
    expect([version, lastComp, cpuid]).toEqual([17, 16, 3]);
    expect(rsvOff! % 8).toBe(0);
    expect(structOff).toBe(rsvOff! + 2 * 16); // one entry + the terminator
    expect(stringsOff).toBe(structOff! + structSize!);
    expect(stringsOff! + stringsSize!).toBe(blob.length);
    expect(be32(blob, structOff!)).toBe(1); // FDT_BEGIN_NODE (root)
    expect(be32(blob, structOff! + structSize! - 4)).toBe(9); // FDT_END
    // "compatible" is stored once in the strings block although two nodes use it.
    const strings = new TextDecoder().decode(blob.subarray(stringsOff!, stringsOff! + stringsSize!));
    expect(strings.split('\0').filter((s) => s === 'compatible')).toHaveLength(1);
  });

  it('round-trips through the reader: nodes, properties, order, reservations', () => {
    const parsed = parseFdt(writeFdt(sampleTree(), { reserved: [[0x1000n, 0x2000n]] }));
    expect(parsed.reserved).toEqual([[0x1000n, 0x2000n]]);
    expect(parsed.root.children.map((c) => c.name)).toEqual(['chosen', 'memory@40000000']);
    const chosen = findNode(parsed.root, '/chosen')!;
    expect(new TextDecoder().decode(chosen.props[0]!.value)).toBe('console=ttyAMA0\0');
    expect(chosen.props[1]).toEqual({ name: 'flag', value: new Uint8Array(0) });
    expect(Array.from(findNode(parsed.root, '/memory@40000000')!.props[0]!.value)).toEqual([0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]);
  });

  it('refuses values a cell cannot hold and strings with NUL', () => {
    expect(() => prop.cells('x', 2 ** 32)).toThrow(RangeError);
    expect(() => prop.strings('x', 'a\0b')).toThrow(RangeError);
  });
});

describe('FDT reader refuses a hostile blob with a one-line reason', () => {
  const good = writeFdt(sampleTree());
  const patched = (at: number, value: number, bytes = good): Uint8Array => {
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint32(at, value);
    return copy;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', good.subarray(0, 20), /too short/],
    ['bad magic', patched(0, 0xdeadbeef), /not a device tree blob/],
    ['old version', patched(20, 15), /version 15 is too old/],
    ['future last_comp_version', patched(24, 18), /needs a reader of version 18/],
    ['totalsize past the file', patched(4, good.length + 1), /exceeds the file size/],
    ['totalsize below the header', patched(4, 8), /smaller than the header/],
    ['structure block past totalsize', patched(36, good.length), /structure block .* outside the blob/],
    ['strings block past totalsize', patched(32, good.length), /strings block .* outside the blob/],
    ['unaligned reservation map', patched(16, 44), /not 8-byte aligned/],
    ['truncated file', good.subarray(0, good.length - 8), /exceeds the file size/],
  ];
  for (const [what, blob, message] of cases) {
    it(what, () => expect(() => parseFdt(blob)).toThrow(message));
  }

  it('a property name offset outside the strings block', () => {
    // The first property of the root: token, len, nameoff right after the root's (empty) name.
    const structOff = be32(good, 8);
    expect(() => parseFdt(patched(structOff + 8 + 8, 0x7fff_ffff))).toThrow(FdtError);
  });

  it('a property length past the structure block', () => {
    const structOff = be32(good, 8);
    expect(() => parseFdt(patched(structOff + 8 + 4, 0x10_0000))).toThrow(/past the structure block/);
  });

  it('every truncation of a good blob is refused or parsed, never a crash', () => {
    for (let n = 0; n < good.length; n++) {
      const copy = good.slice(0, n);
      try {
        parseFdt(copy);
      } catch (error) {
        expect(error).toBeInstanceOf(FdtError);
      }
    }
  });

  it('random byte mutations of a good blob are parsed or refused with FdtError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const copy = good.slice();
        for (const [at, value] of edits) copy[at] = value;
        try {
          parseFdt(copy);
        } catch (error) {
          if (!(error instanceof FdtError)) throw error;
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
