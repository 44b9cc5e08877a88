import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MonitorError } from '../../vmm/monitor/protocol.js';

/**
 * Which files the monitor's snapshot-save and snapshot-load may touch (docs/monitor-api.md, "Who
 * may connect"). A monitor client names a path and tagvisor opens it with tagvisor's rights, so:
 *
 * - with `--snapshot-dir <dir>` only paths inside `dir` are accepted (relative ones are taken
 *   from `dir`), after resolving symlinks, so neither `..` nor a link leads out;
 * - a save never replaces anything but a regular file: saving writes a temporary file and renames
 *   it over the target, which would turn /dev/null, a FIFO or a socket into a regular file.
 */

/** The real path snapshot-save writes (its temporary file goes next to it). */
export async function snapshotSavePath(file: string, snapshotDir: string | undefined): Promise<string> {
  const wanted = await confine(file, snapshotDir);
  // The target as it will be replaced: the file a symlink points to, not the link.
  const real = await realpath(wanted).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)));
  if (real === null) {
    if ((await lstat(wanted).catch(() => null))?.isSymbolicLink()) throw refuse(`${file} is a symlink to nothing: refusing to replace it`);
    const parent = await realpath(dirname(wanted)).catch(() => dirname(wanted));
    return inside(join(parent, basename(wanted)), file, snapshotDir);
  }
  const kind = describe(await stat(real));
  if (kind !== null) throw refuse(`${file} is ${kind}, not a regular file: a snapshot never replaces one`);
  return inside(real, file, snapshotDir);
}

/** The real path snapshot-load reads. */
export async function snapshotLoadPath(file: string, snapshotDir: string | undefined): Promise<string> {
  const wanted = await confine(file, snapshotDir);
  const real = await realpath(wanted).catch(() => wanted); // a missing file: the read names it
  return inside(real, file, snapshotDir);
}

/** The path as given, resolved against the snapshot directory when there is one. */
async function confine(file: string, snapshotDir: string | undefined): Promise<string> {
  if (file === '') throw refuse('the file name is empty');
  if (snapshotDir === undefined) return resolve(file);
  return resolve(await realpath(snapshotDir), file);
}

async function inside(real: string, file: string, snapshotDir: string | undefined): Promise<string> {
  if (snapshotDir === undefined) return real;
  const root = await realpath(snapshotDir);
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new MonitorError('AccessDenied', `${file} is outside the snapshot directory ${snapshotDir} (--snapshot-dir)`);
  }
  return real;
}

/** What a non-regular file is, for the error (null for a regular file). */
function describe(stats: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function refuse(message: string): MonitorError {
  return new MonitorError('InvalidParameter', message);
}
