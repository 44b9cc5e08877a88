import { stat, readFile, writeFile } from 'node:fs/promises';
import { BootError, makeDeviceTree, prepareKernelBoot, type KernelBootOptions, type PreparedBoot, type VirtMachine } from '../vmm/index.js';
import { ElfError } from '../vmm/elf.js';

/** The Linux boot options of `tagvisor run` (docs/linux.md). */
export interface KernelCliOptions {
  /** An arm64 Image (gzip-compressed or not) or an ELF file, booted as QEMU's -kernel boots it. */
  readonly kernel?: string;
  readonly initrd?: string;
  /** The kernel command line (/chosen bootargs). */
  readonly append?: string;
  /** A device tree blob to boot with instead of the generated one. */
  readonly dtb?: string;
  /** Boot entropy (/chosen rng-seed, kaslr-seed); default 0, so runs are reproducible. */
  readonly seed?: bigint;
  /** Write the device tree the guest would get to this file and exit (QEMU's dumpdtb). */
  readonly dumpDtb?: string;
  /** PSCI SYSTEM_RESET ends the run (exit 0) instead of rebooting (QEMU's -no-reboot). */
  readonly noReboot?: boolean;
}

/** A problem with an input file or option: one line for the user, exit status 2. */
export class KernelInputError extends Error {}

/**
 * Reads a user-named file, refusing what is not a regular file or is larger than `limit` bytes
 * before reading it (a /dev/zero initrd must not fill the host's memory).
 */
async function readBounded(option: string, path: string, limit: number): Promise<Uint8Array> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new KernelInputError(`${option} ${path}: not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof KernelInputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new KernelInputError(`${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
  if (size > limit) throw new KernelInputError(`${option} ${path}: ${size} bytes is larger than guest RAM (${limit} bytes)`);
  return new Uint8Array(await readFile(path));
}

/** A boot error names its file: the kernel's, unless the message already names its option (--dtb: ...). */
function inputErrorText(kernel: string | undefined, message: string): string {
  return message.startsWith('--') || kernel === undefined ? message : `${kernel}: ${message}`;
}

/** Refuses Linux boot options that have nothing to apply to. */
export function checkKernelOptions(options: KernelCliOptions, bareGuest: boolean): string | null {
  if (options.kernel !== undefined || options.dumpDtb !== undefined) return null;
  const given = (['initrd', 'append', 'dtb', 'seed'] as const).filter((name) => options[name] !== undefined);
  if (given.length === 0) return null;
  const names = given.map((name) => `--${name}`).join(', ');
  return bareGuest ? `${names} need --kernel <Image|ELF> (a bare <guest.elf> boots without a device tree, as QEMU boots an ELF)` : `${names} need --kernel <Image|ELF>`;
}

async function bootInputs(options: KernelCliOptions, ramBytes: number): Promise<KernelBootOptions> {
  return {
    ...(options.initrd !== undefined ? { initrd: await readBounded('--initrd', options.initrd, ramBytes) } : {}),
    ...(options.dtb !== undefined ? { dtb: await readBounded('--dtb', options.dtb, ramBytes) } : {}),
    ...(options.append !== undefined ? { bootargs: options.append } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
}

/** Prepares `--kernel` for this machine and loads it. Throws KernelInputError for bad input. */
export async function bootKernel(machine: VirtMachine, options: KernelCliOptions & { readonly kernel: string }): Promise<PreparedBoot> {
  // A gzip Image may be smaller than RAM and decompress to more: gunzip bounds that separately.
  const kernel = await readBounded('--kernel', options.kernel, machine.memoryBytes);
  try {
    const prepared = await prepareKernelBoot(machine.model(), kernel, await bootInputs(options, machine.memoryBytes));
    machine.loadBootImage(prepared.image);
    return prepared;
  } catch (error) {
    if (error instanceof BootError || error instanceof ElfError) throw new KernelInputError(inputErrorText(options.kernel, error.message));
    throw error;
  }
}

/**
 * `--dump-dtb <file>`: the blob the guest would get (with --kernel: with the initrd's place in
 * /chosen; for an ELF kernel that gets none in RAM, the tree of this machine), written to the file.
 */
export async function dumpDeviceTree(machine: VirtMachine, options: KernelCliOptions & { readonly dumpDtb: string }): Promise<void> {
  let dtb: Uint8Array;
  try {
    const inputs = await bootInputs(options, machine.memoryBytes);
    const prepared = options.kernel === undefined ? null : await prepareKernelBoot(machine.model(), await readBounded('--kernel', options.kernel, machine.memoryBytes), inputs);
    const chosen = { ...(inputs.bootargs !== undefined ? { bootargs: inputs.bootargs } : {}), ...(inputs.seed !== undefined ? { seed: inputs.seed } : {}) };
    dtb = prepared?.dtb ?? makeDeviceTree(machine.model(), chosen, inputs.dtb);
  } catch (error) {
    if (error instanceof BootError || error instanceof ElfError) throw new KernelInputError(inputErrorText(options.kernel, error.message));
    throw error;
  }
  try {
    await writeFile(options.dumpDtb, dtb);
  } catch (error) {
    throw new KernelInputError(`--dump-dtb ${options.dumpDtb}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
  }
}
