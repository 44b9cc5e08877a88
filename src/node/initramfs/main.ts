/**
 * Writes the Linux boot test's initramfs (docs/linux.md, "The initramfs"):
 *
 *   node dist/src/node/initramfs/main.js <out.cpio> [<repository>]
 *
 * The repository (default: the current directory) provides guests/linux/build/init and the
 * package cache. Exit status 0 written, 2 bad usage or missing inputs (a one-line message).
 */
import { writeFileSync } from 'node:fs';
import { buildTestInitramfs, findDebianKernel, testInit } from './linux-test.js';

function main(args: readonly string[]): number {
  const [out, repo = '.'] = args;
  if (!out || args.length > 2) {
    console.error('usage: node dist/src/node/initramfs/main.js <out.cpio> [<repository>]');
    return 2;
  }
  const kernel = findDebianKernel(repo);
  const init = testInit(repo);
  if (typeof kernel === 'string' || typeof init === 'string') {
    console.error(`initramfs: ${typeof kernel === 'string' ? kernel : init}`);
    return 2;
  }
  const bytes = buildTestInitramfs(init, kernel);
  writeFileSync(out, bytes);
  console.log(`initramfs: ${out}, ${bytes.length} bytes (kernel ${kernel.version})`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
