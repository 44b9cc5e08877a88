import { hex } from '../address.js';
import { GuestMemoryError } from '../errors.js';

/**
 * The ways the VMM may touch guest memory (docs/design.md, "Access classes"). The vCPU's own accesses are not a class:
 * they are checked by the architecture, not by VMM policy. `guest-request` is data the guest
 * itself hands to the VMM in a call, naming the exact bytes (a semihosting parameter block or
 * string): the guest chose to reveal them, like the registers of a hypercall.
 */
export type AccessClass = 'dma' | 'debug' | 'migration' | 'guest-request';
export type AccessOp = 'read' | 'write';

export interface AccessRequest {
  /** Which access class asks. */
  readonly cls: AccessClass;
  readonly op: AccessOp;
  /** The whole requested range: first guest physical address and length in bytes. */
  readonly gpa: number;
  readonly length: number;
  /** True when the request reads or writes allocation tags rather than (or as well as) data. */
  readonly tags: boolean;
  /**
   * Migration only: the bytes go straight into an encrypted, authenticated stream (a protected
   * VM's migration); the VMM never sees them in the clear.
   */
  readonly sealed?: boolean;
  /**
   * A check before a multi-piece write that must be all or nothing: the same decision, but not
   * an access itself (no audit line; the access that follows is audited).
   */
  readonly preflight?: boolean;
}

/**
 * Decides whether an access class may touch a range. Called once per request, before any byte
 * moves; refusing means throwing a GuestMemoryError with code 'denied', so a refused request never
 * copies part of its range.
 */
export interface AccessPolicy {
  /** Returns to allow the request; throws a GuestMemoryError with code 'denied' to refuse it. */
  authorize(request: AccessRequest): void;
}

/** The policy of a normal (unprotected) VM: every class may touch every page. */
export const allowAllPolicy: AccessPolicy = {
  authorize() {},
};

export function denied(request: AccessRequest, where: number, why: string): GuestMemoryError {
  const what = request.tags ? 'tags' : 'data';
  return new GuestMemoryError(
    'denied',
    `${request.cls} ${request.op} of ${what} at ${hex(request.gpa)}+${hex(request.length)} refused: ${why} (page ${hex(where)})`,
    request.gpa,
    request.length,
  );
}
