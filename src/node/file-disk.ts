/**
 * The file-backed virtio-blk backend (`--drive`). Reads and writes go straight between the file
 * and the guest RAM window the device hands over (zero-copy: fs.readSync into the window).
 *
 * Drive specification, QEMU-style: `[file=]<path>[,readonly=on|off][,serial=<id>]` (a path
 * without commas or '=' is taken whole).
 * A file opened read-write is used read-write; when the OS refuses write access (EACCES, EPERM,
 * EROFS) or `readonly=on` is given, the disk is read-only and the device advertises
 * VIRTIO_BLK_F_RO and fails writes with VIRTIO_BLK_S_IOERR.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { fileErrorText } from './file-errors.js';
import type { BlockBackend } from '../vmm/devices/virtio/block-backend.js';

export interface DriveSpec {
  readonly file: string;
  readonly readOnly: boolean;
  /** VIRTIO_BLK_T_GET_ID string (QEMU's `serial=`), at most 20 characters. */
  readonly serial: string;
}

export class DriveError extends Error {
  override readonly name = 'DriveError';
}

/** Parses `--drive` text. Throws DriveError with a one-line message. */
export function parseDriveSpec(text: string): DriveSpec {
  if (!text.includes('=')) return { file: text, readOnly: false, serial: '' };
  let file: string | null = null;
  let readOnly = false;
  let serial = '';
  const parts = text.split(',');
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf('=');
    // `<path>,readonly=on`: a first item without a key is the file.
    const key = eq < 0 ? (i === 0 ? 'file' : part) : part.slice(0, eq);
    const value = eq < 0 ? (i === 0 ? part : '') : part.slice(eq + 1);
    switch (key) {
      case 'file':
        file = value;
        break;
      case 'readonly':
        if (value !== 'on' && value !== 'off') throw new DriveError(`readonly must be 'on' or 'off', got '${value}'`);
        readOnly = value === 'on';
        break;
      case 'serial':
        if (value.length > 20 || !/^[\x20-\x7e]*$/.test(value)) throw new DriveError('serial must be at most 20 printable ASCII characters');
        serial = value;
        break;
      default:
        throw new DriveError(`unknown drive option '${key}' (expected file, readonly, serial)`);
    }
  }
  if (!file) throw new DriveError(`drive '${text}' names no file (file=<path>)`);
  return { file, readOnly, serial };
}

export class FileDisk implements BlockBackend {
  readonly size: number;

  private constructor(
    private fd: number,
    readonly readOnly: boolean,
    readonly id: string,
  ) {
    this.size = fstatSync(fd).size;
  }

  /** Opens a drive; throws DriveError (missing file, directory...). */
  static open(spec: DriveSpec | string): FileDisk {
    const drive = typeof spec === 'string' ? parseDriveSpec(spec) : spec;
    let fd: number;
    let readOnly = drive.readOnly;
    try {
      try {
        fd = openSync(drive.file, readOnly ? 'r' : 'r+');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (readOnly || (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS')) throw error;
        fd = openSync(drive.file, 'r');
        readOnly = true;
      }
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new DriveError(`${drive.file}: not a regular file`);
      }
    } catch (error) {
      if (error instanceof DriveError) throw error;
      throw new DriveError(fileErrorText(drive.file, error));
    }
    return new FileDisk(fd, readOnly, drive.serial);
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        dst.fill(0, done); // the file shrank underneath us: read zeros, as past EOF
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new DriveError('read-only drive');
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Opens a `--drive` specification. */
export function openDisk(spec: string): FileDisk {
  return FileDisk.open(spec);
}
