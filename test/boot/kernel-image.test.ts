import { describe, expect, it } from 'vitest';
import { BootError, bootStub, layoutKernel, parseArm64Image, prepareKernelBoot, VirtMachine, type MachineModel } from '../../src/vmm/index.js';
import { parseFdt } from '../../src/vmm/fdt/index.js';
import { assemble, assemblerAvailable } from '../support/asm.js';

const MiB = 2 ** 20;
const model = (ramBytes = 256 * MiB): MachineModel => new VirtMachine({ memoryBytes: ramBytes }).model();

/** A minimal Image: the header and a few bytes of "code". */
function image({ textOffset = 0n, imageSize = 4096n, flags = 2n, length = 4096, magic = 0x644d_5241 } = {}): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  if (length >= 64) {
    view.setBigUint64(8, textOffset, true);
    view.setBigUint64(16, imageSize, true);
    view.setBigUint64(24, flags, true);
    view.setUint32(56, magic, true);
  }
  return bytes;
}

const gzip = async (bytes: Uint8Array): Promise<Uint8Array> => new Uint8Array(await new Response(new Blob([bytes.slice()]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());

describe('arm64 Image header', () => {
  it('reads text_offset, image_size and flags', () => {
    expect(parseArm64Image(image({ textOffset: 0x8_0000n, imageSize: 0x20_0000n, flags: 0xan }))).toEqual({ textOffset: 0x8_0000, imageSize: 0x20_0000, bigEndian: false, pageSize: '4K', placeAnywhere: true });
  });

  it('treats image_size 0 as a pre-3.17 kernel: text_offset 0x80000', () => {
    expect(parseArm64Image(image({ imageSize: 0n, textOffset: 0x1234n })).textOffset).toBe(0x8_0000);
  });

  it.each([
    ['a truncated image', image({ length: 63 }), /truncated kernel Image: 63 bytes/],
    ['bad magic', image({ magic: 0x1234 }), /not an arm64 kernel Image/],
    ['a text_offset outside 2 MiB', image({ textOffset: 0x20_0000n }), /text_offset 0x200000/],
  ])('refuses %s', (_what, bytes, message) => {
    expect(() => parseArm64Image(bytes)).toThrow(BootError);
    expect(() => parseArm64Image(bytes)).toThrow(message);
  });
});

describe('kernel placement', () => {
  const header = parseArm64Image(image({ imageSize: 3n * BigInt(MiB) + 5n }));

  it('stub and DTB at the start of RAM, kernel at +2 MiB + text_offset, initrd after image_size on 64 KiB', () => {
    expect(layoutKernel(0x4000_0000, 256 * MiB, header, 100)).toEqual({ stub: 0x4000_0000, dtb: 0x4000_1000, kernel: 0x4020_0000, kernelEnd: 0x4050_0005, initrd: { start: 0x4051_0000, end: 0x4051_0064 } });
  });

  it('refuses a RAM size that cannot hold kernel + initrd, saying what is needed', () => {
    expect(() => layoutKernel(0x4000_0000, 8 * MiB, header, 4 * MiB)).toThrow(/-m 8M cannot hold the kernel \(4M at \+2M\) and the initrd \(4M\): give at least -m 10M/);
  });

  it('refuses image_size bigger than RAM', () => {
    expect(() => layoutKernel(0x4000_0000, 2 * MiB, parseArm64Image(image({ imageSize: 3n * BigInt(MiB) })), null)).toThrow(/image_size 3M is bigger than guest RAM \(2M\)/);
  });

  it('refuses big-endian kernels and 16K/64K page kernels', () => {
    expect(() => layoutKernel(0x4000_0000, 256 * MiB, parseArm64Image(image({ flags: 1n })), null)).toThrow(/big-endian/);
    expect(() => layoutKernel(0x4000_0000, 256 * MiB, parseArm64Image(image({ flags: 6n })), null)).toThrow(/64K pages/);
  });

  it.runIf(assemblerAvailable())('the boot stub is the instructions the assembler makes of it', () => {
    const expected = assemble('ldr x0, 1f\nmov x1, xzr\nmov x2, xzr\nmov x3, xzr\nldr x4, 2f\nbr x4\n1: .quad 0x40001000\n2: .quad 0x40200000');
    expect(Array.from(bootStub(0x4000_1000, 0x4020_0000))).toEqual(Array.from(expected));
  });
});

describe('prepareKernelBoot', () => {
  it('loads stub, DTB, kernel and initrd; the DTB names the initrd and the command line', async () => {
    const boot = await prepareKernelBoot(model(), image(), { initrd: new Uint8Array(1000), bootargs: 'quiet' });
    expect(boot.image.entry).toBe(0x4000_0000n);
    expect(boot.image.segments.map((s) => [s.paddr, s.memSize])).toEqual([
      [0x4000_0000, 40],
      [0x4000_1000, boot.dtb!.length],
      [0x4020_0000, 4096],
      [0x4021_0000, 1000],
    ]);
    const chosen = parseFdt(boot.dtb!).root.children.find((n) => n.name === 'chosen')!;
    const value = (name: string): Uint8Array => chosen.props.find((p) => p.name === name)!.value;
    expect(new TextDecoder().decode(value('bootargs'))).toBe('quiet\0');
    expect(new DataView(value('linux,initrd-start').buffer).getBigUint64(0)).toBe(0x4021_0000n);
    expect(new DataView(value('linux,initrd-end').buffer).getBigUint64(0)).toBe(0x4021_0000n + 1000n);
  });

  it('accepts a gzip-compressed Image', async () => {
    const plain = await prepareKernelBoot(model(), image());
    const packed = await prepareKernelBoot(model(), await gzip(image()));
    expect(packed.image.segments[2]!.data).toEqual(plain.image.segments[2]!.data);
  });

  it('stops decompressing at the RAM size (a gzip bomb) and refuses corrupt gzip', async () => {
    const bomb = await gzip(new Uint8Array(4 * MiB));
    await expect(prepareKernelBoot(model(2 * MiB), bomb)).rejects.toThrow(/decompresses to more than 2097152 bytes/);
    const corrupt = (await gzip(image())).slice(0, 30);
    await expect(prepareKernelBoot(model(), corrupt)).rejects.toThrow(/not valid gzip data/);
  });

  it('refuses an initrd that does not fit, and a file that is neither Image nor ELF', async () => {
    await expect(prepareKernelBoot(model(4 * MiB), image(), { initrd: new Uint8Array(3 * MiB) })).rejects.toThrow(/give at least -m 6M/);
    await expect(prepareKernelBoot(model(), new Uint8Array(4096))).rejects.toThrow(/neither an arm64 kernel Image .* nor an ELF file/);
  });

  it('validates a user DTB and applies memory, bootargs and initrd to it', async () => {
    const bad = new Uint8Array(64);
    await expect(prepareKernelBoot(model(), image(), { dtb: bad })).rejects.toThrow(/^--dtb: not a device tree blob/);
    const first = await prepareKernelBoot(model(), image(), { bootargs: 'one' });
    const second = await prepareKernelBoot(model(512 * MiB), image(), { dtb: first.dtb!, bootargs: 'two' });
    const root = parseFdt(second.dtb!).root;
    const memory = root.children.find((n) => n.name === 'memory@40000000')!.props.find((p) => p.name === 'reg')!.value;
    expect(new DataView(memory.buffer).getBigUint64(8)).toBe(512n * BigInt(MiB));
    expect(new TextDecoder().decode(root.children.find((n) => n.name === 'chosen')!.props.find((p) => p.name === 'bootargs')!.value)).toBe('two\0');
  });
});
