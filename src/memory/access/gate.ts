import type { PhysicalAddressSpace, RamChunk } from '../address-space.js';
import { GuestMemoryError } from '../errors.js';
import { RamRegion } from '../ram-region.js';
import { allowAllPolicy, type AccessClass, type AccessOp, type AccessPolicy } from './policy.js';

/**
 * The gate below the access classes: every VMM request for guest memory passes here once, and
 * here only. `GuestMemory` builds one gate per VM and hands it to its access classes (which
 * therefore never see `GuestMemory` itself). A request is checked for the whole range, before
 * any byte moves: that it is RAM, that a write does not target read-only RAM, and that the VM's
 * access policy allows it (docs/memory-and-kvm.md).
 */
export class AccessGate {
  /** The VM's access policy: everything allowed until a protected VM installs its own. */
  policy: AccessPolicy = allowAllPolicy;

  constructor(readonly space: PhysicalAddressSpace) {}

  /**
   * Checks a request and returns where it lands, in one pass through the address space: the
   * one region holding all of it (no list is built on this common path), or its chunks when it
   * spans regions (none for a zero-length request, which always succeeds).
   *
   * @param sealed migration only: the bytes go into an encrypted stream (docs/protected-vm.md).
   * @throws GuestMemoryError ('invalid-range', 'unmapped', 'read-only' or 'denied').
   */
  open(cls: AccessClass, op: AccessOp, gpa: number, length: number, tags: boolean, sealed = false): RamRegion | RamChunk[] {
    const span = this.space.ramSpan(gpa, length);
    if (op === 'write') {
      const rom = span instanceof RamRegion ? (span.readOnly ? span : null) : span.find((c) => c.region.readOnly)?.region;
      if (rom) throw new GuestMemoryError('read-only', `${cls} write to read-only region ${rom.name}`, gpa, length);
    }
    if (length > 0) this.policy.authorize(sealed ? { cls, op, gpa, length, tags, sealed } : { cls, op, gpa, length, tags });
    // Post-copy: pages not received yet are fetched (with their tags) before any byte moves.
    if (span instanceof RamRegion) span.ensureRangePresent(gpa - span.base, length);
    else for (const chunk of span) chunk.region.ensureRangePresent(chunk.offset, chunk.length);
    return span;
  }

  /** `open`, always as chunks: for callers that walk the pieces of a request. */
  chunks(cls: AccessClass, op: AccessOp, gpa: number, length: number, tags: boolean, sealed = false): RamChunk[] {
    const span = this.open(cls, op, gpa, length, tags, sealed);
    return span instanceof RamRegion ? [{ region: span, offset: gpa - span.base, length, done: 0 }] : span;
  }
}
