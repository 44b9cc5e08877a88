/**
 * The Linux boot test's kernel and initramfs (docs/linux.md): Debian's arm64 kernel from the
 * package cache that scripts/fetch-linux-packages fills, and an initramfs holding
 * guests/linux/build/init and the virtio modules Debian builds as modules.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeNewc, type CpioEntry } from './cpio.js';

/** Where scripts/fetch-linux-packages keeps the packages, relative to the repository. */
export const PACKAGE_CACHE = '.cache/debian-arm64';

/**
 * Modules /init loads, in this order (guests/linux/init.c names the same paths). Debian's config
 * builds the virtio core in (CONFIG_VIRTIO=y) and these three as modules, none depending on another.
 */
export const INIT_MODULES = ['virtio_mmio', 'virtio_blk', 'virtio_console'] as const;

/**
 * The kernel command line of the boot test and benchmark. nokaslr: Tagvisor has no FEAT_E0PD, so
 * a randomised kernel would turn KPTI on for Tagvisor only (docs/linux.md, "Comparing with QEMU").
 */
export const TEST_CMDLINE = 'console=ttyAMA0 nokaslr';

export interface DebianKernel {
  /** The kernel's release, e.g. 6.1.0-57-arm64. */
  readonly version: string;
  /** The arm64 Image (Debian's vmlinuz is the uncompressed Image). */
  readonly image: string;
  readonly systemMap: string;
  readonly config: string;
  /** lib/modules/<version>. */
  readonly modulesDir: string;
}

/** The kernel in the cache under `repo`, or the reason there is none (a one-line message). */
export function findDebianKernel(repo: string): DebianKernel | string {
  const cache = join(repo, PACKAGE_CACHE);
  if (!existsSync(join(cache, 'complete'))) return `no Debian package cache in ${cache} (run scripts/fetch-linux-packages as root)`;
  const version = readFileSync(join(cache, 'kernel-version'), 'utf8').trim();
  const root = join(cache, 'root');
  const kernel: DebianKernel = {
    version,
    image: join(root, 'boot', `vmlinuz-${version}`),
    systemMap: join(root, 'boot', `System.map-${version}`),
    config: join(root, 'boot', `config-${version}`),
    modulesDir: join(root, 'lib', 'modules', version),
  };
  for (const path of [kernel.image, kernel.systemMap, kernel.config, kernel.modulesDir]) {
    if (!existsSync(path)) return `${path} is missing from the package cache (delete ${cache} and run scripts/fetch-linux-packages)`;
  }
  return kernel;
}

/** Finds `<name>.ko` below `dir` (module file names are unique in a kernel's tree). */
function findModule(dir: string, name: string): string | null {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findModule(path, name);
      if (found) return found;
    } else if (entry.name === `${name}.ko`) {
      return path;
    }
  }
  return null;
}

/** The path of each of INIT_MODULES in the kernel's tree. Throws when one is missing. */
export function initModulePaths(kernel: DebianKernel): string[] {
  return INIT_MODULES.map((name) => {
    const path = findModule(join(kernel.modulesDir, 'kernel'), name);
    if (!path) throw new Error(`${name}.ko is not in ${kernel.modulesDir} (built into this kernel?)`);
    return path;
  });
}

/**
 * The test initramfs: /dev with a console node (the kernel opens /dev/console for init's stdio
 * before init runs, and devtmpfs is not mounted yet), /init, and /lib/modules/<name>.ko.
 * Byte for byte the same for the same init and modules.
 */
export function buildTestInitramfs(init: Uint8Array, kernel: DebianKernel): Uint8Array {
  const modules = initModulePaths(kernel);
  const entries: CpioEntry[] = [
    { kind: 'dir', name: 'dev', mode: 0o755 },
    { kind: 'chardev', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    { kind: 'file', name: 'init', mode: 0o755, data: init },
    { kind: 'dir', name: 'lib', mode: 0o755 },
    { kind: 'dir', name: 'lib/modules', mode: 0o755 },
    ...modules.map((path, i): CpioEntry => ({ kind: 'file', name: `lib/modules/${INIT_MODULES[i]}.ko`, mode: 0o644, data: readFileSync(path) })),
  ];
  return writeNewc(entries);
}

/** guests/linux/build/init under `repo`, or the reason it cannot be used. */
export function testInit(repo: string): Uint8Array | string {
  const path = join(repo, 'guests', 'linux', 'build', 'init');
  if (!existsSync(path) || !statSync(path).isFile()) return `${path} is missing (make -C guests/linux)`;
  return readFileSync(path);
}
