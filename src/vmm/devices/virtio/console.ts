/**
 * virtio-console (virtio 1.2 §5.3 "Console Device"), a single port without VIRTIO_CONSOLE_F_SIZE
 * or F_MULTIPORT: receiveq0 (queue 0) carries host-to-guest bytes, transmitq0 (queue 1)
 * guest-to-host bytes (§5.3.2). The host end is a byte stream: `input()` queues bytes for the
 * guest (delivered as receive buffers become available), `output` gets what the guest sends.
 */
import { expectState, StateError, type Shape } from '../../../common/persist.js';
import type { DmaPath } from '../../dma-path.js';
import { DEVICE_ID } from './constants.js';
import type { VirtioDevice } from './device.js';
import { readChain, writeChain, type SplitQueue } from './queue.js';

/** Host input held for the guest before it provides receive buffers. */
export const CONSOLE_INPUT_LIMIT = 64 * 1024;

export interface ConsoleState {
  /** Host input not yet delivered to the guest. */
  readonly pendingInput: Uint8Array;
}

export class VirtioConsole implements VirtioDevice<ConsoleState> {
  readonly deviceId = DEVICE_ID.CONSOLE;
  readonly kind = 'virtio-console';
  readonly queueSizes = [64, 64];
  readonly features = 0n;
  onHostEvent?: (queue: number) => void;
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly output: (bytes: Uint8Array) => void) {}

  /** Queues host bytes for the guest; beyond CONSOLE_INPUT_LIMIT the oldest are kept and the rest dropped. Returns bytes accepted. */
  input(bytes: Uint8Array): number {
    const room = Math.max(0, CONSOLE_INPUT_LIMIT - this.pending.length);
    const take = bytes.subarray(0, room);
    if (take.length === 0) return 0;
    const next = new Uint8Array(this.pending.length + take.length);
    next.set(this.pending);
    next.set(take, this.pending.length);
    this.pending = next;
    this.onHostEvent?.(0);
    return take.length;
  }

  readConfig(): number {
    return 0; // cols, rows, max_nr_ports, emerg_wr: no feature that defines them is offered
  }

  writeConfig(): void {}

  reset(): void {
    // Undelivered host input stays queued for the next driver (it is the host's stream).
  }

  process(index: number, queue: SplitQueue, dma: DmaPath): void {
    if (index === 1) {
      for (let chain = queue.pop(); chain !== null; chain = queue.pop()) {
        const bytes = new Uint8Array(chain.readableBytes);
        readChain(dma, chain.readable, 0, bytes);
        queue.pushUsed(chain.head, 0);
        if (bytes.length > 0) this.output(bytes);
      }
      return;
    }
    while (this.pending.length > 0) {
      const chain = queue.pop();
      if (!chain) break;
      const n = Math.min(chain.writableBytes, this.pending.length);
      writeChain(dma, chain.writable, 0, this.pending.subarray(0, n));
      this.pending = this.pending.slice(n);
      queue.pushUsed(chain.head, n);
    }
  }

  readonly deviceShape: Shape = { fields: { pendingInput: 'bytes' } };

  saveDevice(): ConsoleState {
    return { pendingInput: this.pending.slice() };
  }

  checkDevice(untrusted: unknown, path: string): ConsoleState {
    const o = expectState.object(untrusted, path);
    const pendingInput = expectState.bytes(o.pendingInput, `${path}.pendingInput`);
    if (pendingInput.length > CONSOLE_INPUT_LIMIT) throw new StateError(`${path}.pendingInput`, `longer than ${CONSOLE_INPUT_LIMIT} bytes`);
    return { pendingInput };
  }

  loadDevice(state: ConsoleState): void {
    this.pending = state.pendingInput.slice();
  }
}
