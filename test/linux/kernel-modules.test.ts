/**
 * The module dependency reader (src/node/initramfs/kernel-modules.ts) on made-up modules: a
 * minimal ELF64 with a .modinfo section, in a tree like lib/modules/<version>/kernel. The real
 * kernel's order is checked by test/linux/root-disk.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrder, modinfoStrings, ModuleError } from '../../src/node/initramfs/kernel-modules.js';

/** An ELF64 little-endian file with three sections: null, .shstrtab, .modinfo. */
function module(modinfo: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const names = enc.encode('\0.shstrtab\0.modinfo\0');
  const info = enc.encode(modinfo.map((entry) => `${entry}\0`).join(''));
  const shoff = 64 + names.length + info.length;
  const elf = new Uint8Array(shoff + 3 * 64);
  const view = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setBigUint64(0x28, BigInt(shoff), true);
  view.setUint16(0x3a, 64, true);
  view.setUint16(0x3c, 3, true);
  view.setUint16(0x3e, 1, true);
  elf.set(names, 64);
  elf.set(info, 64 + names.length);
  const section = (i: number, name: number, offset: number, size: number): void => {
    view.setUint32(shoff + i * 64, name, true);
    view.setBigUint64(shoff + i * 64 + 0x18, BigInt(offset), true);
    view.setBigUint64(shoff + i * 64 + 0x20, BigInt(size), true);
  };
  section(1, 1, 64, names.length);
  section(2, 11, 64 + names.length, info.length);
  return elf;
}

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function tree(modules: Record<string, readonly string[]>): string {
  dir = mkdtempSync(join(tmpdir(), 'tagvisor-modules-'));
  for (const [path, info] of Object.entries(modules)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), module(info));
  }
  return dir;
}

describe('kernel module load order from .modinfo', () => {
  it('reads the strings of the .modinfo section', () => {
    expect(modinfoStrings(module(['name=a', 'depends=b,c']))).toEqual(['name=a', 'depends=b,c']);
    expect(() => modinfoStrings(new Uint8Array(64))).toThrow(ModuleError);
  });

  it('puts every depends= module before its user, once, and checks softdep aliases', () => {
    const root = tree({
      'fs/ext4/ext4.ko': ['softdep=pre: crypto-crc32c', 'depends=jbd2,mbcache,crc16', 'name=ext4'],
      'fs/jbd2/jbd2.ko': ['softdep=pre: crypto-crc32c', 'depends=', 'name=jbd2'],
      'fs/mbcache.ko': ['depends=', 'name=mbcache'],
      'lib/crc16.ko': ['depends=', 'name=crc16'],
      'crypto/crc32c_generic.ko': ['alias=crypto-crc32c', 'depends=', 'name=crc32c_generic'],
      'drivers/virtio/virtio-mmio.ko': ['depends=', 'name=virtio_mmio'],
    });
    const order = loadOrder(root, ['virtio-mmio', 'crc32c_generic', 'ext4', 'jbd2']);
    expect(order.map((m) => m.name)).toEqual(['virtio_mmio', 'crc32c_generic', 'jbd2', 'mbcache', 'crc16', 'ext4']);
    expect(order.at(-1)!.path).toBe('fs/ext4/ext4.ko');
    expect(() => loadOrder(root, ['ext4'])).toThrow('jbd2 wants crypto-crc32c loaded first (softdep)');
  });

  it('names a missing module and a dependency cycle', () => {
    const root = tree({ 'a.ko': ['depends=b', 'name=a'], 'b.ko': ['depends=a', 'name=b'], 'c.ko': ['depends=gone', 'name=c'] });
    expect(() => loadOrder(root, ['a'])).toThrow('module dependency cycle: a -> b -> a');
    expect(() => loadOrder(root, ['c'])).toThrow(/no module gone\.ko in .* \(needed by c\)/);
  });
});
