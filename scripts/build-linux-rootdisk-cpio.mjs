// Writes the root-disk initramfs (scripts/build-linux-rootdisk calls it; docs/linux.md, "Root on
// a virtio disk"):
//   node scripts/build-linux-rootdisk-cpio.mjs <out.cpio> <busybox> <init> <lib/modules/<v>/kernel> <module>...
// The modules named and everything they depend on (read from their .modinfo) go to lib/modules/,
// and lib/modules/load-order lists them in an order insmod can follow. Tagvisor's reproducible
// newc writer: entries in a fixed order, owner 0, mtime 0.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNewc } from '../dist/src/node/initramfs/cpio.js';
import { loadOrder } from '../dist/src/node/initramfs/kernel-modules.js';

const [out, busybox, init, modulesDir, ...wanted] = process.argv.slice(2);
if (wanted.length === 0) {
  console.error('usage: node scripts/build-linux-rootdisk-cpio.mjs <out.cpio> <busybox> <init> <lib/modules/<version>/kernel> <module>...');
  process.exit(2);
}
const modules = loadOrder(modulesDir, wanted);
const dir = (name) => ({ kind: 'dir', name, mode: 0o755 });
const file = (name, data, mode) => ({ kind: 'file', name, mode, data });
writeFileSync(out, writeNewc([
  dir('dev'),
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  { kind: 'chardev', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  dir('bin'),
  file('bin/busybox', readFileSync(busybox), 0o755),
  file('init', readFileSync(init), 0o755),
  dir('lib'),
  dir('lib/modules'),
  file('lib/modules/load-order', new TextEncoder().encode(modules.map((m) => `${m.name}\n`).join('')), 0o644),
  ...modules.map((m) => file(`lib/modules/${m.name}.ko`, readFileSync(join(modulesDir, m.path)), 0o644)),
  dir('newroot'),
]));
console.log(modules.map((m) => m.name).join(' '));
