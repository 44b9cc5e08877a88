import { BootError } from './errors.js';

/** A gzip member starts with 1f 8b 08 (deflate). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
}

/**
 * Decompresses gzip with the platform's DecompressionStream (Node >= 18 and browsers), stopping
 * as soon as the output passes `limit` bytes so a small hostile file cannot fill the host's memory.
 */
export async function gunzipBounded(bytes: Uint8Array, limit: number, what: string): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'function') throw new BootError(`${what} is gzip-compressed and this platform has no DecompressionStream: decompress it first`);
  const stream = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel();
        throw new BootError(`${what} decompresses to more than ${limit} bytes, more than guest RAM`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof BootError) throw error;
    throw new BootError(`${what} is not valid gzip data (${(error as Error).message})`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
