/**
 * A migration page thread (page-workers.ts), over the shared guest memory: on a source it encodes
 * chunks of pages into finished RAM and TAGS sections and hands their buffers back; on a
 * destination it verifies RAM sections and writes their pages in place.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeChunk, type ChunkJob, type RegionMemory } from '../../vmm/migration/chunk-codec.js';
import { MAX_RAM_FRAME_BYTES } from '../../vmm/migration/payloads.js';
import { applyRamFrame } from '../../vmm/migration/ram-apply.js';
import type { SharedRegion } from './page-workers.js';

const regions: RegionMemory[] = (workerData as SharedRegion[]).map((r) => ({
  base: r.base,
  data: new Uint8Array(r.buffer, 0, r.size),
  tags: r.tagsLength > 0 ? new Uint8Array(r.buffer, r.tagsOffset, r.tagsLength) : null,
}));

type Request = { id: number; job: ChunkJob; frame?: undefined; spare?: undefined } | { id: number; frame: Uint8Array; job?: undefined; spare?: undefined } | { spare: ArrayBuffer };

/** RAM frame buffers the main thread sent back once written out (page-workers.ts `recycle`). */
const spares: Uint8Array[] = [];
const MAX_SPARES = 4;

parentPort!.on('message', (request: Request) => {
  if (request.spare) {
    if (spares.length < MAX_SPARES) spares.push(new Uint8Array(request.spare));
    return;
  }
  const { id, job, frame } = request;
  try {
    if (frame) {
      const applied = applyRamFrame(regions, frame);
      // The frame's buffer goes back for the socket reader to reuse (spare-frames.ts).
      const spare = frame.buffer instanceof ArrayBuffer ? frame.buffer : undefined;
      parentPort!.postMessage({ id, applied, spare }, spare ? [spare] : []);
      return;
    }
    // Built in a whole frame buffer, so that it can come back for the next chunk (untouched pages cost nothing).
    const spare = spares.pop() ?? new Uint8Array(MAX_RAM_FRAME_BYTES);
    let chunk = encodeChunk(regions[job.region]!, job, spare);
    // A small section (mostly zero pages) leaves as a copy of its own size: 16 MiB buffers moving
    // between threads count as external memory, and the main thread's garbage collector runs for them.
    if (chunk.ram && chunk.ram.buffer === spare.buffer && chunk.ram.length < MAX_RAM_FRAME_BYTES / 4) chunk = { ...chunk, ram: chunk.ram.slice() };
    if (chunk.ram?.buffer !== spare.buffer) spares.push(spare);
    const transfer = [chunk.ram, chunk.tags].filter((s): s is Uint8Array => s !== null).map((s) => s.buffer as ArrayBuffer);
    parentPort!.postMessage({ id, chunk }, transfer);
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
