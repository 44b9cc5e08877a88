import { hex } from '../address.js';
import { PAGE_SIZE } from '../constants.js';
import { GuestMemoryError } from '../errors.js';
import type { PhysicalAddressSpace } from '../address-space.js';
import type { RamRegion } from '../ram-region.js';
import { denied, type AccessPolicy, type AccessRequest } from './policy.js';

/**
 * Which RAM pages the guest shares with the host. A protected VM starts with every page private;
 * the guest shares and unshares pages by hypercall. Pages outside RAM have no owner entry.
 */
export class PageOwnership {
  /** Keyed by region object: a region re-created at the same base starts with every page private. */
  private readonly shared = new WeakMap<RamRegion, Uint8Array>();

  constructor(private readonly space: PhysicalAddressSpace) {}

  /** True when every page of [gpa, gpa + length) is RAM shared with the host. */
  isShared(gpa: number, length = 1): boolean {
    return this.firstPrivate(gpa, length) < 0;
  }

  /** The address of the first private page in the range, or -1 when all are shared. */
  firstPrivate(gpa: number, length: number): number {
    if (length <= 0) return -1;
    const first = Math.floor(gpa / PAGE_SIZE);
    const last = Math.floor((gpa + length - 1) / PAGE_SIZE);
    for (let page = first; page <= last; page++) {
      const addr = page * PAGE_SIZE;
      const region = this.space.findRam(addr);
      if (!region) continue; // not RAM: the access itself will fail as unmapped
      if (this.bits(region)[(addr - region.base) / PAGE_SIZE] !== 1) return Math.max(addr, gpa);
    }
    return -1;
  }

  /** Makes every page private again (a protected VM's reset). */
  unshareAll(): void {
    for (const region of this.space.ramRegions) this.shared.delete(region);
  }

  /** Shares whole pages with the host (the guest's MEM_SHARE); GuestMemoryError if not whole RAM pages. */
  share(gpa: number, length: number): void {
    this.set(gpa, length, 1);
  }

  /** Makes whole pages private again (MEM_UNSHARE). */
  unshare(gpa: number, length: number): void {
    this.set(gpa, length, 0);
  }

  /** A region's shared pages as a bitmap, bit i of byte i >> 3 = page i (snapshots, migration). */
  packed(region: RamRegion): Uint8Array {
    const packed = new Uint8Array(Math.ceil(region.pages / 8));
    const bits = this.shared.get(region);
    // indexOf skips runs of private pages natively: a 1 GiB region with none shared costs < 1 ms.
    if (bits) for (let page = bits.indexOf(1); page >= 0; page = bits.indexOf(1, page + 1)) packed[page >> 3]! |= 1 << (page & 7);
    return packed;
  }

  /** Replaces a region's shared pages with a bitmap from `packed` (bits past the last page ignored). */
  setPacked(region: RamRegion, packed: Uint8Array): void {
    const bits = this.bits(region);
    bits.fill(0);
    const bytes = Math.min(packed.length, Math.ceil(region.pages / 8));
    for (let i = 0; i < bytes; i++) {
      const byte = packed[i]!;
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) if ((byte >> bit) & 1 && i * 8 + bit < region.pages) bits[i * 8 + bit] = 1;
    }
  }

  private set(gpa: number, length: number, value: 0 | 1): void {
    if (gpa % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0 || length <= 0) {
      throw new GuestMemoryError('misaligned', `share/unshare range ${hex(gpa)}+${hex(length)} is not whole pages`, gpa, length);
    }
    const chunks = this.space.ramChunks(gpa, length); // validates the whole range first
    for (const chunk of chunks) {
      const bits = this.bits(chunk.region);
      bits.fill(value, chunk.offset / PAGE_SIZE, (chunk.offset + chunk.length) / PAGE_SIZE);
    }
  }

  private bits(region: RamRegion): Uint8Array {
    let bits = this.shared.get(region);
    if (!bits) {
      bits = new Uint8Array(region.pages);
      this.shared.set(region, bits);
    }
    return bits;
  }
}

export interface OwnershipPolicyOptions {
  /** The VM allows debug access to its private memory (`--protected=debug`). */
  readonly allowDebug: boolean;
  /** Called for every permitted debug access that touches private pages. */
  readonly audit?: (request: AccessRequest) => void;
}

/**
 * The policy of a protected VM: DMA and plaintext migration only on shared pages; sealed
 * (encrypted) migration everywhere; debug on private pages only when the VM allows it, and then
 * audited; the bytes a guest names in its own calls (guest-request) always.
 */
export function ownershipPolicy(ownership: PageOwnership, options: OwnershipPolicyOptions): AccessPolicy {
  return {
    authorize(request) {
      if (request.cls === 'guest-request' || (request.cls === 'migration' && request.sealed)) return;
      const privatePage = ownership.firstPrivate(request.gpa, request.length);
      if (privatePage < 0) return;
      if (request.cls === 'debug' && options.allowDebug) {
        if (!request.preflight) options.audit?.(request);
        return;
      }
      const why =
        request.cls === 'debug'
          ? 'the protected VM does not allow debug access to private memory'
          : request.cls === 'migration'
            ? 'page is private to the protected VM (it can only leave encrypted)'
            : 'page is private to the protected VM';
      throw denied(request, privatePage, why);
    },
  };
}
