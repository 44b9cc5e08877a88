import { FETCH_TLB_BYTES, JIT_TLB_BYTES, TLB_SIZE } from '../mmu/tlb.js';

/**
 * The JIT area of the chosen RAM region's WebAssembly.Memory (RamRegion.jitAreaOffset): the data
 * TLB's keys and JIT columns first (DataTlb.moveInto), then the vCPU state the compiled code
 * reads and writes. Node 20 has no wasm multi-memory, so both live in guest RAM's memory; guest
 * code cannot reach them (no guest physical address maps there).
 *
 * State words (int32 indices from STATE_OFFSET):
 */
export const TLB_OFFSET = 0;
export const STATE_OFFSET = JIT_TLB_BYTES;
/** X0..X30, XZR, SP, the write sink: (lo, hi) pairs, as Cpu.x. */
export const ST_X = 0;
export const ST_NF = 68;
export const ST_ZF = 69;
export const ST_CF = 70;
export const ST_VF = 71;
/** The PC at exit. */
export const ST_PC_LO = 72;
export const ST_PC_HI = 73;
/** Copies of Cpu fields that only system instructions change (never inside compiled code). */
export const ST_TBI_AND0 = 74;
export const ST_TBI_OR1 = 75;
export const ST_RD_BASE = 76;
export const ST_WR_BASE = 77;
export const ST_MTE_ACTIVE = 78;
export const ST_SP_ALIGN = 79;
/** Byte offset of the packed tags in the memory (RamRegion.size), 0 without tags. */
export const ST_TAG_BASE = 80;
/**
 * 1 when a tag store needs no bookkeeping but the viewer's counter (RamRegion: no dirty logging,
 * no tag epochs): compiled tag stores then write the tags inline and count in ST_TAG_WRITES,
 * which the engine adds to the region's activity at exit; otherwise they call storeTagEntry.
 */
export const ST_TAG_PLAIN = 81;
export const ST_TAG_WRITES = 82;
/** IRG's inputs (emit-mte.ts): GCR_EL1, RGSR_EL1 (written back at exit), tag access enabled at this EL. */
export const ST_GCR = 83;
export const ST_RGSR = 84;
export const ST_TAG_ACCESS = 85;
/** Chaining (chain.ts): 2 | EL while it may chain, 0 while it is off. */
export const ST_CHAIN_KEY = 86;
/** Regions entered by the dispatcher without returning to JS (added to the stats at exit). */
export const ST_CHAINED = 87;
/** 1 at EL1 with SPSel = 1: compiled MRS reads system registers only there (emit-sys.ts). */
export const ST_EL1H = 88;
/** Pages DC ZVA zeroed in compiled code (emit-sys.ts): added to the region's guest data-write activity at exit. */
export const ST_DATA_WRITES = 89;
/** PSTATE.DAIF as Cpu.daif (bits 9:6), written back at exit: compiled MRS/MSR DAIF and DAIFSet/DAIFClr (emit-sys.ts). */
export const ST_DAIF = 90;
/** The DAIF bits whose clearing makes an asserted interrupt line takeable (0x80 IRQ, 0x40 FIQ): compiled unmasking exits then. */
export const ST_IRQ_PENDING = 91;
/**
 * The exclusive monitor (Cpu.exclusivePa, exclusiveSize): -1 when clear; armed on a page of the
 * JIT's region, the byte offset in its memory (the PA less the region's base); armed elsewhere,
 * -2, which no compiled store-exclusive matches. Written back at exit when it changed.
 */
export const ST_EXCL = 92;
export const ST_EXCL_SIZE = 93;
export const STATE_WORDS = 96;
/** The jump cache (chain.ts): CHAIN_ENTRIES entries of 4 words (VA lo | EL, VA hi, physical page, slot << 11 | block). */
export const CHAIN_OFFSET = STATE_OFFSET + 512;
export const CHAIN_ENTRIES = 4096;
/** Cpu.sys, moved here at binding (as Cpu.x): SYS_COUNT (lo, hi) pairs. */
export const SYS_OFFSET = CHAIN_OFFSET + CHAIN_ENTRIES * 16;
/** The instruction TLB's keyLo, keyHi and pagePa columns (FetchTlb.moveInto), 2 * TLB_SIZE words each. */
export const ITLB_OFFSET = SYS_OFFSET + 512;
/** The JIT area's end: RamRegion reserves JIT_AREA_BYTES (192 KiB). */
export const JIT_AREA_END = ITLB_OFFSET + FETCH_TLB_BYTES;
export const ITLB_KEY_LO = ITLB_OFFSET;
export const ITLB_KEY_HI = ITLB_OFFSET + 8 * TLB_SIZE;
export const ITLB_PAGE = ITLB_OFFSET + 16 * TLB_SIZE;
/** Byte offsets of the TLB columns from the JIT area start (DataTlb.moveInto's order). */
export const TLB_KEY_LO = TLB_OFFSET;
export const TLB_KEY_HI = TLB_OFFSET + JIT_TLB_BYTES / 4;
export const TLB_PAGE = TLB_OFFSET + JIT_TLB_BYTES / 2;
export const TLB_TAGGED = TLB_OFFSET + (3 * JIT_TLB_BYTES) / 4;
