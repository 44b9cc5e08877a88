import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spareFrames } from './spare-frames.js';
import { Worker } from 'node:worker_threads';
import { InThreadEncoders, MAX_RAM_FRAME_BYTES, StreamFormatError, type ChunkJob, type DecoderPool, type EncodedChunk, type EncoderPool, type RegionMemory } from '../../vmm/migration/index.js';

/** A region as a worker receives it: the shared buffer and where data and tags lie in it. */
export interface SharedRegion {
  readonly base: number;
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  readonly tagsOffset: number;
  readonly tagsLength: number;
}

/** Chunks each worker keeps queued, so none waits for the main thread between chunks. */
const JOBS_PER_WORKER = 2;

/** A compiled worker next to this module, or (when this runs from TypeScript sources, in tests) the one in dist/. */
export function workerScript(file = 'page-worker.js'): URL {
  const sibling = new URL(`./${file}`, import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL(sibling.href.replace(/\/src\/node\/migration\/([^/]+)$/, '/dist/src/node/migration/$1'));
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`the migration worker ${file} is not built (npm run build)`);
}

/**
 * Migration page threads (src/vmm/migration/encoder-pool.ts): each worker maps the guest's shared
 * memory once, then encodes chunks from it (source) or verifies and applies RAM sections into it
 * (destination); the vCPU's thread only plans chunks and moves sections between socket and
 * workers. Where guest memory is not shared: encoding on this thread, decoding as before.
 */
export class PageWorkers implements EncoderPool, DecoderPool {
  readonly depth: number;
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void }>();
  private readonly load: number[];
  private nextId = 0;

  private constructor(regions: readonly SharedRegion[], threads: number) {
    const script = workerScript();
    this.workers = Array.from({ length: threads }, () => new Worker(script, { workerData: regions }));
    this.load = this.workers.map(() => 0);
    this.depth = threads * JOBS_PER_WORKER;
    this.workers.forEach((worker, index) => {
      worker.unref();
      worker.on('message', (message: { id: number; chunk?: EncodedChunk; applied?: number[]; error?: string; spare?: ArrayBuffer }) => {
        this.load[index]!--;
        if (message.spare) spareFrames.give(message.spare);
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        const result = message.chunk ?? message.applied;
        // A destination's errors are about the stream (a bad section), a source's about the encoder.
        if (result) waiter?.resolve(result as never);
        else waiter?.reject(this.decoding ? new StreamFormatError(message.error!) : new Error(`page thread: ${message.error}`));
      });
      worker.on('error', (error) => this.failAll(error));
    });
  }

  /** Set by `decoders`: rejections are stream errors. */
  private decoding = false;

  /** Encoder threads for these regions, or encoders on this thread if their memory is not shared. */
  static encoders(regions: readonly RegionMemory[], threads = defaultThreads()): EncoderPool {
    const shared = sharedRegions(regions);
    return shared ? new PageWorkers(shared, threads) : new InThreadEncoders(regions);
  }

  /** Decoder threads for these regions, or null (decode on this thread) if their memory is not shared. */
  static decoders(regions: readonly RegionMemory[], threads = defaultThreads()): DecoderPool | null {
    const shared = sharedRegions(regions);
    if (!shared) return null;
    const pool = new PageWorkers(shared, threads);
    pool.decoding = true;
    return pool;
  }

  encode(job: ChunkJob): Promise<EncodedChunk> {
    return this.post({ job }, [job.pages.buffer as ArrayBuffer, job.modes.buffer as ArrayBuffer]);
  }

  recycle(section: Uint8Array): void {
    const buffer = section.buffer as ArrayBuffer;
    if (buffer.byteLength !== MAX_RAM_FRAME_BYTES) return;
    const index = this.recycled++ % this.workers.length;
    this.workers[index]!.postMessage({ spare: buffer }, [buffer]);
  }

  /** RAM section buffers sent back to the encoder threads for reuse. */
  recycled = 0;

  applyRam(frame: Uint8Array): Promise<number[]> {
    // The reader's own copy (SectionReader with deferred checksums, spare-frames.ts) is handed over, and comes back.
    const own = spareFrames.owns(frame.buffer) || (frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength);
    return this.post({ frame }, own ? [frame.buffer as ArrayBuffer] : []);
  }

  private post<T>(request: object, transfer: ArrayBuffer[]): Promise<T> {
    const id = this.nextId++;
    const index = this.load.indexOf(Math.min(...this.load));
    this.load[index]!++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: never) => void, reject });
      this.workers[index]!.postMessage({ id, ...request }, transfer);
    });
  }

  close(): void {
    if (this.decoding) spareFrames.clear();
    this.failAll(new Error('the encoder pool was closed'));
    for (const worker of this.workers) void worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/**
 * One page thread per core but one, up to 4: the main thread needs its core too (the source's
 * vCPU keeps running the guest; the destination's reads the socket). On the 2-core development
 * machine one thread beat two on both ends: an idle 1 GiB guest in 2.9-3.1 s against 4.0 s, with
 * less CPU time (docs/benchmarks.md).
 */
function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

function sharedRegions(regions: readonly RegionMemory[]): SharedRegion[] | null {
  const shared: SharedRegion[] = [];
  for (const r of regions) {
    if (!(r.data.buffer instanceof SharedArrayBuffer)) return null;
    shared.push({ base: r.base, buffer: r.data.buffer, size: r.data.byteLength, tagsOffset: r.tags?.byteOffset ?? 0, tagsLength: r.tags?.byteLength ?? 0 });
  }
  return shared;
}
