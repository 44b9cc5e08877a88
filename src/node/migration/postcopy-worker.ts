/**
 * The post-copy destination's page thread (postcopy.ts): it owns the page connection, so pages
 * keep arriving while the vCPU's thread is blocked in Atomics.wait on one of them. It listens,
 * accepts the source's connection, writes each page's data and tags straight into the shared
 * guest memory, publishes the page's state and wakes the vCPU's thread; it sends the vCPU's
 * demands (REQUEST) to the source.
 */
import { createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { applyPages, encodeRequest, type PostcopyRegion } from '../../vmm/migration/postcopy.js';
import { encodeSection, Section, SectionReader } from '../../vmm/migration/sections.js';
import { ARRIVALS, STATUS, STATUS_DONE, STATUS_FAILED, writeFailure, type PostcopyStartMessage, type PostcopyWorkerData } from './postcopy-shared.js';

const data = workerData as PostcopyWorkerData;
let control: Int32Array<ArrayBufferLike> = new Int32Array(0);
let regions: PostcopyRegion[] = [];
let total = 0;
let arrived = 0;
let socket: Socket | null = null;
let ended = false;

function wakeVcpu(): void {
  Atomics.add(control, ARRIVALS, 1);
  Atomics.notify(control, ARRIVALS);
}

function fail(why: string): void {
  if (ended) return;
  ended = true;
  writeFailure(control, why);
  Atomics.store(control, STATUS, STATUS_FAILED);
  wakeVcpu();
  socket?.destroy();
  parentPort!.postMessage({ failed: why });
}

// The page port listens from the start (the switch-over must not wait for it), but takes one
// connection only, and only once post-copy has started: anything earlier is dropped.
const server = createServer();
let port = 0;
let listenError: string | null = null;
let accept: ReturnType<typeof setTimeout> | null = null;
server.on('connection', (s) => {
  if (accept === null || socket !== null) {
    s.destroy();
    return;
  }
  clearTimeout(accept);
  server.close();
  connected(s);
});
server.once('error', (error) => {
  listenError = error.message;
  if (regions.length > 0) fail(`cannot listen for the page connection: ${error.message}`);
});
server.listen(0, data.host, () => {
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  if (regions.length > 0) parentPort!.postMessage({ port });
});

function connected(s: Socket): void {
  socket = s;
  s.setNoDelay(true);
  s.setTimeout(data.timeoutMs, () => fail(`no page arrived for ${data.timeoutMs / 1000} s (the link or the source stalled)`));
  const reader = new SectionReader();
  s.on('data', (chunk: Buffer) => {
    if (ended) return; // after COMMITTED: the source stops once it reads it
    reader.push(chunk);
    try {
      for (let section = reader.next(); section !== null && !ended; section = reader.next()) {
        if (section.type === Section.PAGES) {
          arrived += applyPages(regions, section.payload);
          wakeVcpu();
        } else if (section.type === Section.END) {
          if (arrived !== total) throw new Error(`the source ended with ${total - arrived} pages not sent`);
          ended = true;
          Atomics.store(control, STATUS, STATUS_DONE);
          wakeVcpu();
          s.end(encodeSection(Section.COMMITTED, new Uint8Array(0)));
          parentPort!.postMessage({ done: arrived });
        } else throw new Error(`unexpected section 0x${section.type.toString(16)} on the page connection`);
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      if (!s.destroyed) s.write(encodeSection(Section.REFUSE, new TextEncoder().encode(why)));
      fail(why);
    }
  });
  s.on('error', (error) => fail(`page connection: ${error.message}`));
  s.on('close', () => {
    if (ended) parentPort!.postMessage({ finished: true });
    fail('the page connection was closed by the source');
  });
  parentPort!.postMessage({ connected: true });
}

/** Spawned while the destination waits (a thread takes a few hundred ms to start); this starts post-copy. */
function start(message: PostcopyStartMessage): void {
  control = new Int32Array(message.control);
  regions = message.regions.map((r) => ({
    base: r.base,
    data: new Uint8Array(r.buffer, 0, r.size),
    tags: r.tagsLength > 0 ? new Uint8Array(r.buffer, r.tagsOffset, r.tagsLength) : null,
    state: new Uint8Array(r.state),
  }));
  total = regions.reduce((n, r) => n + r.state.length, 0);
  if (listenError !== null) return fail(`cannot listen for the page connection: ${listenError}`);
  accept = setTimeout(() => {
    server.close();
    fail(`the source did not open the page connection within ${data.timeoutMs / 1000} s`);
  }, data.timeoutMs);
  if (port !== 0) parentPort!.postMessage({ port });
}

parentPort!.on('message', (message: { start?: PostcopyStartMessage; request?: number; finish?: boolean }) => {
  if (message.start) start(message.start);
  if (message.request !== undefined && socket && !ended) socket.write(encodeRequest([message.request]));
  if (message.finish) {
    // The guest ended here: this machine owned it, the source is no longer needed.
    // Wait for the source to read it and close (the caller bounds the wait): closing first could
    // make the source's next write fail before it read the answer.
    if (socket && !ended) {
      ended = true;
      socket.write(encodeSection(Section.COMMITTED, new Uint8Array(0)));
    } else parentPort!.postMessage({ finished: true });
  }
});
