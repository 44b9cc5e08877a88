/**
 * The playground's Web Worker: runs the machine (memory, cpu, hv, vmm) off the page's thread and
 * speaks protocol.ts with the page (worker-connection.ts). Guest code runs in slices of about
 * SLICE_MS; between slices the worker's event loop delivers the page's commands, and at most
 * every FLUSH_MS what changed is posted.
 */
import { MachineHost } from './host/machine-host.js';
import type { HostCommand, HostMessage } from './protocol.js';

const SLICE_MS = 12;
const FLUSH_MS = 33;
const FLUSH_SHARE = 10;
const MAX_FLUSH_MS = 250;

interface WorkerScope {
  postMessage(message: HostMessage, transfer: ArrayBuffer[]): void;
  onmessage: ((event: MessageEvent<HostCommand>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

// A MessageChannel turn is a task without setTimeout's clamping: the guest gets the CPU back at once.
const channel = new MessageChannel();
let scheduled = false;
let lastFlush = 0;
let flushEvery = FLUSH_MS;

const host = new MachineHost({
  post: (message, transfer) => scope.postMessage(message, transfer),
  wake: schedule,
});

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  channel.port2.postMessage(0);
}

channel.port1.onmessage = () => {
  scheduled = false;
  const again = host.tick(SLICE_MS);
  const now = performance.now();
  if (!again || now - lastFlush >= flushEvery) {
    host.flush();
    lastFlush = performance.now();
    flushEvery = Math.min(MAX_FLUSH_MS, Math.max(FLUSH_MS, (lastFlush - now) * FLUSH_SHARE));
  }
  if (again) schedule();
};

scope.onmessage = (event) => host.handle(event.data);
