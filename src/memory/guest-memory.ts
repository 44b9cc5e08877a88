import { PhysicalAddressSpace, type RamChunk } from './address-space.js';
import { AccessGate } from './access/gate.js';
import { DebugAccess } from './access/debug.js';
import { DmaAccess } from './access/dma.js';
import { MigrationAccess } from './access/migration.js';
import { GuestRequestAccess } from './access/guest-request.js';
import type { AccessClass, AccessOp, AccessPolicy } from './access/policy.js';
import { GuestMemoryError } from './errors.js';
import type { RamRegion, RamRegionOptions } from './ram-region.js';
import { hex } from './address.js';
import { MemoryActivity } from './activity.js';
import { allMissingState, MissingPages, type PageFetcher } from './missing-pages.js';

/**
 * Guest memory of one VM: the physical address space, allocation tags when the VM has MTE, and the
 * VMM's access classes. VMM code receives only `dma`, `debug`, `migration` (and `guestRequest`,
 * `sealedMigration`); the raw regions are for the vCPU (the guest's own, architecturally checked
 * path). Every class goes through one AccessGate (access/gate.ts), which this object builds and
 * which holds the access policy.
 */
export class GuestMemory {
  /** The guest physical address space: RAM regions and MMIO windows. */
  readonly space = new PhysicalAddressSpace();
  private readonly gate = new AccessGate(this.space);
  /** Device DMA: data only, never tag-checked, tags untouched. */
  readonly dma = new DmaAccess(this.gate);
  /** Debuggers (gdb stub, monitor): data and tags, never tag-checked. */
  readonly debug = new DebugAccess(this.gate);
  /** Migration and snapshots: whole pages with their tags, and the dirty log. */
  readonly migration = new MigrationAccess(this.gate);
  /** Migration whose bytes only ever enter an encrypted, authenticated stream (protected VMs). */
  readonly sealedMigration = new MigrationAccess(this.gate, true);
  /** The exact bytes a guest hands over in its own calls (semihosting). */
  readonly guestRequest = new GuestRequestAccess(this.gate);
  private mte = false;

  /** True once `enableMte` gave RAM allocation-tag storage. */
  get mteEnabled(): boolean {
    return this.mte;
  }

  /** The access policy every access class is checked against. */
  get policy(): AccessPolicy {
    return this.gate.policy;
  }

  /** Installs the access policy (a protected VM's ownership rules). */
  setPolicy(policy: AccessPolicy): void {
    this.gate.policy = policy;
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

  /** Adds RAM (with tag storage when MTE is on; read-only RAM cannot hold tags). */
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

  /**
   * Post-copy destination: every page of RAM becomes missing, to be fetched with its tags by
   * `fetcher` on first touch (missing-pages.ts). Call before the vCPU runs (no TLB entry or
   * decoded page may exist for a missing page). Returns each region's missing set, whose state
   * arrays (shared memory where the host has it) another thread may fill.
   */
  markAllMissing(fetcher: PageFetcher | null): MissingPages[] {
    return this.space.ramRegions.map((region) => {
      const missing = new MissingPages(region, allMissingState(region.pages));
      missing.fetcher = fetcher;
      region.missing = missing;
      return missing;
    });
  }

  /** Pages of RAM not received yet (post-copy), settling those other threads delivered. */
  missingPages(): number {
    let total = 0;
    for (const region of this.space.ramRegions) total += region.missing?.settleAll() ?? 0;
    return total;
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
   * Checks a request as its access class would, for the whole range and before anything is
   * copied (that it is RAM, that writes do not target read-only RAM, that the policy allows it),
   * and returns its RAM chunks. For VMM code that must know a request will pass before starting
   * it (a device checking a whole descriptor chain).
   */
  authorizedChunks(cls: AccessClass, op: AccessOp, gpa: number, length: number, tags: boolean, sealed = false): RamChunk[] {
    return this.gate.chunks(cls, op, gpa, length, tags, sealed);
  }
}
