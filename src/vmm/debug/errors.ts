import { GuestMemoryError, type GuestMemoryErrorCode } from '../../memory/index.js';

/**
 * Why a debugger request (gdb stub, monitor) was refused. Memory codes are those of
 * GuestMemoryError ('denied' is a protected VM's debug policy saying no); the others are the
 * debugger's own.
 */
export type DebugErrorCode =
  | GuestMemoryErrorCode
  | 'not-mapped' // a virtual address has no translation in the current regime
  | 'too-large' // a request longer than the debugger moves in one go
  | 'bad-register' // no such register
  | 'read-only-register' // the register cannot be written (or not to that value)
  | 'limit' // too many breakpoints or watchpoints
  | 'not-found'; // removing a breakpoint or watchpoint that does not exist

export class DebugError extends Error {
  override readonly name = 'DebugError';
  constructor(
    readonly code: DebugErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Wraps a memory-layer error, keeping its code (so 'denied' stays 'denied'). */
  static from(error: unknown): DebugError {
    if (error instanceof DebugError) return error;
    if (error instanceof GuestMemoryError) return new DebugError(error.code, error.message);
    throw error;
  }
}

/** Formats a 64-bit address the way debugger messages print one. */
export function hex64(value: bigint): string {
  return `0x${value.toString(16)}`;
}
