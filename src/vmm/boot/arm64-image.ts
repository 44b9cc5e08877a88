import { BootError } from './errors.js';

/**
 * The arm64 Linux `Image` header (Linux Documentation/arch/arm64/booting.rst, "Call the kernel
 * image"): 64 bytes at the start of the file.
 *
 *   0  code0, code1      executable code (a branch to the real entry)
 *   8  text_offset       load offset from a 2 MiB aligned base, little-endian
 *  16  image_size        effective size of the image in memory (BSS included), little-endian
 *  24  flags             bit 0: big-endian; bits 1-2: page size; bit 3: placement anywhere
 *  32  res2, res3, res4
 *  56  magic             "ARM\x64"
 *  60  res5              offset to the PE header (EFI stub)
 */
export const ARM64_IMAGE_HEADER_SIZE = 64;
const MAGIC = 0x644d_5241; // "ARM\x64" read little-endian
/** Kernels before 3.17 have image_size 0 and a fixed text_offset of 0x80000 (booting.rst). */
const LEGACY_TEXT_OFFSET = 0x8_0000;

export type KernelPageSize = 'unspecified' | '4K' | '16K' | '64K';

export interface Arm64ImageHeader {
  readonly textOffset: number;
  /** Bytes the kernel occupies from its load address, never less than the file. */
  readonly imageSize: number;
  readonly bigEndian: boolean;
  readonly pageSize: KernelPageSize;
  /** Flags bit 3: the 2 MiB aligned base may be anywhere in RAM (else close to its start). */
  readonly placeAnywhere: boolean;
}

/** True when the file carries the arm64 Image magic (used to tell an Image from an ELF). */
export function isArm64Image(bytes: Uint8Array): boolean {
  return bytes.length >= ARM64_IMAGE_HEADER_SIZE && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(56, true) === MAGIC;
}

/** Reads and validates the header of an untrusted Image. */
export function parseArm64Image(bytes: Uint8Array): Arm64ImageHeader {
  if (bytes.length < ARM64_IMAGE_HEADER_SIZE) throw new BootError(`truncated kernel Image: ${bytes.length} bytes, the header alone is ${ARM64_IMAGE_HEADER_SIZE}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(56, true);
  if (magic !== MAGIC) throw new BootError(`not an arm64 kernel Image (magic at offset 56 is 0x${magic.toString(16).padStart(8, '0')}, expected "ARM\\x64")`);
  const textOffset = view.getBigUint64(8, true);
  const imageSize = view.getBigUint64(16, true);
  const flags = view.getBigUint64(24, true);
  const legacy = imageSize === 0n;
  const offset = legacy ? BigInt(LEGACY_TEXT_OFFSET) : textOffset;
  if (offset >= 2n ** 21n || offset % 4096n !== 0n) throw new BootError(`kernel Image text_offset 0x${offset.toString(16)} is not a page-aligned offset inside a 2 MiB block`);
  if (imageSize > 2n ** 40n) throw new BootError(`kernel Image image_size 0x${imageSize.toString(16)} is implausibly large`);
  const pageSize = (['unspecified', '4K', '16K', '64K'] as const)[Number((flags >> 1n) & 3n)]!;
  return {
    textOffset: Number(offset),
    imageSize: Math.max(Number(imageSize), bytes.length),
    bigEndian: (flags & 1n) !== 0n,
    pageSize,
    placeAnywhere: !legacy && (flags & 8n) !== 0n,
  };
}
