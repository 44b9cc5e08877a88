import { PhysicalAddressSpace, type RamChunk } from './address-space.js';
import { DebugAccess } from './access/debug.js';
import { DmaAccess } from './access/dma.js';
import { MigrationAccess } from './access/migration.js';
import { GuestRequestAccess } from './access/guest-request.js';
import { allowAllPolicy, type AccessClass, type AccessOp, type AccessPolicy } from './access/policy.js';
import { GuestMemoryError } from './errors.js';
import type { RamRegion, RamRegionOptions } from './ram-region.js';
import { hex } from './address.js';
import { MemoryActivity } from './activity.js';

/**
 * Guest memory of one VM: the physical address space, allocation tags when the VM has MTE, and the
 * VMM's three access classes. VMM code receives only `dma`, `debug` and `migration`; the raw
 * regions are for the vCPU (the guest's own, architecturally checked path).
 */
export class GuestMemory {
  readonly space = new PhysicalAddressSpace();
  readonly dma = new DmaAccess(this);
  readonly debug = new DebugAccess(this);
  readonly migration = new MigrationAccess(this);
  /** Migration whose bytes only ever enter an encrypted, authenticated stream (protected VMs). */
  readonly sealedMigration = new MigrationAccess(this, true);
  /** The exact bytes a guest hands over in its own calls (semihosting). */
  readonly guestRequest = new GuestRequestAccess(this);
  private policyHook: AccessPolicy = allowAllPolicy;
  private mte = false;

  get mteEnabled(): boolean {
    return this.mte;
  }

  get policy(): AccessPolicy {
    return this.policyHook;
  }

  /** Installs the access policy (a protected VM's ownership rules). */
  setPolicy(policy: AccessPolicy): void {
    this.policyHook = policy;
  }

  /** Gives every RAM region (present and future) allocation-tag storage. */
  enableMte(): void {
    const readOnly = this.space.ramRegions.find((r) => r.readOnly);
    if (readOnly) {
      throw new GuestMemoryError('no-tags', `cannot enable MTE: read-only region ${readOnly.name} cannot hold tags`, readOnly.base, readOnly.size);
    }
    for (const region of this.space.ramRegions) region.enableTags();
    this.mte = true;
  }

  addRam(base: number, size: number, options: RamRegionOptions = {}): RamRegion {
    if (this.mte && options.readOnly) {
      throw new GuestMemoryError('no-tags', `read-only region at ${hex(base)} cannot hold allocation tags and MTE is on`, base, size);
    }
    const region = this.space.addRam(base, size, options);
    if (this.mte) region.enableTags();
    return region;
  }

  /**
   * Touches every page of RAM so the host commits it now rather than on first use: an incoming
   * migration target does this while it waits for the source, so page faults do not slow the
   * stream down. Contents are unchanged (RAM is still zero).
   */
  prefault(): void {
    for (const region of this.space.ramRegions) region.bytes.fill(0);
  }

  /** The access-class counters of all RAM regions, summed (a fresh object; activity.ts). */
  activityTotals(): MemoryActivity {
    const total = new MemoryActivity();
    for (const region of this.space.ramRegions) region.activity.addTo(total);
    return total;
  }

  /** A reset VM starts with no page used as tagged memory (tags read 0, then are zeroed on use). */
  resetTags(): void {
    for (const region of this.space.ramRegions) {
      if (!region.tags) continue;
      region.tags.uninitialiseAll();
      region.noteTagsForgotten(); // migration's dirty log and the live viewer's epochs
    }
  }

  /**
   * The one region holding all of [gpa, gpa + length), checked and authorized like
   * `authorizedChunks`, or null when the request spans regions or leaves RAM (the caller then
   * takes the general path, which reports the precise error). Saves the chunk list on the
   * common single-region request.
   */
  authorizedRegion(cls: AccessClass, op: AccessOp, gpa: number, length: number, tags: boolean): RamRegion | null {
    const region = this.space.findRam(gpa);
    if (!region || length <= 0 || !Number.isInteger(length) || gpa + length > region.end || (op === 'write' && region.readOnly)) return null;
    this.policyHook.authorize({ cls, op, gpa, length, tags });
    return region;
  }

  /**
   * Splits a request into RAM chunks after checking, for the whole range and before anything is
   * copied: that it is RAM, that writes do not target read-only RAM, and that the policy allows it.
   */
  authorizedChunks(cls: AccessClass, op: AccessOp, gpa: number, length: number, tags: boolean, sealed = false): RamChunk[] {
    const chunks = this.space.ramChunks(gpa, length);
    if (op === 'write') {
      const rom = chunks.find((c) => c.region.readOnly);
      if (rom) throw new GuestMemoryError('read-only', `${cls} write to read-only region ${rom.region.name}`, gpa, length);
    }
    if (length > 0) this.policyHook.authorize(sealed ? { cls, op, gpa, length, tags, sealed } : { cls, op, gpa, length, tags });
    return chunks;
  }
}
