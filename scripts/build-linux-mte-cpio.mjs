// Writes the MTE initramfs (scripts/build-linux-mte-initramfs calls it; docs/linux.md):
//   node scripts/build-linux-mte-cpio.mjs <out.cpio> <busybox> <init> <tagged-heap> <kselftest dir> [<module.ko>...]
// with Tagvisor's reproducible newc writer: entries in a fixed order, owner 0, mtime 0. Modules go
// to /lib/modules/<name>.ko, in the order given (/init loads them only when asked: tv_disk=1).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeNewc } from '../dist/src/node/initramfs/cpio.js';

const [out, busybox, init, taggedHeap, kselftests, ...modules] = process.argv.slice(2);
if (!kselftests) {
  console.error('usage: node scripts/build-linux-mte-cpio.mjs <out.cpio> <busybox> <init> <tagged-heap> <kselftest dir> [<module.ko>...]');
  process.exit(2);
}
const dir = (name) => ({ kind: 'dir', name, mode: 0o755 });
const program = (name, path) => ({ kind: 'file', name, mode: 0o755, data: readFileSync(path) });
const tests = readdirSync(kselftests).sort();
const entries = [
  dir('dev'),
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  { kind: 'chardev', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  dir('bin'),
  program('bin/busybox', busybox),
  program('bin/tagged-heap', taggedHeap),
  program('init', init),
  dir('opt'),
  dir('opt/mte'),
  ...tests.map((name) => program(`opt/mte/${name}`, join(kselftests, name))),
  ...(modules.length > 0 ? [dir('lib'), dir('lib/modules')] : []),
  ...modules.map((path) => ({ kind: 'file', name: `lib/modules/${basename(path)}`, mode: 0o644, data: readFileSync(path) })),
];
writeFileSync(out, writeNewc(entries));
