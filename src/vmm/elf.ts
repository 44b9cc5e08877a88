/** A loadable segment of an ELF image: `data` goes at physical address `paddr`, then zeros up to `memSize`. */
export interface ElfSegment {
  readonly paddr: number;
  readonly data: Uint8Array;
  readonly memSize: number;
}

/** A parsed guest image: where execution starts and what to load where. */
export interface ElfImage {
  /** The entry point (the vCPU starts there at EL1h, MMU off). */
  readonly entry: bigint;
  /** PT_LOAD segments, each copied into guest RAM at its physical address. */
  readonly segments: readonly ElfSegment[];
}

/** A malformed or unsupported ELF file: the message is one line for the user. */
export class ElfError extends Error {
  override readonly name = 'ElfError';
}

const EM_AARCH64 = 183;
const PT_LOAD = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const MAX_SEGMENTS = 256;

/**
 * Parses an AArch64 ELF64 little-endian executable. Every offset and size in the file is checked
 * before it is used; the file is untrusted. Segments load at their physical addresses (p_paddr),
 * as QEMU's -kernel does for ELF images.
 */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (bytes.length < 64) throw new ElfError(`file too short for an ELF header (${bytes.length} bytes)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new ElfError('not an ELF file (bad magic)');
  if (bytes[4] !== 2) throw new ElfError('not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)');
  if (bytes[5] !== 1) throw new ElfError('not a little-endian ELF file (EI_DATA is not ELFDATA2LSB)');
  if (bytes[6] !== 1) throw new ElfError(`unsupported ELF version ${bytes[6]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_AARCH64) throw new ElfError(`not an AArch64 ELF file (e_machine ${machine}, expected ${EM_AARCH64})`);
  if (type !== ET_EXEC && type !== ET_DYN) throw new ElfError(`not an executable ELF file (e_type ${type})`);
  const entry = view.getBigUint64(24, true);
  const phoff = view.getBigUint64(32, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phnum === 0) throw new ElfError('ELF file has no program headers');
  if (phnum > MAX_SEGMENTS) throw new ElfError(`ELF file has ${phnum} program headers (limit ${MAX_SEGMENTS})`);
  if (phentsize < 56) throw new ElfError(`program header entry size ${phentsize} is too small`);
  const tableEnd = phoff + BigInt(phentsize) * BigInt(phnum);
  if (tableEnd > BigInt(bytes.length)) throw new ElfError('program header table extends past the end of the file');
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getBigUint64(at + 8, true);
    const paddr = view.getBigUint64(at + 24, true);
    const filesz = view.getBigUint64(at + 32, true);
    const memsz = view.getBigUint64(at + 40, true);
    if (filesz > memsz) throw new ElfError(`segment ${i}: file size ${filesz} exceeds memory size ${memsz}`);
    if (offset + filesz > BigInt(bytes.length)) throw new ElfError(`segment ${i}: data at offset ${offset}+${filesz} extends past the end of the file`);
    if (paddr + memsz > 2n ** 52n) throw new ElfError(`segment ${i}: physical address 0x${paddr.toString(16)}+0x${memsz.toString(16)} is out of range`);
    if (memsz === 0n) continue;
    segments.push({ paddr: Number(paddr), data: bytes.subarray(Number(offset), Number(offset + filesz)), memSize: Number(memsz) });
  }
  if (segments.length === 0) throw new ElfError('ELF file has no loadable segments');
  refuseOverlaps(segments);
  return { entry, segments };
}

/**
 * Two segments loading over each other are refused (QEMU would load the later one over the
 * earlier): no real image does it, and without overlaps the memory a load touches is bounded by
 * the guest's RAM, whatever the segment count (docs/devices.md, "ELF images").
 */
function refuseOverlaps(segments: readonly ElfSegment[]): void {
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current.paddr < previous.paddr + previous.memSize) {
      const range = (s: ElfSegment) => `0x${s.paddr.toString(16)}-0x${(s.paddr + s.memSize).toString(16)}`;
      throw new ElfError(`segments at ${range(previous)} and ${range(current)} overlap`);
    }
  }
}

const ZERO_CHUNK = new Uint8Array(64 * 1024);

/** Writes `length` zero bytes at `gpa` through `write` in bounded chunks (a 256 MiB bss allocates nothing). */
export function writeZeros(write: (gpa: number, bytes: Uint8Array) => void, gpa: number, length: number): void {
  for (let done = 0; done < length; done += ZERO_CHUNK.length) write(gpa + done, ZERO_CHUNK.subarray(0, Math.min(ZERO_CHUNK.length, length - done)));
}
