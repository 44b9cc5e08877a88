import { parseElf, type ElfImage, type ElfSegment } from '../elf.js';
import { parseFdt, writeFdt, FdtError } from '../fdt/index.js';
import { isArm64Image, parseArm64Image } from './arm64-image.js';
import { BootError } from './errors.js';
import { gunzipBounded, isGzip } from './gunzip.js';
import { kernelSegments, layoutKernel, type KernelLayout } from './layout.js';
import { applyChosen, buildVirtTree, type ChosenOptions, type MachineModel } from './virt-tree.js';

export interface KernelBootOptions {
  readonly initrd?: Uint8Array;
  /** The kernel command line (/chosen bootargs). */
  readonly bootargs?: string;
  /** A user's device tree blob instead of the generated one (validated, then /chosen is set). */
  readonly dtb?: Uint8Array;
  /** Boot entropy seed (default 0: every run is the same). */
  readonly seed?: bigint;
}

/** What to load: segments + entry, the device tree placed (if any), and where things went. */
export interface PreparedBoot {
  readonly kind: 'image' | 'elf';
  readonly image: ElfImage;
  /** The blob the guest gets, or null when none is placed in RAM (an ELF low in RAM). */
  readonly dtb: Uint8Array | null;
  readonly layout: KernelLayout | null;
}

/** QEMU's DTB is a 1 MiB blob: it puts it below an ELF only when that much room is free. */
const QEMU_DTB_BLOB = 1024 * 1024;

/**
 * The device tree for a boot: the user's (validated; memory, bootargs, initrd and a seed given
 * on the command line are applied to it) or the one generated from the machine's registry.
 */
export function makeDeviceTree(model: MachineModel, chosen: ChosenOptions, userDtb?: Uint8Array): Uint8Array {
  if (!userDtb) return writeFdt(buildVirtTree(model, { ...chosen, seed: chosen.seed ?? 0n }));
  let parsed;
  try {
    parsed = parseFdt(userDtb);
  } catch (error) {
    if (error instanceof FdtError) throw new BootError(`--dtb: ${error.message}`);
    throw error;
  }
  applyChosen(parsed.root, model, chosen);
  return writeFdt(parsed.root, { bootCpuid: parsed.bootCpuid, reserved: parsed.reserved });
}

/**
 * Every segment inside RAM, or a one-line error (BootError unless `error` says otherwise)
 * naming the segment and, past the end of RAM, the -m it would need.
 */
export function checkSegmentsFit(segments: readonly ElfSegment[], ramBase: number, ramBytes: number, error: (message: string) => Error = (m) => new BootError(m)): void {
  const ramEnd = ramBase + ramBytes;
  const hex = (n: number): string => `0x${n.toString(16)}`;
  for (const s of segments) {
    const end = s.paddr + s.memSize;
    if (s.paddr >= ramBase && end <= ramEnd) continue;
    const need = s.paddr >= ramBase ? `; it needs at least -m ${Math.ceil((end - ramBase) / 2 ** 20)}M` : '';
    throw error(`segment at ${hex(s.paddr)}-${hex(end)} lies outside guest RAM (${hex(ramBase)}-${hex(ramEnd)})${need}`);
  }
}

/**
 * Prepares a `--kernel` boot: an arm64 Image (gzip-compressed or not) gets the Linux boot
 * protocol (docs/linux.md); an ELF file boots as QEMU boots one, at its entry with x0 = 0.
 */
export async function prepareKernelBoot(model: MachineModel, file: Uint8Array, options: KernelBootOptions = {}): Promise<PreparedBoot> {
  const kernel = isGzip(file) ? await gunzipBounded(file, model.ramBytes, 'kernel') : file;
  const chosen: ChosenOptions = { ...(options.bootargs !== undefined ? { bootargs: options.bootargs } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) };
  if (kernel.length >= 4 && kernel[0] === 0x7f && kernel[1] === 0x45 && kernel[2] === 0x4c && kernel[3] === 0x46) return prepareElf(model, kernel, chosen, options);
  if (kernel.length >= 64 && !isArm64Image(kernel)) throw new BootError('neither an arm64 kernel Image (no "ARM\\x64" magic at offset 56) nor an ELF file');
  const header = parseArm64Image(kernel);
  const layout = layoutKernel(model.ramBase, model.ramBytes, header, options.initrd?.length ?? null);
  const dtb = makeDeviceTree(model, { ...chosen, ...(layout.initrd ? { initrd: layout.initrd } : {}) }, options.dtb);
  const segments = kernelSegments(layout, kernel, header.imageSize, dtb, options.initrd ?? null);
  return { kind: 'image', image: { entry: BigInt(layout.stub), segments }, dtb, layout };
}

function prepareElf(model: MachineModel, bytes: Uint8Array, chosen: ChosenOptions, options: KernelBootOptions): PreparedBoot {
  if (options.initrd) throw new BootError('--initrd needs an arm64 Image kernel: an ELF kernel boots without one (QEMU ignores it)');
  const elf = parseElf(bytes);
  checkSegmentsFit(elf.segments, model.ramBase, model.ramBytes);
  const lowest = Math.min(...elf.segments.map((s) => s.paddr));
  const dtb = makeDeviceTree(model, chosen, options.dtb);
  // QEMU's rule for ELF images: the DTB goes to the RAM base only when it fits below the image,
  // and x0 stays 0 (the guest has to know where to look).
  if (lowest - model.ramBase < Math.max(QEMU_DTB_BLOB, dtb.length)) return { kind: 'elf', image: elf, dtb: null, layout: null };
  return { kind: 'elf', image: { entry: elf.entry, segments: [{ paddr: model.ramBase, data: dtb, memSize: dtb.length }, ...elf.segments] }, dtb, layout: null };
}
