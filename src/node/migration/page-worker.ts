/**
 * A migration page thread (page-workers.ts), over the shared guest memory: on a source it encodes
 * chunks of pages into finished RAM and TAGS sections and hands their buffers back; on a
 * destination it verifies RAM sections and writes their pages in place.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeChunk, type ChunkJob, type RegionMemory } from '../../vmm/migration/chunk-codec.js';
import { applyRamFrame } from '../../vmm/migration/ram-apply.js';
import type { SharedRegion } from './page-workers.js';

const regions: RegionMemory[] = (workerData as SharedRegion[]).map((r) => ({
  base: r.base,
  data: new Uint8Array(r.buffer, 0, r.size),
  tags: r.tagsLength > 0 ? new Uint8Array(r.buffer, r.tagsOffset, r.tagsLength) : null,
}));

type Request = { id: number; job: ChunkJob; frame?: undefined } | { id: number; frame: Uint8Array; job?: undefined };

parentPort!.on('message', ({ id, job, frame }: Request) => {
  try {
    if (frame) {
      parentPort!.postMessage({ id, applied: applyRamFrame(regions, frame) });
      return;
    }
    const chunk = encodeChunk(regions[job.region]!, job);
    const transfer = [chunk.ram, chunk.tags].filter((s): s is Uint8Array => s !== null).map((s) => s.buffer as ArrayBuffer);
    parentPort!.postMessage({ id, chunk }, transfer);
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
