import { Worker } from 'node:worker_threads';
import { hex, PAGE_MISSING, PageFetchError, type RamRegion } from '../../memory/index.js';
import type { PostcopyPages } from '../../vmm/migration/index.js';
import type { VirtMachine } from '../../vmm/index.js';
import { workerScript } from './page-workers.js';
import { ARRIVALS, CONTROL_BYTES, readFailure, STATUS, STATUS_FAILED, type PostcopyStartMessage, type PostcopyWorkerData } from './postcopy-shared.js';

/** `tagvisor run --incoming` exits with this status when post-copy fails after its guest started (docs/migration-protocol.md §9). */
export const POSTCOPY_FAILED_STATUS = 74;

/**
 * The post-copy destination (docs/migration-protocol.md §9) on the vCPU's thread: every page of RAM
 * is marked missing with a fetcher that asks the page thread (postcopy-worker.ts) for the page and
 * blocks in Atomics.wait until that thread has written the page and its tags into the shared
 * guest memory. The page thread owns the page connection, so it goes on receiving while this
 * thread waits. When every page has arrived the missing sets are dropped and the guest's
 * accesses cost what they cost before.
 */
export class PostcopyDestination implements PostcopyPages {
  readonly port: number;
  readonly connected: Promise<void>;
  /** Called (between slices) when the page connection failed while pages were still missing. */
  onLost: (why: string) => void = () => {};
  /** Called (between slices) once every page has arrived. */
  onComplete: () => void = () => {};
  /** Pages the guest waited for, and the milliseconds it spent waiting. */
  demanded = 0;
  waitedMs = 0;
  private done = false;

  private constructor(
    private readonly machine: VirtMachine,
    private readonly worker: Worker,
    private readonly control: Int32Array,
    private readonly timeoutMs: number,
    port: number,
    connected: Promise<void>,
  ) {
    this.port = port;
    this.connected = connected;
  }

  /**
   * Spawns the page thread while the destination waits for a source (starting a thread takes a
   * few hundred milliseconds: not something to do during the switch-over). `start` then marks all
   * RAM missing and has it listen on `host` (an ephemeral port); `close` if post-copy never came.
   */
  static prepare(host: string, timeoutMs: number): { start: (machine: VirtMachine) => Promise<PostcopyDestination>; close: () => void } {
    const worker = new Worker(workerScript('postcopy-worker.js'), { workerData: { host, timeoutMs } satisfies PostcopyWorkerData });
    worker.unref(); // idle until post-copy starts
    worker.on('error', () => {}); // reported to `start`'s caller through its own listener
    return {
      start: (machine) => PostcopyDestination.start(machine, worker, timeoutMs),
      close: () => void worker.terminate(),
    };
  }

  private static async start(machine: VirtMachine, worker: Worker, timeoutMs: number): Promise<PostcopyDestination> {
    const regions = machine.vm.memory.space.ramRegions;
    if (!regions.every((r) => r.shared)) throw new Error('post-copy needs shared guest memory');
    worker.ref();
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
    let self: PostcopyDestination | null = null;
    const missing = machine.vm.memory.markAllMissing((region, page) => self!.fetch(region, page));
    const start: PostcopyStartMessage = {
      control: control.buffer as unknown as SharedArrayBuffer,
      regions: regions.map((r, i) => ({
        base: r.base,
        buffer: r.wasmMemory.buffer as unknown as SharedArrayBuffer,
        size: r.size,
        tagsOffset: r.tags?.packed.byteOffset ?? 0,
        tagsLength: r.tags?.packed.byteLength ?? 0,
        state: missing[i]!.state.buffer as unknown as SharedArrayBuffer,
      })),
    };
    let connected!: { resolve: () => void; reject: (e: Error) => void };
    const connection = new Promise<void>((resolve, reject) => (connected = { resolve, reject }));
    connection.catch(() => {});
    const port = await new Promise<number>((resolve, reject) => {
      worker.on('message', (message: { port?: number; connected?: boolean; done?: number; failed?: string }) => {
        if (message.port !== undefined) resolve(message.port);
        if (message.connected) connected.resolve();
        if (message.done !== undefined) self?.complete();
        if (message.failed !== undefined) {
          reject(new Error(message.failed));
          connected.reject(new Error(message.failed));
          if (self && !self.done) {
            self.done = true;
            self.onLost(message.failed);
          }
        }
      });
      worker.on('error', (error) => {
        reject(error);
        connected.reject(error);
      });
      worker.postMessage({ start });
    });
    self = new PostcopyDestination(machine, worker, control, timeoutMs, port, connection);
    return self;
  }

  /** Pages not received yet. */
  get missingPages(): number {
    return this.machine.vm.memory.missingPages();
  }

  abort(): void {
    this.done = true;
    for (const region of this.machine.vm.memory.space.ramRegions) region.missing = null;
    void this.worker.terminate();
  }

  /**
   * The guest ended here (or the process ends): tell the source it may stop (COMMITTED), so it
   * does not wait paused for a destination that is gone on purpose. Not after a failure.
   */
  async finish(): Promise<void> {
    if (this.done) {
      await this.worker.terminate(); // done or failed: its thread must not keep the process up
      return;
    }
    this.done = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      this.worker.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ finish: true });
    });
    await this.worker.terminate();
  }

  private complete(): void {
    this.done = true;
    this.machine.vm.memory.missingPages(); // settles every page: the missing sets drop themselves
    void this.worker.terminate();
    this.onComplete();
  }

  /** Post-copy failed here: `finish` must not tell the source it may stop (it keeps the only whole copy). */
  private failed(why: string): PageFetchError {
    this.done = true;
    return new PageFetchError(`post-copy failed: ${why}`);
  }

  /** The fetcher: runs inside a guest access, so it blocks this thread until the page is in. */
  private fetch(region: RamRegion, page: number): void {
    const state = region.missing!.state;
    const started = performance.now();
    this.demanded++;
    this.worker.postMessage({ request: region.base + page * 4096 });
    for (;;) {
      const seen = Atomics.load(this.control, ARRIVALS);
      if (Atomics.load(state, page) !== PAGE_MISSING) break;
      if (Atomics.load(this.control, STATUS) === STATUS_FAILED) throw this.failed(readFailure(this.control));
      const left = started + this.timeoutMs - performance.now();
      if (left <= 0) throw this.failed(`page ${hex(region.base + page * 4096)} did not arrive within ${this.timeoutMs / 1000} s`);
      Atomics.wait(this.control, ARRIVALS, seen, left);
    }
    this.waitedMs += performance.now() - started;
  }
}
