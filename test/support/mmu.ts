import { Sys } from '../../src/cpu/sysreg-state.js';
import { RAM_BASE, RAM_SIZE, type TestMachine } from './cpu-harness.js';

/**
 * A minimal identity map for instruction tests that need Normal memory (unaligned accesses,
 * page-crossing accesses, MTE tag checks; with the MMU off every data access is Device memory).
 * 4 KiB granule, 39-bit VAs (T0SZ = 25, walks start at level 1), TTBR1 walks disabled.
 *
 *   VA = PA                    mapping
 *   0x0900_0000 (2 MiB)        Device-nGnRnE block (MMIO tests)
 *   0x4000_0000 (2 MiB)        Normal untagged block (code, vectors)
 *   0x4020_0000 (2 MiB)        4 KiB pages (PAGES), Normal Tagged, EL1 RW; `setPage` edits them
 *   0x4040_0000 .. RAM end     Normal Tagged 2 MiB blocks; the tables sit in the last 64 KiB
 *   0x1_0000_0000 + x          alias of 0x4000_0000 + x (addresses that carry into the high word)
 *
 * MAIR_EL1: index 0 = 0xFF (Normal WB untagged), 1 = 0xF0 (Normal Tagged), 2 = 0x00 (Device).
 * TCR_EL1.TBI0 = 1 so pointers carry tags; SCTLR_EL1.ATA = 1 and TCF from `tcf`.
 */
export const ATTR_NORMAL = 0;
export const ATTR_TAGGED = 1;
export const ATTR_DEVICE = 2;

/** Access permissions (descriptor AP[2:1]). */
export const AP_EL1_RW = 0;
export const AP_ALL_RW = 1;
export const AP_EL1_RO = 2;
export const AP_ALL_RO = 3;

export const PAGES = RAM_BASE + 0x20_0000;
export const MMIO_BLOCK = 0x0900_0000;
export const TABLES = RAM_BASE + RAM_SIZE - 0x1_0000;

const L1 = TABLES;
const L2_RAM = TABLES + 0x1000;
const L3_PAGES = TABLES + 0x2000;
const L2_LOW = TABLES + 0x3000;

const VALID_BLOCK = 1;
const VALID_TABLE = 3;
const AF = 1 << 10;
const SH_INNER = 3 << 8;

export interface PageOptions {
  /** Output address (default: the page's own address, an identity mapping). */
  pa?: number;
  attr?: number;
  ap?: number;
  /** false: invalid descriptor (translation fault). */
  valid?: boolean;
}

export interface MmuOptions {
  /** SCTLR_EL1.TCF: 0 none, 1 sync, 2 async, 3 asymmetric (default 1). */
  tcf?: number;
  /** SCTLR_EL1.TCF0 for EL0 and unprivileged accesses (default 0). */
  tcf0?: number;
  /** SCTLR_EL1.SA: SP alignment checking at EL1 (default off). */
  spAlign?: boolean;
  /** SCTLR_EL1.A: alignment checking for every access (default off). */
  alignCheck?: boolean;
}

function block(pa: number, attr: number, ap = AP_EL1_RW): bigint {
  return BigInt(pa) | BigInt(attr << 2) | BigInt(ap << 6) | BigInt(SH_INNER | AF | VALID_BLOCK);
}

/** Builds the tables and turns the MMU on (EL1, current state of the machine otherwise kept). */
export class TestMmu {
  constructor(
    readonly m: TestMachine,
    options: MmuOptions = {},
  ) {
    this.writeDesc(L1, 0, BigInt(L2_LOW | VALID_TABLE));
    this.writeDesc(L1, 1, BigInt(L2_RAM | VALID_TABLE));
    this.writeDesc(L1, 4, BigInt(L2_RAM | VALID_TABLE)); // alias: VA 0x1_0000_0000 + x -> PA 0x4000_0000 + x
    this.writeDesc(L2_LOW, MMIO_BLOCK >>> 21, block(MMIO_BLOCK, ATTR_DEVICE));
    const blocks = RAM_SIZE >>> 21;
    for (let b = 0; b < 512; b++) this.writeDesc(L2_RAM, b, 0n);
    for (let b = 0; b < blocks; b++) {
      const pa = RAM_BASE + b * 0x20_0000;
      let desc = block(pa, b === 0 ? ATTR_NORMAL : ATTR_TAGGED);
      if (pa === PAGES) desc = BigInt(L3_PAGES | VALID_TABLE);
      this.writeDesc(L2_RAM, b, desc);
    }
    for (let p = 0; p < 512; p++) this.setPage(PAGES + p * 4096, {}, false);
    const cpu = m.cpu;
    cpu.setSys(Sys.MAIR_EL1, 0x00f0ff, 0);
    // T0SZ = 25, IRGN0 = ORGN0 = 1, SH0 = 3, TG0 = 4 KiB, EPD1; IPS = 40 bits, TBI0.
    cpu.setSys(Sys.TCR_EL1, 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23), 2 | (1 << 5));
    cpu.setSys(Sys.TTBR0_EL1, L1, 0);
    this.setControl(options);
  }

  /** Rewrites SCTLR_EL1 (M = 1) with the given options. */
  setControl(options: MmuOptions): void {
    const cpu = this.m.cpu;
    let lo = 0x30d00800 | 1;
    if (options.alignCheck) lo |= 2;
    if (options.spAlign) lo |= 8;
    const hi = (1 << 11) | (1 << 10) | ((options.tcf ?? 1) << 8) | ((options.tcf0 ?? 0) << 6); // ATA, ATA0, TCF, TCF0
    cpu.setSys(Sys.SCTLR_EL1, lo | 0, hi);
    cpu.updateControl();
    cpu.flushTlb();
  }

  /** Changes one 4 KiB page of the PAGES window. */
  setPage(va: number, options: PageOptions, flush = true): void {
    const index = (va - PAGES) / 4096;
    if (!Number.isInteger(index) || index < 0 || index >= 512) throw new RangeError(`0x${va.toString(16)} is not a page of the PAGES window`);
    const desc = options.valid === false ? 0n : block(options.pa ?? va, options.attr ?? ATTR_TAGGED, options.ap ?? AP_EL1_RW) | 2n;
    this.writeDesc(L3_PAGES, index, desc);
    if (flush) this.m.cpu.flushTlb();
  }

  private writeDesc(table: number, index: number, desc: bigint): void {
    this.m.ram.view.setBigUint64(table - RAM_BASE + index * 8, desc, true);
  }
}

/** Sets the allocation tag of the granules covering [addr, addr + length). */
export function setTags(m: TestMachine, addr: number, length: number, tag: number): void {
  const tags = m.ram.tags;
  if (!tags) throw new Error('the machine has no tag storage');
  for (let a = addr & ~15; a < addr + length; a += 16) tags.setTag(a - RAM_BASE, tag);
}

/** A pointer with logical tag `tag` in bits 59:56. */
export function tagged(addr: number, tag: number): bigint {
  return (BigInt(tag) << 56n) | BigInt(addr);
}

/** VBAR_EL1 of `installVectors`: every synchronous vector holds `hvc #VECTOR_HVC`. */
export const VECTORS = RAM_BASE + 0x800;
export const VECTOR_HVC = 0xfff;

const HVC_VECTOR = 0xd4000002 | (VECTOR_HVC << 5); // hvc #0xfff

/** Points VBAR_EL1 at a table whose synchronous entries exit with `hvc #0xfff`. */
export function installVectors(m: TestMachine): void {
  for (const offset of [0x000, 0x200, 0x400]) {
    m.ram.view.setUint32(VECTORS - RAM_BASE + offset, HVC_VECTOR, true);
    m.ram.noteDataWrite(VECTORS - RAM_BASE + offset, 4);
  }
  m.cpu.setSys(Sys.VBAR_EL1, VECTORS, 0);
}

/** The synchronous exception the last run took, or null when it ended at an ordinary HVC. */
export interface TakenException {
  ec: number;
  iss: number;
  /** Data aborts: DFSC and WnR. */
  dfsc: number;
  wnr: number;
  far: bigint;
  elr: bigint;
}

export function takenException(m: TestMachine): TakenException | null {
  if (m.cpu.exitImm !== VECTOR_HVC) return null;
  const cpu = m.cpu;
  const esr = cpu.sysLo(Sys.ESR_EL1);
  const big = (index: number) => (BigInt(cpu.sysHi(index) >>> 0) << 32n) | BigInt(cpu.sysLo(index) >>> 0);
  return {
    ec: esr >>> 26,
    iss: esr & 0x1ffffff,
    dfsc: esr & 0x3f,
    wnr: (esr >>> 6) & 1,
    far: big(Sys.FAR_EL1),
    elr: big(Sys.ELR_EL1),
  };
}
