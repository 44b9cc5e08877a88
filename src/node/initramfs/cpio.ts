/**
 * The `newc` cpio format (the SVR4 "new ASCII" format, magic 070701), which the Linux kernel
 * unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 *
 * The writer is reproducible: the same entries give the same bytes on any machine and any day.
 * Inode numbers count up from 1 in entry order, and the owner, group and modification time are
 * fixed (0 unless given), so nothing of the host leaks in.
 *
 * Layout of one entry: a 110-byte header ("070701" and 13 fields of 8 hex digits), the name with
 * its NUL, padding to a multiple of 4, the data, padding to a multiple of 4. The archive ends
 * with an entry named "TRAILER!!!".
 */

export type CpioEntry =
  | { readonly kind: 'dir'; readonly name: string; readonly mode: number }
  | { readonly kind: 'file'; readonly name: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly kind: 'chardev'; readonly name: string; readonly mode: number; readonly major: number; readonly minor: number };

export interface CpioOptions {
  /** Modification time of every entry, seconds since the epoch (default 0). */
  readonly mtime?: number;
}

export class CpioError extends Error {
  override readonly name = 'CpioError';
}

const MAGIC = '070701';
const HEADER_BYTES = 110;
const TRAILER = 'TRAILER!!!';
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const S_IFMT = 0o170000;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function field(value: number, what: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new CpioError(`${what} ${value} does not fit a cpio header field`);
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** Archive paths are relative ("init", "dev/console"), with no empty, "." or ".." components. */
function checkName(name: string): void {
  const parts = name.split('/');
  if (name === '' || parts.some((p) => p === '' || p === '.' || p === '..')) throw new CpioError(`bad archive path '${name}'`);
  if (/[\0\n]/.test(name)) throw new CpioError(`archive path '${name}' holds a NUL or newline`);
}

function typeBits(entry: CpioEntry): number {
  return entry.kind === 'dir' ? S_IFDIR : entry.kind === 'file' ? S_IFREG : S_IFCHR;
}

function header(ino: number, mode: number, nlink: number, mtime: number, size: number, rdev: [number, number], nameBytes: number): string {
  return [
    MAGIC,
    field(ino, 'inode'),
    field(mode, 'mode'),
    field(0, 'uid'),
    field(0, 'gid'),
    field(nlink, 'link count'),
    field(mtime, 'mtime'),
    field(size, 'size'),
    field(0, 'device major'),
    field(0, 'device minor'),
    field(rdev[0], 'major'),
    field(rdev[1], 'minor'),
    field(nameBytes, 'name size'),
    field(0, 'checksum'),
  ].join('');
}

/**
 * Writes the entries, in the order given, into one archive. Every entry's parent directory must
 * come before it (the kernel creates entries in archive order), and names must be unique.
 */
export function writeNewc(entries: readonly CpioEntry[], options: CpioOptions = {}): Uint8Array {
  const mtime = options.mtime ?? 0;
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  const dirs = new Set<string>();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    total += bytes.length;
  };
  const emit = (headerText: string, name: string, data: Uint8Array): void => {
    const nameBytes = encoder.encode(`${name}\0`);
    push(encoder.encode(headerText));
    push(nameBytes);
    push(new Uint8Array(pad4(HEADER_BYTES + nameBytes.length)));
    push(data);
    push(new Uint8Array(pad4(data.length)));
  };
  entries.forEach((entry, index) => {
    checkName(entry.name);
    if (seen.has(entry.name)) throw new CpioError(`archive path '${entry.name}' appears twice`);
    const parent = entry.name.includes('/') ? entry.name.slice(0, entry.name.lastIndexOf('/')) : '';
    if (parent && !dirs.has(parent)) throw new CpioError(`'${entry.name}' comes before its directory '${parent}'`);
    if ((entry.mode & ~0o7777) !== 0) throw new CpioError(`mode ${entry.mode.toString(8)} of '${entry.name}' has bits beyond the permissions`);
    seen.add(entry.name);
    if (entry.kind === 'dir') dirs.add(entry.name);
    const data = entry.kind === 'file' ? entry.data : new Uint8Array(0);
    const rdev: [number, number] = entry.kind === 'chardev' ? [entry.major, entry.minor] : [0, 0];
    const nlink = entry.kind === 'dir' ? 2 : 1;
    const nameBytes = encoder.encode(entry.name).length + 1;
    emit(header(index + 1, typeBits(entry) | entry.mode, nlink, mtime, data.length, rdev, nameBytes), entry.name, data);
  });
  emit(header(0, 0, 1, 0, 0, [0, 0], TRAILER.length + 1), TRAILER, new Uint8Array(0));
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** One entry as read back: the header's fields as numbers. */
export interface CpioRecord {
  readonly name: string;
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly rdevMajor: number;
  readonly rdevMinor: number;
  readonly data: Uint8Array;
}

/** Reads a newc archive up to its trailer (which is not returned). Throws CpioError on bad input. */
export function readNewc(bytes: Uint8Array): CpioRecord[] {
  const decoder = new TextDecoder();
  const records: CpioRecord[] = [];
  let offset = 0;
  for (;;) {
    if (offset + HEADER_BYTES > bytes.length) throw new CpioError(`archive ends at byte ${offset} without a trailer`);
    const text = decoder.decode(bytes.subarray(offset, offset + HEADER_BYTES));
    if (!text.startsWith(MAGIC)) throw new CpioError(`no newc header at byte ${offset}`);
    const f = (i: number): number => {
      const digits = text.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9A-Fa-f]{8}$/.test(digits)) throw new CpioError(`bad header field at byte ${offset + 6 + i * 8}`);
      return parseInt(digits, 16);
    };
    const nameSize = f(11);
    const size = f(6);
    const nameStart = offset + HEADER_BYTES;
    const dataStart = nameStart + nameSize + pad4(HEADER_BYTES + nameSize);
    if (nameSize === 0 || dataStart + size > bytes.length) throw new CpioError(`entry at byte ${offset} runs past the end`);
    const name = decoder.decode(bytes.subarray(nameStart, nameStart + nameSize - 1));
    if (name === TRAILER) return records;
    records.push({
      name,
      ino: f(0),
      mode: f(1),
      uid: f(2),
      gid: f(3),
      nlink: f(4),
      mtime: f(5),
      rdevMajor: f(9),
      rdevMinor: f(10),
      data: bytes.slice(dataStart, dataStart + size),
    });
    offset = dataStart + size + pad4(size);
  }
}

/** The file type of a record's mode: 'dir', 'file', 'chardev' or 'other'. */
export function recordKind(record: CpioRecord): CpioEntry['kind'] | 'other' {
  const type = record.mode & S_IFMT;
  return type === S_IFDIR ? 'dir' : type === S_IFREG ? 'file' : type === S_IFCHR ? 'chardev' : 'other';
}
