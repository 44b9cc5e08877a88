/**
 * Register file layout. General registers live in an Int32Array as (lo, hi) pairs: slot k is at
 * indices 2k and 2k+1. Register number 31 means SP or XZR depending on the instruction; the
 * decoder resolves it to one of the slots below so executors never test for 31.
 */
export const XZR_SLOT = 31; // always reads zero
export const SP_SLOT = 32; // the current stack pointer (SP_EL0 or SP_EL1, banked on EL/SPSel change)
export const SINK_SLOT = 33; // writes to XZR land here and are never read
export const SLOT_COUNT = 34;

/** Index (lo word) of a register read where 31 is XZR. */
export function rz(r: number): number {
  return (r === 31 ? XZR_SLOT : r) * 2;
}

/** Index of a register read or write where 31 is SP. */
export function rsp(r: number): number {
  return (r === 31 ? SP_SLOT : r) * 2;
}

/** Index of a register write where 31 is XZR (the write is discarded). */
export function wz(r: number): number {
  return (r === 31 ? SINK_SLOT : r) * 2;
}
