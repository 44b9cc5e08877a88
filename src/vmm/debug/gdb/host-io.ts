import { DebugError } from '../errors.js';
import { escapeBinary, fromHex, parseHexLength, parseHexLengthClamped, parseHexNumber, RspSyntaxError } from './packet-codec.js';

/**
 * gdb's "Host I/O" packets (vFile:*, GDB manual "Host I/O Packets") over a tiny read-only set of
 * synthetic files. gdb 13 reads `/proc/<pid>/smaps` this way to decide whether an address lies in
 * a memory-tagged mapping (linux-tdep.c, linux_process_address_in_memtag_page), so this is what
 * makes its `memory-tag` commands work against a bare-metal guest.
 *
 * A file's contents are taken when it is opened, so a sequence of preads sees one snapshot.
 * Replies: `F<result>[;<binary data>]`, or `F-1,<errno>` with gdb's File-I/O errno values.
 */

/** gdb File-I/O errno values (GDB manual, "Errno Values"). */
const ENOENT = 2;
const EBADF = 9;
const EACCES = 13;
const EMFILE = 24;
const EROFS = 30;
const ENAMETOOLONG = 91;

const MAX_OPEN = 16;
const MAX_PATH = 4096;
/** Longest pread reply (escaping can double it; gdb asks for less than its packet size anyway). */
const MAX_PREAD = 0x1000;

export class HostIo {
  private readonly open = new Map<number, Uint8Array>();
  private nextFd = 3;

  /** `files` returns the contents of a path, or null when there is no such file. */
  constructor(private readonly files: (path: string) => Uint8Array | null) {}

  /** Handles the part after `vFile:`; returns the reply, or null for an unsupported operation. */
  handle(request: string): string | null {
    const colon = request.indexOf(':');
    const op = colon < 0 ? request : request.slice(0, colon);
    const args = colon < 0 ? [] : request.slice(colon + 1).split(',');
    switch (op) {
      case 'setfs':
        // One filesystem: the guest's synthetic /proc. Any pid is fine.
        return 'F0';
      case 'open':
        return this.openFile(args);
      case 'pread':
        return this.pread(args);
      case 'close': {
        if (args.length !== 1) throw new RspSyntaxError('vFile:close takes one argument');
        const fd = parseHexLength(args[0]!, 0xffff_ffff);
        return this.open.delete(fd) ? 'F0' : fail(EBADF);
      }
      default:
        return null;
    }
  }

  /** Forgets every open file (the connection closed). */
  reset(): void {
    this.open.clear();
  }

  private openFile(args: string[]): string {
    if (args.length !== 3) throw new RspSyntaxError('vFile:open takes path, flags and mode');
    if (args[0]!.length > MAX_PATH * 2) return fail(ENAMETOOLONG);
    const path = new TextDecoder().decode(fromHex(args[0]!));
    const flags = Number(parseHexNumber(args[1]!, 8));
    if ((flags & 3) !== 0) return fail(EROFS); // O_WRONLY / O_RDWR: everything here is read-only
    let contents: Uint8Array | null;
    try {
      contents = this.files(path);
    } catch (error) {
      // A protected VM's mappings are its page tables: refused (docs/protected-vm.md).
      if (error instanceof DebugError && error.code === 'denied') return fail(EACCES);
      throw error;
    }
    if (contents === null) return fail(ENOENT);
    if (this.open.size >= MAX_OPEN) return fail(EMFILE);
    const fd = this.nextFd++;
    this.open.set(fd, contents);
    return `F${fd.toString(16)}`;
  }

  private pread(args: string[]): string {
    if (args.length !== 3) throw new RspSyntaxError('vFile:pread takes fd, count and offset');
    const fd = parseHexLength(args[0]!, 0xffff_ffff);
    const count = parseHexLengthClamped(args[1]!, MAX_PREAD);
    const offset = parseHexNumber(args[2]!);
    const contents = this.open.get(fd);
    if (!contents) return fail(EBADF);
    if (offset > BigInt(contents.length)) return `F0;`;
    const start = Number(offset);
    const data = contents.subarray(start, Math.min(contents.length, start + count));
    return `F${data.length.toString(16)};${escapeBinary(data)}`;
  }
}

function fail(errno: number): string {
  return `F-1,${errno.toString(16)}`;
}
