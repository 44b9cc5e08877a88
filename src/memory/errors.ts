import { hex } from './address.js';

/** Why a guest-memory operation was refused. Every code names one precondition. */
export type GuestMemoryErrorCode =
  | 'invalid-range' // negative, non-integer or overflowing address/length
  | 'misaligned' // region setup or page-granular operation not aligned as required
  | 'overlap' // a new region overlaps an existing one
  | 'unmapped' // part of the range is not RAM (a hole or an MMIO range)
  | 'read-only' // a write to a read-only RAM region
  | 'no-tags' // a tag operation on memory that holds no tags (MTE off for this VM)
  | 'denied'; // the access policy refused the access class (protected VM)

/**
 * Error raised by the memory layer. It always carries the failing address and length so that a
 * front end can report exactly which part of a request was refused; nothing of the request was
 * performed when it is thrown.
 */
export class GuestMemoryError extends Error {
  override readonly name = 'GuestMemoryError';
  constructor(
    /** Which precondition failed. */
    readonly code: GuestMemoryErrorCode,
    message: string,
    /** The address and length of the refused range (or of its first bad part). */
    readonly addr: number,
    readonly length: number,
  ) {
    super(message);
  }

  static unmapped(addr: number, length: number): GuestMemoryError {
    return new GuestMemoryError('unmapped', `guest physical range ${hex(addr)}+${hex(length)} is not RAM`, addr, length);
  }
}
