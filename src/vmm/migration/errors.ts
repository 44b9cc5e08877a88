/**
 * A migration failure named by the phase it happened in (docs/migration-protocol.md §6):
 * "hello", "pre-copy round N", "device state", "commit" on the source; "hello", "memory",
 * "device state", "commit" on the destination. The original error is the `cause`.
 */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly phase: string,
    cause: unknown,
  ) {
    super(`${phase}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Wraps `error` with `phase` unless it already names one. */
export function inPhase(phase: string, error: unknown): MigrationError {
  return error instanceof MigrationError ? error : new MigrationError(phase, error);
}

/** How long a migration may go without a byte moving, by default (docs/migration-protocol.md §6). */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;
/** How long a destination waits for the next byte of an incoming stream, by default. */
export const DEFAULT_INCOMING_TIMEOUT_MS = 30_000;
