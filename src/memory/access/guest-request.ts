import type { AccessGate } from './gate.js';

/**
 * Reads of the bytes a guest names in its own call to the VMM (a semihosting parameter block or
 * string). Never tag-checked; read-only. A protected VM's policy allows these on private pages:
 * by making the call the guest hands exactly these bytes over.
 */
export class GuestRequestAccess {
  constructor(private readonly gate: AccessGate) {}

  /** Copies the guest's bytes at `gpa` into `dst` (exactly dst.length bytes, or nothing). */
  readData(gpa: number, dst: Uint8Array): void {
    for (const chunk of this.gate.chunks('guest-request', 'read', gpa, dst.length, false)) {
      dst.set(chunk.region.bytes.subarray(chunk.offset, chunk.offset + chunk.length), chunk.done);
    }
  }
}
