/**
 * Memory sharing hypercalls: how a guest declares the bounce pool for `--dma bounce`.
 *
 * The ABI is pKVM's vendor-hypervisor services (Linux Documentation/virt/kvm/arm/hypercalls.rst,
 * the calls a protected guest's kernel makes), SMCCC fast calls over `HVC #0`:
 *
 * | x0 (function)           | arguments                                    | x0 on return |
 * |---|---|---|
 * | 0x86000000 KVM_FEATURES | -                                            | bitmap of the services below (bits 0, 2, 3, 4) |
 * | 0xC6000002 HYP_MEMINFO  | x1..x3 = 0                                   | 4096 (the sharing granule) |
 * | 0xC6000003 MEM_SHARE    | x1 = IPA (granule aligned), x2 = granules (0 means 1), x3 = 0 | 0, or -3 INVALID_PARAMETER |
 * | 0xC6000004 MEM_UNSHARE  | same                                         | same |
 *
 * Shared pages are the bounce pool: with `--dma bounce` devices may touch nothing else (rings
 * included). With `--dma direct` the calls succeed and change nothing a device can see, so one
 * driver works on both. On QEMU (no vendor services) the calls return -1 (NOT_SUPPORTED); a
 * swiotlb-style driver simply carries on with its pool as ordinary memory.
 */
import { expectState, StateError, type Shape, type Stateful } from '../common/persist.js';
import type { Vcpu } from '../hv/index.js';
import { GuestMemoryError, PAGE_SIZE, type PageOwnership, type PhysicalAddressSpace } from '../memory/index.js';

export const VENDOR_HYP = {
  FEATURES: 0x8600_0000,
  FEATURES_64: 0xc600_0000,
  HYP_MEMINFO: 0xc600_0002,
  MEM_SHARE: 0xc600_0003,
  MEM_UNSHARE: 0xc600_0004,
} as const;

const SUCCESS = 0n;
const INVALID_PARAMETER = -3n;
const FEATURE_BITS = (1n << 0n) | (1n << 2n) | (1n << 3n) | (1n << 4n);

/** Handles a vendor-hypervisor memory call; returns false for other function IDs. */
export function handleMemoryHypercall(vcpu: Vcpu, pool: PageOwnership): boolean {
  const fn = Number(vcpu.getX(0) & 0xffff_ffffn);
  const ret = (value: bigint): true => {
    vcpu.setX(0, BigInt.asUintN(64, value));
    return true;
  };
  switch (fn) {
    case VENDOR_HYP.FEATURES:
    case VENDOR_HYP.FEATURES_64:
      return ret(FEATURE_BITS);
    case VENDOR_HYP.HYP_MEMINFO:
      return ret(vcpu.getX(1) === 0n && vcpu.getX(2) === 0n && vcpu.getX(3) === 0n ? BigInt(PAGE_SIZE) : INVALID_PARAMETER);
    case VENDOR_HYP.MEM_SHARE:
    case VENDOR_HYP.MEM_UNSHARE: {
      const ipa = vcpu.getX(1);
      const granules = vcpu.getX(2) === 0n ? 1n : vcpu.getX(2);
      if (vcpu.getX(3) !== 0n || ipa >= 1n << 52n || granules > 1n << 40n) return ret(INVALID_PARAMETER);
      try {
        const length = Number(granules) * PAGE_SIZE;
        if (fn === VENDOR_HYP.MEM_SHARE) pool.share(Number(ipa), length);
        else pool.unshare(Number(ipa), length);
        return ret(SUCCESS);
      } catch (error) {
        if (error instanceof GuestMemoryError) return ret(INVALID_PARAMETER);
        throw error;
      }
    }
    default:
      return false;
  }
}

export interface SharedPagesState {
  /** One bit per page of each RAM region, in region order (bit i of byte i >> 3 = page i). */
  readonly regions: readonly { readonly base: number; readonly shared: Uint8Array }[];
}

/** The set of shared pages (the bounce pool) as a save/restore section. */
export class SharedPages implements Stateful<SharedPagesState> {
  readonly stateName = 'shared-pages';
  readonly stateVersion = 1;

  constructor(
    readonly pool: PageOwnership,
    private readonly space: PhysicalAddressSpace,
  ) {}

  /** Unshares everything (a reset guest starts with private memory). */
  reset(): void {
    for (const region of this.space.ramRegions) this.pool.unshare(region.base, region.size);
  }

  save(): SharedPagesState {
    // Saved inside a migration's downtime: bitmaps copied whole, never a call per page.
    return { regions: this.space.ramRegions.map((region) => ({ base: region.base, shared: this.pool.packed(region) })) };
  }

  stateShape(): Shape {
    return { fields: { regions: { arrayOf: { fields: { base: 'integer', shared: 'bytes' } }, max: 64 } } };
  }

  check(untrusted: unknown, version: number): SharedPagesState {
    const p = this.stateName;
    expectState.integer(version, `${p}.version`, this.stateVersion, this.stateVersion);
    const o = expectState.object(untrusted, p);
    const regions = this.space.ramRegions;
    const list = expectState.array(o.regions, `${p}.regions`, regions.length);
    if (list.length !== regions.length) throw new StateError(`${p}.regions`, `expected ${regions.length} regions`);
    return {
      regions: list.map((raw, i) => {
        const r = expectState.object(raw, `${p}.regions[${i}]`);
        const base = expectState.integer(r.base, `${p}.regions[${i}].base`, 0, 2 ** 52);
        if (base !== regions[i]!.base) throw new StateError(`${p}.regions[${i}].base`, 'does not match guest RAM');
        const pages = regions[i]!.pages;
        const shared = expectState.bytes(r.shared, `${p}.regions[${i}].shared`, Math.ceil(pages / 8));
        if (pages % 8 !== 0 && shared[shared.length - 1]! >> (pages % 8) !== 0) throw new StateError(`${p}.regions[${i}].shared`, 'bits set beyond the last page');
        return { base, shared };
      }),
    };
  }

  load(state: SharedPagesState): void {
    this.reset();
    for (const { base, shared } of state.regions) {
      const region = this.space.ramRegions.find((r) => r.base === base);
      if (!region) throw new StateError(`${this.stateName}.regions`, `no guest RAM at ${base}`);
      this.pool.setPacked(region, shared);
    }
  }
}
