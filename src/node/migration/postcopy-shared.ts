/** What the post-copy destination's vCPU thread (postcopy.ts) and its page thread (postcopy-worker.ts) share. */

/** Int32 slots of the control array: a counter bumped (and notified) on every arrival or failure, and the status. */
export const ARRIVALS = 0;
export const STATUS = 1;
export const STATUS_ACTIVE = 0;
export const STATUS_DONE = 1;
export const STATUS_FAILED = 2;
const MESSAGE_LENGTH = 2;
const MESSAGE_AT = 3;
const MESSAGE_BYTES = 1024;
/** Bytes of the control buffer: the slots, then the failure message (UTF-8). */
export const CONTROL_BYTES = MESSAGE_AT * 4 + MESSAGE_BYTES;

/** What the page thread gets when it is spawned (while the destination waits for a source). */
export interface PostcopyWorkerData {
  readonly host: string;
  readonly timeoutMs: number;
}

/** What it gets when post-copy starts: the shared memory it writes. */
export interface PostcopyStartMessage {
  readonly control: SharedArrayBuffer;
  readonly regions: readonly { base: number; buffer: SharedArrayBuffer; size: number; tagsOffset: number; tagsLength: number; state: SharedArrayBuffer }[];
}

export function writeFailure(control: Int32Array, why: string): void {
  const bytes = new TextEncoder().encode(why).subarray(0, MESSAGE_BYTES);
  new Uint8Array(control.buffer, MESSAGE_AT * 4, MESSAGE_BYTES).set(bytes);
  Atomics.store(control, MESSAGE_LENGTH, bytes.length);
}

export function readFailure(control: Int32Array): string {
  const length = Atomics.load(control, MESSAGE_LENGTH);
  return new TextDecoder().decode(new Uint8Array(control.buffer, MESSAGE_AT * 4, length).slice());
}
