import type { ElfSegment } from '../elf.js';
import { BootError } from './errors.js';
import type { Arm64ImageHeader } from './arm64-image.js';

const MiB = 1024 * 1024;
/** The boot stub's page: a few instructions at the start of RAM, as QEMU's loader writes. */
export const BOOT_STUB_OFFSET = 0;
/** The device tree follows the stub in the first 2 MiB of RAM, so it never crosses a 2 MiB boundary. */
export const DTB_OFFSET = 0x1000;
export const DTB_MAX_BYTES = 2 * MiB - DTB_OFFSET;
/** The kernel's 2 MiB aligned base: the second 2 MiB block of RAM (QEMU uses the same). */
export const KERNEL_BASE_OFFSET = 2 * MiB;
/** The initrd starts on a 64 KiB boundary (the largest arm64 page) after the kernel's image_size. */
const INITRD_ALIGN = 64 * 1024;

/** Where a kernel boot puts each piece, as guest physical addresses. */
export interface KernelLayout {
  readonly stub: number;
  readonly dtb: number;
  readonly kernel: number;
  readonly kernelEnd: number;
  readonly initrd: { readonly start: number; readonly end: number } | null;
}

const alignUp = (value: number, align: number): number => Math.ceil(value / align) * align;
const mib = (bytes: number): string => `${Math.ceil(bytes / MiB)}M`;

/**
 * Places the kernel, initrd and device tree in RAM (docs/linux.md, "Where things go"): stub at
 * the RAM base, DTB at +4 KiB, kernel at base + 2 MiB + text_offset, initrd after the kernel.
 * Refuses what cannot boot here, saying what would be needed.
 */
export function layoutKernel(ramBase: number, ramBytes: number, header: Arm64ImageHeader, initrdBytes: number | null): KernelLayout {
  if (header.bigEndian) throw new BootError('kernel Image is big-endian; Tagvisor runs little-endian guests only');
  if (header.pageSize === '16K' || header.pageSize === '64K') throw new BootError(`kernel Image needs ${header.pageSize} pages; Tagvisor's CPU implements the 4 KiB translation granule only`);
  const kernel = ramBase + KERNEL_BASE_OFFSET + header.textOffset;
  const kernelEnd = kernel + header.imageSize;
  const ramEnd = ramBase + ramBytes;
  if (header.imageSize > ramBytes) throw new BootError(`kernel image_size ${mib(header.imageSize)} is bigger than guest RAM (${mib(ramBytes)})`);
  let initrd: KernelLayout['initrd'] = null;
  let end = kernelEnd;
  if (initrdBytes !== null) {
    const start = alignUp(kernelEnd, INITRD_ALIGN);
    initrd = { start, end: start + initrdBytes };
    end = initrd.end;
  }
  if (end > ramEnd) {
    const parts = `the kernel (${mib(header.imageSize)} at +${mib(kernel - ramBase)})${initrd ? ` and the initrd (${mib(initrdBytes!)})` : ''}`;
    throw new BootError(`-m ${mib(ramBytes)} cannot hold ${parts}: give at least -m ${mib(end - ramBase)}`);
  }
  return { stub: ramBase + BOOT_STUB_OFFSET, dtb: ramBase + DTB_OFFSET, kernel, kernelEnd, initrd };
}

/**
 * The boot stub: x0 = DTB address, x1..x3 = 0, then a branch to the kernel (booting.rst's entry
 * state; MMU and caches are off and DAIF masked after reset). It lives in RAM so a snapshot or a
 * migration carries it and a reset re-runs it.
 *
 *   ldr x0, dtb ; mov x1, xzr ; mov x2, xzr ; mov x3, xzr ; ldr x4, entry ; br x4 ; dtb: .quad ; entry: .quad
 */
export function bootStub(dtb: number, entry: number): Uint8Array {
  const words = [0x5800_00c0, 0xaa1f_03e1, 0xaa1f_03e2, 0xaa1f_03e3, 0x5800_0084, 0xd61f_0080];
  const stub = new Uint8Array(words.length * 4 + 16);
  const view = new DataView(stub.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  view.setBigUint64(24, BigInt(dtb), true);
  view.setBigUint64(32, BigInt(entry), true);
  return stub;
}

/** The segments a kernel boot loads: stub, DTB, kernel (zeros up to image_size), initrd. */
export function kernelSegments(layout: KernelLayout, kernel: Uint8Array, imageSize: number, dtb: Uint8Array, initrd: Uint8Array | null): ElfSegment[] {
  if (dtb.length > DTB_MAX_BYTES) throw new BootError(`device tree of ${dtb.length} bytes does not fit the ${DTB_MAX_BYTES} bytes below the kernel`);
  const stub = bootStub(layout.dtb, layout.kernel);
  const segments: ElfSegment[] = [
    { paddr: layout.stub, data: stub, memSize: stub.length },
    { paddr: layout.dtb, data: dtb, memSize: dtb.length },
    { paddr: layout.kernel, data: kernel, memSize: imageSize },
  ];
  if (initrd && layout.initrd) segments.push({ paddr: layout.initrd.start, data: initrd, memSize: initrd.length });
  return segments;
}
