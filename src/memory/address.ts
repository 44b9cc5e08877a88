import { GPA_LIMIT, PAGE_SIZE } from './constants.js';

/**
 * A guest physical address. Branded so that a guest virtual address, a region offset or a length
 * cannot be passed where a physical address is meant without an explicit conversion.
 */
export type GuestPhysAddr = number & { readonly __brand: 'GuestPhysAddr' };

export function isValidGpa(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < GPA_LIMIT;
}

/** Converts a number to a GuestPhysAddr, refusing values that are not exact, in-range integers. */
export function gpa(value: number): GuestPhysAddr {
  if (!isValidGpa(value)) throw new RangeError(`not a guest physical address: ${String(value)}`);
  return value as GuestPhysAddr;
}

export function isPageAligned(value: number): boolean {
  return value % PAGE_SIZE === 0;
}

/** Formats an address the way every error message in Tagvisor prints one. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
