/**
 * What a set of Linux kernel modules needs loaded before it, read from the modules themselves.
 *
 * Debian's kernel package ships no modules.dep (depmod writes it when the package is installed),
 * so the dependencies come from where depmod reads them: each module's `.modinfo` section, a list
 * of NUL-terminated `key=value` strings (`depends=jbd2,mbcache,crc16`, `softdep=pre: crypto-crc32c`,
 * `alias=crc32c`, `name=ext4`). `loadOrder` gives the modules asked for with every `depends=`
 * module first, in an order `insmod` can follow; `softdep=pre:` names an alias (a module the
 * kernel would ask modprobe for), which must be provided by a module of the list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class ModuleError extends Error {
  override readonly name = 'ModuleError';
}

export interface ModuleInfo {
  readonly name: string;
  /** The file, below the kernel's lib/modules/<version>/kernel. */
  readonly path: string;
  readonly depends: readonly string[];
  /** Aliases the module wants loaded before it (`softdep=pre:`), e.g. crypto-crc32c. */
  readonly softPre: readonly string[];
  readonly aliases: readonly string[];
}

/** Module names treat '-' and '_' alike (the kernel's own rule). */
const canonical = (name: string): string => name.replace(/-/g, '_');

/** The `.modinfo` strings of a little-endian ELF64 module. Throws ModuleError on anything else. */
export function modinfoStrings(elf: Uint8Array, what = 'module'): string[] {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || view.getUint32(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new ModuleError(`${what}: not a little-endian ELF64 file`);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > elf.length) throw new ModuleError(`${what}: section headers outside the file`);
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    const offset = Number(view.getBigUint64(at + 0x18, true));
    const size = Number(view.getBigUint64(at + 0x20, true));
    if (offset + size > elf.length) throw new ModuleError(`${what}: section ${i} outside the file`);
    return { name: view.getUint32(at, true), offset, size };
  };
  const names = section(shstrndx);
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const start = names.offset + s.name;
    const end = elf.indexOf(0, start);
    if (end < 0 || end > names.offset + names.size) throw new ModuleError(`${what}: bad section name`);
    if (decoder.decode(elf.subarray(start, end)) === '.modinfo') {
      return decoder.decode(elf.subarray(s.offset, s.offset + s.size)).split('\0').filter((entry) => entry !== '');
    }
  }
  throw new ModuleError(`${what}: no .modinfo section (not a kernel module)`);
}

/** Reads a module's name, dependencies and aliases. */
export function moduleInfo(file: string, path: string): ModuleInfo {
  const entries = modinfoStrings(readFileSync(file), path);
  const values = (key: string): string[] => entries.filter((e) => e.startsWith(`${key}=`)).map((e) => e.slice(key.length + 1));
  const list = (text: string | undefined): string[] => (text ?? '').split(',').filter((n) => n !== '').map(canonical);
  const softPre = values('softdep').flatMap((text) => /^pre:\s*(.*?)(?:\s+post:.*)?$/.exec(text)?.[1]?.split(/\s+/).filter((n) => n !== '') ?? []);
  const name = values('name')[0] ?? path.slice(path.lastIndexOf('/') + 1).replace(/\.ko$/, '');
  return { name: canonical(name), path, depends: list(values('depends')[0]), softPre, aliases: values('alias') };
}

/** Every `.ko` below `dir` by module name (a kernel's module names are unique). */
export function moduleIndex(dir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ko')) index.set(canonical(entry.name.slice(0, -3)), path);
    }
  };
  walk('');
  return index;
}

/**
 * `wanted` (module names) and everything they depend on, each after its dependencies, in
 * `wanted`'s order otherwise; `dir` is the kernel's lib/modules/<version>/kernel. Throws
 * ModuleError for a module that is not there (built in, or misspelt), a dependency cycle, or a
 * `softdep=pre:` alias no earlier module of the list provides.
 */
export function loadOrder(dir: string, wanted: readonly string[]): ModuleInfo[] {
  const index = moduleIndex(dir);
  const order: ModuleInfo[] = [];
  const visiting = new Set<string>();
  const add = (name: string, chain: readonly string[]): void => {
    if (order.some((m) => m.name === name)) return;
    if (visiting.has(name)) throw new ModuleError(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const path = index.get(name);
    if (!path) throw new ModuleError(`no module ${name}.ko in ${dir}${chain.length ? ` (needed by ${chain.at(-1)})` : ''}`);
    visiting.add(name);
    const info = moduleInfo(join(dir, path), path);
    for (const dep of info.depends) add(dep, [...chain, name]);
    visiting.delete(name);
    order.push(info);
  };
  for (const name of wanted) add(canonical(name), []);
  for (const [i, info] of order.entries()) {
    for (const alias of info.softPre) {
      const provided = order.slice(0, i).some((m) => m.name === canonical(alias) || m.aliases.includes(alias));
      if (!provided) throw new ModuleError(`${info.name} wants ${alias} loaded first (softdep), and no module before it in the list provides it`);
    }
  }
  return order;
}
