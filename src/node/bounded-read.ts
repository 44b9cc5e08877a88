import { open } from 'node:fs/promises';

/** A file larger than the caller's bound; the message is one line naming the bound. */
export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError';
}

const CHUNK = 1024 * 1024;

/**
 * Reads a whole file, but never more than `maxBytes`: the size is checked while reading, not
 * after, so a device that never ends (/dev/zero), a pipe or a file that grows cannot make the
 * process allocate without bound. `what` names the content in the error ("snapshot").
 */
export async function readFileBounded(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const tooLarge = (): FileTooLargeError => new FileTooLargeError(`larger than any ${what} this VM can hold (at most ${maxBytes} bytes)`);
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > maxBytes) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      // A regular file is read in one buffer of its size; anything else in chunks. One byte more
      // than the bound is asked for, so a file at the limit is told apart from a larger one.
      const want = Math.min(stat.isFile() ? Math.max(stat.size - total, 1) : CHUNK, maxBytes + 1 - total);
      const buffer = new Uint8Array(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge();
      chunks.push(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } finally {
    await handle.close();
  }
}
