/**
 * Random but valid A64 instruction sequences for the instruction-test harness
 * (guests/build/harness.elf), built from encoding templates with random fields: no assembler is
 * needed. `generateCase(seed)` is a pure function of the seed.
 *
 * A sequence is a list of groups. Most groups are one instruction; a memory access is a group
 * that first builds its base (and index) register with MOVZ/MOVN/MOVK, so whatever random
 * arithmetic did before, every access lands where it was meant to: the harness scratch buffer
 * (0x4010_0000, 64 KiB) through one of its aliases, or the runtime's special test pages. Branches
 * only go forward, to the start of a later group (never into a group) or to the end of the
 * payload, so execution always terminates and never skips a base reset.
 *
 * MTE: the generator tracks the allocation tag of each scratch granule (or "unknown", when two
 * paths joined by a branch disagree). In a "clean" case every tag-checked access uses the
 * pointer tag its granules hold (re-tagging them with STG first when their tags are unknown or
 * mixed), so the payload runs to the end. In a "faulting" case (about one in four) some accesses
 * get a wrong tag on purpose (sometimes only in the last granule they touch), the MTE controls
 * change (SCTLR_EL1.TCF: none, sync, async, asymmetric; TCR_EL1.TCMA0/1), and
 * exception-generating instructions (BRK, SVC, HLT, UDF, unallocated data-processing encodings),
 * accesses into unmapped and read-only
 * pages, unprivileged accesses to EL1-only pages and misaligned atomics/STG appear: the first
 * synchronous exception ends the run with the harness's exception report.
 *
 * Coverage (see the emitters below): every data-processing family decoded by src/cpu/isa/
 * dp-imm.ts, dp-reg*.ts and flagm.ts (ADR/ADRP, add/sub immediate, ADDG/SUBG, logical immediate,
 * MOVN/MOVZ/MOVK, SBFM/BFM/UBFM, EXTR, logical and add/sub shifted, add/sub extended, ADC/SBC(S),
 * RMIF, SETF8/16, CFINV, AXFLAG, XAFLAG, CCMN/CCMP register and immediate, CSEL/CSINC/CSINV/
 * CSNEG, RBIT/REV16/REV32/REV/CLZ/CLS, UDIV/SDIV/LSLV/LSRV/ASRV/RORV, CRC32(C)B/H/W/X,
 * MADD/MSUB/SMADDL/SMSUBL/SMULH/UMADDL/UMSUBL/UMULH) with every register field including SP/ZR;
 * IRG, GMI, SUBP, SUBPS; MRS/MSR NZCV, TCO, UAO, DIT, SSBS (register and immediate forms);
 * barriers, CLREX; B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET via ADR; loads and stores of
 * every size and sign extension with unsigned offset, unscaled, pre/post-index, register offset
 * (UXTW, LSL, SXTW, SXTX, scaled or not, junk in the upper half of W indexes), literal, PRFM,
 * LDTR/STTR, LDP/STP/LDPSW/LDNP/STNP in every mode, SP as base (aligned), LSE atomics (all ops,
 * sizes, orderings, ST<op> aliases), CAS/CASP (often with a matching compare value),
 * LDXR/STXR and LDXP/STXP pairs (with and without CLREX between), LDAR/STLR/LDAPR,
 * LDAPUR/STLUR/LDAPURS, STG/STZG/ST2G/STZ2G/LDG/STGP in every mode, LDGM/STGM/STZGM,
 * DC ZVA/GVA/GZVA. Addresses: the tagged scratch, its upper-half (TTBR1) alias and its untagged
 * alias (0x8010_0000), with random bits in the top nibble (TBI); unaligned, across granules and
 * pages; the special pages at 0x4040_8000 (untagged, unmapped, tagged, read-only).
 *
 * Deliberately not generated (each would make QEMU and Tagvisor differ for reasons that are not
 * Tagvisor bugs, or make the result UNPREDICTABLE):
 *  - FP/SIMD, SVE, PAuth, BTI, CSSC, CPA, MOPS, HBC (BC.cond), LRCPC3, LSE128, LOR, RCW: features
 *    Tagvisor does not implement (QEMU -cpu max does), so the encodings are UNDEFINED on one side.
 *  - Writeback with Rn == Rt (or Rt2), LDP/LDNP/LDXP with Rt == Rt2, STXR/STXP with Ws == Rt, Rt2
 *    or Rn, STG with writeback and Rt == Rn: CONSTRAINED UNPREDICTABLE.
 *  - LDXR/STXR with a different address or size than the LDXR, a plain store between them, or
 *    an unaligned address: whether the store-exclusive passes is IMPLEMENTATION DEFINED or
 *    CONSTRAINED UNPREDICTABLE, and QEMU does not model misaligned exclusives.
 *  - DC ZVA with a mismatching tag: QEMU 10 reports WnR = 0 (see test/guests/differential.test.ts).
 *  - LDAPUR/STLUR with a mismatching tag: QEMU does not tag-check them (the Arm ARM does).
 *  - CAS/CASP on an unmapped page: QEMU's WnR depends on whether MTE checks are active (see
 *    noUnmapped).
 *  - SP as a base register with a misaligned SP: QEMU does not model SP alignment checking.
 *  - MSR PAN, #1: the harness's own code then faults on its EL0-readable rodata and never
 *    finishes (on both). Cache maintenance by VA (DC CVAC...): QEMU never faults for them.
 *  - HVC/SMC and HLT #0xF000 (they talk to the platform); MSR to other system registers; literal
 *    loads outside the state block and payload slot (the rest of the image may be rebuilt).
 */
import * as E from './encode.js';
import { Rng } from './rng.js';
import { el0Tail, el1SysregGroup, SYSREG_SEEDS_FROM, type SysregContext } from './sysreg-family.js';
import type { HarnessState } from '../support/harness-image.js';
import { HARNESS_PAYLOAD_WORDS, HARNESS_SCRATCH_BASE, HARNESS_SCRATCH_SIZE } from '../support/harness-image.js';

/** Address of the payload slot (guests/README.md; also checked by the linker script). */
export const PAYLOAD_ADDR = 0x4008_1100;
/**
 * Literal loads read the state block and the payload slot (0x4008_1000..0x4008_14FF): memory
 * whose contents the test itself defines, so the golden transcripts do not depend on how the
 * rest of the harness image was built.
 */
const LITERAL_START = 0x4008_1000;
const LITERAL_END = PAYLOAD_ADDR + HARNESS_PAYLOAD_WORDS * 4;

const SCRATCH = BigInt(HARNESS_SCRATCH_BASE);
const UNTAGGED_SCRATCH = 0x8010_0000n;
const UPPER_SCRATCH = 0xffff_ff80_4010_0000n;
const GRANULES = HARNESS_SCRATCH_SIZE / 16;
const MASK64 = (1n << 64n) - 1n;
const UNKNOWN = -1;
/** Words kept free for the EL0 tail of system-register cases. */
const EL0_TAIL_ROOM = 48;

/**
 * How an access reaches memory: the scratch buffer through its tagged identity mapping, its
 * upper-half (TTBR1) alias or its untagged alias; or the "special" pages at 0x4040_8000 (see
 * SPECIAL), directly or through the upper half.
 */
type Alias = 'tagged' | 'upper' | 'untagged' | 'special' | 'special-upper';

/**
 * runtime/mmu.c's test pages: 0x4040_8000 Normal untagged, 0x4040_9000 unmapped, 0x4040_A000
 * Normal tagged, 0x4040_B000 read-only (all EL1 only; tags 0, contents 0, not reported by the
 * harness). Clean cases load from the mapped ones and store to the writable ones; faulting cases
 * also cross into the unmapped and read-only pages (translation and permission faults: FAR, no
 * partial stores, no writeback).
 */
const SPECIAL = 0x4040_8000n;
const SPECIAL_SIZE = 0x4000;
const UPPER_SPECIAL = 0xffff_ff80_4040_8000n;

export interface GeneratedCase {
  readonly seed: number;
  /** "clean": runs to the end; "faulting": may take an exception on purpose. */
  readonly mode: 'clean' | 'faulting';
  readonly state: HarnessState;
  readonly words: readonly number[];
  /** Comments for the listing, by word index (start of each multi-word group). */
  readonly notes: ReadonlyMap<number, string>;
}

interface Fixup {
  /** Word index inside the group. */
  readonly at: number;
  readonly kind: 'imm26' | 'imm19' | 'imm14' | 'adr';
  /** Index of the target group; past the last group means the end of the payload. */
  readonly target: number;
}

interface Group {
  readonly start: number;
  readonly words: number[];
  readonly fixups: Fixup[];
  note: string;
}

const SPECIAL_VALUES: readonly bigint[] = [
  0n, 1n, 2n, 3n, 7n, 8n, 15n, 16n, 31n, 32n, 33n, 63n, 64n, 0xffn, 0x80n, 0x7fn, 0xffffn, 0x8000n, 0x7fffn,
  0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0xffff_ffff_8000_0000n, 0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n, MASK64, MASK64 - 1n, 0x5555_5555_5555_5555n, 0xaaaa_aaaa_aaaa_aaaan,
  0x0f00_0000_4010_0000n, 0xff00_0000_0000_0000n, 0x00ff_ffff_ffff_ffffn,
];

/** Generates the case for `seed`. */
export function generateCase(seed: number): GeneratedCase {
  return new Generator(seed).generate();
}

class Generator {
  private readonly rng: Rng;
  private readonly faulting: boolean;
  /** Allocation tag of each scratch granule, UNKNOWN when it depends on the path taken. */
  private tags = new Int8Array(GRANULES);
  private readonly groups: Group[] = [];
  /** Tag maps of branches waiting to join at a group index. */
  private readonly joins = new Map<number, Int8Array[]>();
  private words = 0;
  private group!: Group;
  /** Registers most instructions draw from, so values flow between instructions. */
  private readonly hotRegs: number[] = [];
  /** 256-byte scratch regions most accesses go to, so stores, loads and tags interact. */
  private readonly hotRegions: number[] = [];
  private readonly palette: number[];
  /** Probability that a tag-checked access deliberately uses a wrong tag (faulting cases). */
  private wrongTag: number;
  /** Faulting case with fault sources other than tag checks (see the constructor). */
  private readonly otherFaults: boolean;
  /** Draws the system-register family and may end at EL0 (sysreg-family.ts). */
  private readonly sysregs: boolean;

  constructor(private readonly seed: number) {
    this.rng = new Rng(seed);
    this.sysregs = seed >= SYSREG_SEEDS_FROM;
    this.faulting = this.rng.chance(0.25);
    this.wrongTag = this.faulting ? this.rng.pick([0.01, 0.03, 0.08]) : 0;
    // A third of the faulting cases start with asynchronous or asymmetric tag checks and have no
    // other fault sources, so their tag-check faults accumulate in TFSR_EL1 instead of ending
    // the run at the first unmapped page or BRK.
    const asyncStart = this.faulting && this.rng.chance(0.35);
    this.otherFaults = this.faulting && !asyncStart;
    if (asyncStart) this.wrongTag = 0.15;
    while (this.hotRegs.length < 8) {
      const r = this.rng.below(31);
      if (!this.hotRegs.includes(r)) this.hotRegs.push(r);
    }
    const regions = this.rng.range(1, 5);
    for (let i = 0; i < regions; i++) this.hotRegions.push(this.rng.below(HARNESS_SCRATCH_SIZE / 256) * 256);
    this.palette = [0, this.rng.range(1, 15), this.rng.range(1, 15), this.rng.below(16)];
  }

  generate(): GeneratedCase {
    const state = this.initialState();
    const budget = this.rng.range(64, 200);
    if (this.faulting && !this.otherFaults) {
      this.beginGroup();
      this.mteControl(this.rng.range(2, 3));
      this.words += this.group.words.length;
    }
    const limit = HARNESS_PAYLOAD_WORDS - (this.sysregs ? EL0_TAIL_ROOM : 0);
    while (this.words < budget) {
      this.beginGroup();
      const before = this.tags.slice();
      this.emitRandomGroup();
      if (this.group.words.length === 0) {
        this.groups.pop();
        this.tags = before;
        continue;
      }
      if (this.words + this.group.words.length > limit) {
        this.groups.pop();
        this.tags = before;
        break;
      }
      this.words += this.group.words.length;
    }
    if (this.sysregs && this.rng.chance(0.5)) {
      this.beginGroup();
      if (el0Tail(this.sysregContext(), HARNESS_PAYLOAD_WORDS - this.words)) this.words += this.group.words.length;
      else this.groups.pop();
    }
    return { seed: this.seed, mode: this.faulting ? 'faulting' : 'clean', state, words: this.layout(), notes: this.notes() };
  }

  /** The generator's pieces the system-register family uses. */
  private sysregContext(): SysregContext {
    return {
      rng: this.rng,
      otherFaults: this.otherFaults,
      emit: (...words) => this.emit(...words),
      note: (text) => this.note(text),
      reg: () => this.reg(),
      regExcept: (...avoid) => this.regExcept(...avoid),
      movImm64: (r, value) => this.movImm64(r, value),
    };
  }

  // ---- structure ----

  private beginGroup(): void {
    const index = this.groups.length;
    for (const other of this.joins.get(index) ?? []) {
      for (let g = 0; g < GRANULES; g++) if (other[g] !== this.tags[g]) this.tags[g] = UNKNOWN;
    }
    this.joins.delete(index);
    this.group = { start: this.words, words: [], fixups: [], note: '' };
    this.groups.push(this.group);
  }

  private emit(...words: number[]): void {
    this.group.words.push(...words.map((w) => w >>> 0));
  }

  private note(text: string): void {
    this.group.note = this.group.note ? `${this.group.note}; ${text}` : text;
  }

  /** Word index (in the payload) of the next word emitted. */
  private get here(): number {
    return this.group.start + this.group.words.length;
  }

  private layout(): number[] {
    const words: number[] = [];
    for (const group of this.groups) {
      for (const fixup of group.fixups) {
        const from = group.start + fixup.at;
        const to = fixup.target < this.groups.length ? this.groups[fixup.target]!.start : this.words;
        const delta = to - from;
        const w = group.words[fixup.at]!;
        switch (fixup.kind) {
          case 'imm26':
            group.words[fixup.at] = (w | (delta & 0x3ffffff)) >>> 0;
            break;
          case 'imm19':
            group.words[fixup.at] = (w | ((delta & 0x7ffff) << 5)) >>> 0;
            break;
          case 'imm14':
            group.words[fixup.at] = (w | ((delta & 0x3fff) << 5)) >>> 0;
            break;
          case 'adr':
            group.words[fixup.at] = E.adr(0, delta * 4, w & 31);
            break;
        }
      }
      words.push(...group.words);
    }
    return words;
  }

  private notes(): Map<number, string> {
    const notes = new Map<number, string>();
    for (const group of this.groups) if (group.note) notes.set(group.start, group.note);
    return notes;
  }

  // ---- random pieces ----

  private initialState(): HarnessState {
    const rng = this.rng;
    const x: bigint[] = [];
    for (let i = 0; i < 31; i++) {
      x.push(
        rng.weighted<() => bigint>([
          [30, () => rng.pick(SPECIAL_VALUES)],
          [15, () => BigInt.asUintN(64, BigInt(rng.range(-300, 300)))],
          [25, () => rng.u64()],
          [10, () => BigInt(rng.u32())],
          [10, () => this.pointer(rng.below(HARNESS_SCRATCH_SIZE), rng.below(16), 'tagged')],
          [10, () => BigInt(rng.u32()) << BigInt(rng.range(1, 32))],
        ])() & MASK64,
      );
    }
    return { x, nzcv: rng.below(16) };
  }

  /** A register 0..30, usually from the hot set. */
  private reg(): number {
    return this.rng.chance(0.6) ? this.rng.pick(this.hotRegs) : this.rng.below(31);
  }

  /** A register field 0..31 (31 = SP or ZR), usually a hot register. */
  private field(): number {
    return this.rng.chance(0.08) ? 31 : this.reg();
  }

  private regExcept(...avoid: number[]): number {
    for (;;) {
      const r = this.reg();
      if (!avoid.includes(r)) return r;
    }
  }

  private fieldExcept(...avoid: number[]): number {
    for (;;) {
      const r = this.field();
      if (!avoid.includes(r)) return r;
    }
  }

  private cond(): number {
    return this.rng.below(16);
  }

  /** A signed immediate of `bits` bits, biased to small magnitudes. */
  private simm(bits: number): number {
    const max = 2 ** (bits - 1);
    if (this.rng.chance(0.5)) return this.rng.range(-Math.min(max, 8), Math.min(max - 1, 8));
    return this.rng.range(-max, max - 1);
  }

  /** An unsigned immediate of `bits` bits, biased to small values. */
  private uimm(bits: number): number {
    if (this.rng.chance(0.5)) return this.rng.below(Math.min(2 ** bits, 16));
    return this.rng.below(2 ** bits);
  }

  /** A valid (N, immr, imms) bitmask immediate for a 64-bit (sf = 1) or 32-bit operation. */
  private bitmask(sf: number): { n: number; immr: number; imms: number } {
    const k = this.rng.range(1, sf ? 6 : 5);
    const esize = 1 << k;
    const ones = this.rng.range(1, esize - 1);
    const immr = this.rng.below(esize);
    if (esize === 64) return { n: 1, immr, imms: ones - 1 };
    return { n: 0, immr, imms: ((0x3f << (k + 1)) & 0x3f) | (ones - 1) };
  }

  /** MOVZ/MOVN + MOVK words that set Xr to `value`. */
  private movImm64(r: number, value: bigint): void {
    const v = value & MASK64;
    const halves = [0, 1, 2, 3].map((i) => Number((v >> BigInt(16 * i)) & 0xffffn));
    const zeros = halves.filter((h) => h === 0).length;
    const ones = halves.filter((h) => h === 0xffff).length;
    const inverted = ones > zeros;
    const skip = inverted ? 0xffff : 0;
    let first = true;
    const order = this.rng.chance(0.3) ? [3, 2, 1, 0] : [0, 1, 2, 3];
    for (const i of order) {
      if (halves[i] === skip) continue;
      if (first) {
        this.emit(E.moveWide(1, inverted ? 0 : 2, i, inverted ? ~halves[i]! & 0xffff : halves[i]!, r));
        first = false;
      } else {
        this.emit(E.moveWide(1, 3, i, halves[i]!, r));
      }
    }
    if (first) this.emit(E.moveWide(1, inverted ? 0 : 2, 0, 0, r));
  }

  // ---- addresses and tags ----

  /** A pointer to scratch offset `off` through `alias`, with allocation tag `tag` in bits 59:56. */
  private pointer(off: number, tag: number, alias: Alias, topNibble = 0): bigint {
    const base = { tagged: SCRATCH, untagged: UNTAGGED_SCRATCH, upper: UPPER_SCRATCH, special: SPECIAL, 'special-upper': UPPER_SPECIAL }[alias];
    const va = (base + BigInt(off)) & 0x00ff_ffff_ffff_ffffn;
    return va | (BigInt(((topNibble & 15) << 4) | (tag & 15)) << 56n);
  }

  /** How the next access reaches memory; tag-storing instructions use the special pages only in faulting cases. */
  private alias(tagOp = false): Alias {
    const special = tagOp && !this.otherFaults ? 0 : this.otherFaults ? 8 : 4;
    return this.rng.weighted<Alias>([
      [80, 'tagged'],
      [8, 'upper'],
      [8, 'untagged'],
      [special * 0.7, 'special'],
      [special * 0.3, 'special-upper'],
    ]);
  }

  private static isSpecial(alias: Alias): boolean {
    return alias === 'special' || alias === 'special-upper';
  }

  /** True for the aliases whose tag stores reach the scratch buffer's tags. */
  private static tagsScratch(alias: Alias): boolean {
    return alias === 'tagged' || alias === 'upper';
  }

  private topNibble(): number {
    return this.rng.chance(0.15) ? this.rng.below(16) : 0;
  }

  /**
   * A scratch offset for an access of `span` bytes aligned to `align`, usually inside a hot
   * region. When `within` is set, the access does not cross a `within`-byte boundary.
   */
  private target(alias: Alias, span: number, align: number, within = 0, write = true): number {
    if (Generator.isSpecial(alias)) return this.specialTarget(span, align, within, write);
    for (;;) {
      let off: number;
      const where = this.rng.below(100);
      if (where < 75) off = this.rng.pick(this.hotRegions) + this.rng.below(256);
      else if (where < 85) off = this.rng.range(1, 15) * 4096 - this.rng.range(0, span + 8); // near a page boundary
      else off = this.rng.below(HARNESS_SCRATCH_SIZE);
      off -= off % align;
      if (off + span > HARNESS_SCRATCH_SIZE) continue;
      if (within && Math.floor(off / within) !== Math.floor((off + span - 1) / within)) continue;
      return off;
    }
  }

  /**
   * An offset in the special pages: in clean cases inside the writable pages (stores) or the
   * mapped ones (loads), in faulting cases with other fault sources anywhere; usually near a
   * page boundary.
   */
  private specialTarget(span: number, align: number, within: number, write: boolean): number {
    for (;;) {
      let off = this.rng.chance(0.6) ? this.rng.range(1, 3) * 4096 - this.rng.range(0, span + 8) : this.rng.below(SPECIAL_SIZE);
      off -= off % align;
      if (off < 0 || off + span > SPECIAL_SIZE) continue;
      if (within && Math.floor(off / within) !== Math.floor((off + span - 1) / within)) continue;
      if (!this.otherFaults) {
        const firstPage = off >> 12;
        const lastPage = (off + span - 1) >> 12;
        if (firstPage <= 1 && lastPage >= 1) continue; // the unmapped page
        if (write && lastPage === 3) continue; // the read-only page
      }
      return off;
    }
  }

  /** Alignment for a plain access: natural, sometimes none at all. */
  private plainAlign(size: number): number {
    return this.rng.chance(0.75) ? size : 1;
  }

  /** The common tag of the granules of [off, off + span), or UNKNOWN. */
  private spanTag(off: number, span: number): number {
    const first = off >> 4;
    const last = (off + span - 1) >> 4;
    const tag = this.tags[first]!;
    for (let g = first + 1; g <= last; g++) if (this.tags[g] !== tag) return UNKNOWN;
    return tag;
  }

  /** Sets the known tag of granules [off, off + span). */
  private setTags(off: number, span: number, tag: number, alias: Alias = 'tagged'): void {
    if (!Generator.tagsScratch(alias)) return;
    for (let g = off >> 4; g <= (off + span - 1) >> 4; g++) this.tags[g] = tag;
  }

  /**
   * The pointer tag for an access of [off, off + span) through `alias`. Unchecked accesses and
   * the untagged alias get any tag. Checked ones get the granules' tag; if it is unknown or
   * mixed, the group first re-tags the granules with STG through `tmp`. In faulting cases the
   * tag is sometimes deliberately wrong (`allowWrong`).
   */
  private tagFor(off: number, span: number, checked: boolean, alias: Alias, tmp: number, allowWrong = true): number {
    if (!checked || alias === 'untagged') return this.rng.pick(this.palette);
    if (Generator.isSpecial(alias)) {
      // Tags there stay 0 in clean cases (no tag stores go there).
      if (allowWrong && this.faulting && this.rng.chance(this.wrongTag)) return this.rng.range(1, 15);
      return 0;
    }
    let tag = this.spanTag(off, span);
    if (tag === UNKNOWN) {
      tag = this.rng.pick(this.palette);
      const first = off & ~15;
      const granules = ((off + span - 1) >> 4) - (off >> 4) + 1;
      this.movImm64(tmp, this.pointer(first, tag, 'tagged'));
      for (let g = 0; g < granules; g++) this.emit(E.storeTag(0, g, 2, tmp, tmp));
      this.setTags(first, granules * 16, tag);
      this.note(`retag +${first.toString(16)} x${granules} = ${tag}`);
    }
    const lastGranule = (off + span - 1) & ~15;
    if (allowWrong && this.faulting && lastGranule !== (off & ~15) && this.rng.chance(this.wrongTag * 2)) {
      // The first granule matches, the last one does not: the fault reports the last one.
      const other = (tag + this.rng.range(1, 15)) & 15;
      this.movImm64(tmp, this.pointer(lastGranule, other, 'tagged'));
      this.emit(E.storeTag(0, 0, 2, tmp, tmp));
      this.tags[lastGranule >> 4] = other;
      this.note(`WRONG TAG ${other} in the last granule +${lastGranule.toString(16)}`);
      return tag;
    }
    if (allowWrong && this.faulting && this.rng.chance(this.wrongTag)) {
      const wrong = (tag + this.rng.range(1, 15)) & 15;
      this.note(`WRONG TAG ${wrong} (granule tag ${tag})`);
      return wrong;
    }
    return tag;
  }

  /**
   * Emits the base register setup for an access of `ptr`, where the instruction adds `delta` to
   * the base (0 for post-index): Xrn = ptr - delta. With `sp`, the base goes to SP through `tmp`
   * (and must be 16-byte aligned).
   */
  private base(rn: number, ptr: bigint, delta: bigint, sp: { tmp: number } | null): void {
    const value = (ptr - delta) & MASK64;
    if (sp) {
      this.movImm64(sp.tmp, value);
      this.emit(E.addSubImm(1, 0, 0, 0, 0, sp.tmp, 31)); // MOV SP, Xtmp
    } else {
      this.movImm64(rn, value);
    }
  }

  // ---- the group mix ----

  private emitRandomGroup(): void {
    const rng = this.rng;
    const kind = rng.weighted<() => void>([
      [40, () => this.emit(this.dataProcessing())],
      [6, () => this.emit(this.mteDataProcessing())],
      [5, () => this.flagsAndSystem()],
      [7, () => this.branch()],
      [13, () => this.singleImmediate()],
      [4, () => this.registerOffset()],
      [7, () => this.pair()],
      [2, () => this.literal()],
      [5, () => this.atomicOp()],
      [3, () => this.compareAndSwap()],
      [3, () => this.exclusive()],
      [3, () => this.ordered()],
      [2, () => this.orderedUnscaled()],
      [4, () => this.storeTags()],
      [2, () => this.loadTag()],
      [2, () => this.storeTagPair()],
      [1, () => this.tagMultiple()],
      [1, () => this.dcZero()],
      [1, () => this.unprivileged()],
      [this.otherFaults ? 1 : 0, () => this.exception()],
      [this.otherFaults ? 1 : 0, () => this.emit(this.unallocated())],
      [this.sysregs ? 6 : 0, () => el1SysregGroup(this.sysregContext())],
      [this.faulting ? 3 : 0, () => this.mteControl()],
    ]);
    kind();
  }

  // ---- data processing ----

  private dataProcessing(): number {
    const rng = this.rng;
    const sf = rng.chance(0.6) ? 1 : 0;
    const d = this.field();
    const n = this.field();
    const m = this.field();
    const size = sf ? 64 : 32;
    return rng.weighted<() => number>([
      [3, () => E.adr(rng.below(2), rng.chance(0.5) ? this.simm(12) : this.simm(21), d)],
      [6, () => E.addSubImm(sf, rng.below(2), rng.below(2), rng.below(2), this.uimm(12), n, d)],
      [5, () => {
        const { n: bn, immr, imms } = this.bitmask(sf);
        return E.logicalImm(sf, rng.below(4), bn, immr, imms, n, d);
      }],
      [5, () => E.moveWide(sf, rng.pick([0, 2, 3]), rng.below(sf ? 4 : 2), rng.chance(0.3) ? rng.pick([0, 1, 0x8000, 0xffff]) : rng.below(0x10000), d)],
      [6, () => E.bitfield(sf, rng.below(3), rng.below(size), rng.below(size), n, d)],
      [2, () => E.extr(sf, m, rng.below(size), n, d)],
      [7, () => E.logicalReg(sf, rng.below(4), rng.below(4), rng.below(2), m, rng.chance(0.5) ? 0 : rng.below(size), n, d)],
      [7, () => E.addSubShifted(sf, rng.below(2), rng.below(2), rng.below(3), m, rng.chance(0.5) ? 0 : rng.below(size), n, d)],
      [5, () => E.addSubExtended(sf, rng.below(2), rng.below(2), m, rng.below(8), rng.below(5), n, d)],
      [4, () => E.addSubCarry(sf, rng.below(2), rng.below(2), m, n, d)],
      [5, () => E.condCompare(sf, rng.below(2), rng.below(2), m, this.cond(), n, rng.below(16))],
      [6, () => E.condSelect(sf, rng.below(2), rng.below(2), m, this.cond(), n, d)],
      [4, () => E.dp1(sf, sf ? rng.below(6) : rng.pick([0, 1, 2, 4, 5]), n, d)],
      [6, () => {
        const opcode = rng.pick([2, 3, 8, 9, 10, 11, 16, 17, 18, 20, 21, 22, 19, 23]);
        const crcX = opcode === 19 || opcode === 23;
        const crc = opcode >= 16;
        return E.dp2(crc ? (crcX ? 1 : 0) : sf, opcode, m, n, d);
      }],
      [5, () => {
        const a = this.field();
        if (sf && rng.chance(0.5)) {
          const [op31, o0] = rng.pick([[1, 0], [1, 1], [2, 0], [5, 0], [5, 1], [6, 0]] as const);
          return E.dp3(1, op31, o0, m, op31 === 2 || op31 === 6 ? 31 : a, n, d);
        }
        return E.dp3(sf, 0, rng.below(2), m, a, n, d);
      }],
      [2, () => (rng.chance(0.5) ? E.rmif(rng.below(64), n, rng.below(16)) : E.setf(rng.below(2), n))],
    ])();
  }

  private mteDataProcessing(): number {
    const rng = this.rng;
    return rng.weighted<() => number>([
      [4, () => E.irg(this.field(), this.field(), rng.chance(0.3) ? 31 : this.field())],
      [2, () => E.gmi(this.field(), this.field(), this.field())],
      [4, () => E.addSubTag(rng.below(2), this.uimm(6), rng.below(16), this.field(), this.field())],
      [2, () => E.subp(0, this.field(), this.field(), this.field())],
      [2, () => E.subp(1, this.field(), this.field(), this.field())],
    ])();
  }

  private flagsAndSystem(): void {
    const rng = this.rng;
    const word = rng.weighted<() => number>([
      [3, () => rng.pick([E.CFINV, E.AXFLAG, E.XAFLAG])],
      [3, () => E.msrNzcv(this.field())],
      [2, () => E.mrsNzcv(this.field())],
      [1, () => E.msrTcoImm(rng.below(2))],
      [1, () => E.mrsTco(this.field())],
      [1, () => E.msrTco(this.field())],
      [2, () => {
        // UAO (LDTR/STTR become privileged accesses), DIT, SSBS; PAN is left alone (see above).
        // [op1, op2 of MSR #imm, op2 of MRS/MSR Xt]
        const [op1, op2, regOp2] = rng.pick([[0, 3, 4], [3, 1, 6], [3, 2, 5]] as const);
        return rng.weighted<() => number>([
          [2, () => E.msrPstate(op1, op2, rng.below(2))],
          [1, () => E.mrsPstate(op1, regOp2, this.field())],
          [1, () => E.msrPstateReg(op1, regOp2, this.field())],
        ])();
      }],
      [1, () => E.NOP],
      [1, () => E.clrex(rng.below(16))],
      [1, () => E.barrier(rng.pick([4, 5]), rng.pick([15, 11, 7, 3, 14, 13]))],
      [1, () => E.barrier(6, 15)],
    ])();
    this.emit(word);
  }

  // ---- branches ----

  private branch(): void {
    const rng = this.rng;
    const index = this.groups.length - 1;
    const target = rng.chance(0.05) ? 1 << 20 : index + 1 + (rng.chance(0.7) ? rng.below(4) : rng.below(16));
    const at = this.group.words.length;
    const kind = rng.weighted<string>([
      [2, 'b'],
      [1, 'bl'],
      [6, 'b.cond'],
      [4, 'cb'],
      [4, 'tb'],
      [2, 'reg'],
    ]);
    switch (kind) {
      case 'b':
      case 'bl':
        this.emit(E.b(kind === 'bl' ? 1 : 0, 0));
        this.group.fixups.push({ at, kind: 'imm26', target });
        break;
      case 'b.cond':
        this.emit(E.bcond(this.cond(), 0));
        this.group.fixups.push({ at, kind: 'imm19', target });
        break;
      case 'cb':
        this.emit(E.cb(rng.below(2), rng.below(2), 0, this.field()));
        this.group.fixups.push({ at, kind: 'imm19', target });
        break;
      case 'tb':
        this.emit(E.tb(rng.below(2), rng.below(64), 0, this.field()));
        this.group.fixups.push({ at, kind: 'imm14', target });
        break;
      default: {
        const r = this.reg();
        this.emit(E.adr(0, 0, r));
        this.group.fixups.push({ at, kind: 'adr', target });
        this.emit(E.branchReg(rng.below(3), r));
      }
    }
    if (target > index + 1) {
      const list = this.joins.get(target) ?? [];
      list.push(this.tags.slice());
      this.joins.set(target, list);
    }
  }

  /**
   * An unallocated encoding next to a valid data-processing one (one field out of range): both
   * must take an Undefined Instruction exception. Only encodings unallocated in the whole
   * architecture, not ones given to features Tagvisor lacks (CSSC, PAuth, CPA...).
   */
  private unallocated(): number {
    const rng = this.rng;
    const [d, n, m] = [this.field(), this.field(), this.field()];
    const sf = rng.below(2);
    const word = rng.weighted<() => number>([
      [1, () => E.addSubShifted(sf, rng.below(2), rng.below(2), 3, m, rng.below(64), n, d)], // shift = 11
      [1, () => E.addSubShifted(0, rng.below(2), rng.below(2), rng.below(3), m, rng.range(32, 63), n, d)], // W, amount >= 32
      [1, () => E.logicalReg(0, rng.below(4), rng.below(4), rng.below(2), m, rng.range(32, 63), n, d)],
      [1, () => E.logicalImm(0, rng.below(4), 1, rng.below(64), rng.below(64), n, d)], // W with N = 1
      [1, () => {
        // Every bit of the element set: a reserved bitmask.
        const n64 = sf && rng.chance(0.5) ? 1 : 0;
        return E.logicalImm(sf, rng.below(4), n64, rng.below(64), n64 ? 0x3f : rng.pick([0x1f, 0x2f, 0x37, 0x3b, 0x3d, 0x3f]), n, d);
      }],
      [1, () => E.moveWide(sf, 1, rng.below(4), rng.below(0x10000), d)], // opc = 01
      [1, () => E.moveWide(0, rng.pick([0, 2, 3]), rng.range(2, 3), rng.below(0x10000), d)], // W, hw >= 2
      [1, () => (E.bitfield(sf, rng.below(3), rng.below(64), rng.below(64), n, d) ^ (1 << 22)) >>> 0], // N != sf
      [1, () => E.bitfield(sf, 3, rng.below(32), rng.below(32), n, d)], // opc = 11
      [1, () => E.bitfield(0, rng.below(3), rng.range(32, 63), rng.below(32), n, d)], // W, immr >= 32
      [1, () => (E.extr(sf, m, rng.below(32), n, d) ^ (1 << 22)) >>> 0], // N != sf
      [1, () => (E.extr(sf, m, rng.below(32), n, d) | (1 << 21)) >>> 0], // o0 = 1
      [1, () => E.addSubExtended(sf, rng.below(2), rng.below(2), m, rng.below(8), rng.range(5, 7), n, d)], // shift > 4
      [1, () => (E.condCompare(sf, rng.below(2), rng.below(2), m, this.cond(), n, rng.below(16)) | (rng.chance(0.5) ? 1 << 10 : 1 << 4)) >>> 0], // o2/o3
      [1, () => (E.condSelect(sf, rng.below(2), rng.below(2), m, this.cond(), n, d) | (1 << 29)) >>> 0], // S = 1
      [1, () => (E.condSelect(sf, rng.below(2), 0, m, this.cond(), n, d) | (rng.range(2, 3) << 10)) >>> 0], // op2 >= 2
      [1, () => E.dp1(0, 3, n, d)], // REV with sf = 0
      [1, () => (E.dp1(sf, rng.below(6), n, d) | (1 << 29)) >>> 0], // S = 1
      [1, () => (E.dp1(sf, rng.below(6), n, d) | (rng.range(2, 31) << 16)) >>> 0], // opcode2 >= 2
      [1, () => E.dp2(0, rng.below(2), m, n, d)], // opcode 0/1 with sf = 0
      [1, () => E.dp2(sf, rng.pick([13, 14, 15, 32, 40, 48, 63]), m, n, d)],
      [1, () => (E.dp3(sf, 0, rng.below(2), m, this.field(), n, d) | (rng.range(1, 3) << 29)) >>> 0], // op54 != 0
      [1, () => E.dp3(0, rng.pick([1, 2, 5, 6]), rng.below(2), m, this.field(), n, d)], // long multiplies with sf = 0
    ])();
    this.note('unallocated');
    return word;
  }

  private exception(): void {
    const rng = this.rng;
    this.emit(
      rng.weighted<() => number>([
        [1, () => E.brk(rng.below(0x10000))],
        [1, () => E.svc(rng.below(0x10000))],
        [1, () => E.hlt(rng.pick([0, 1, 0xf001, 0x3c]))],
        [1, () => E.udf(rng.below(0x10000))],
      ])(),
    );
  }

  /**
   * Faulting cases only (in clean ones no tag check fails): SCTLR_EL1.TCF (none, synchronous,
   * asynchronous: TFSR_EL1 reports, asymmetric) or TCR_EL1.TCMA0/TCMA1 (with the TLB
   * invalidation the architecture asks for), read-modify-written.
   */
  private mteControl(tcf = -1): void {
    const rng = this.rng;
    const r = this.reg();
    const t = this.regExcept(r);
    if (tcf >= 0 || rng.chance(0.6)) {
      if (tcf < 0) tcf = rng.below(4);
      this.emit(E.mrsSctlr(r), E.moveWide(1, 2, 0, tcf, t), E.bitfield(1, 1, 24, 1, t, r), E.msrSctlr(r), E.barrier(6, 15));
      this.note(`SCTLR_EL1.TCF = ${tcf}`);
      // Asynchronous (and asymmetric) checks let the payload go on: try them more often.
      if (tcf >= 2) this.wrongTag = Math.max(this.wrongTag, 0.15);
    } else {
      const tcma = rng.below(4);
      this.emit(E.mrsTcr(r), E.moveWide(1, 2, 0, tcma, t), E.bitfield(1, 1, 7, 1, t, r), E.msrTcr(r), E.TLBI_VMALLE1, E.barrier(4, 11), E.barrier(6, 15));
      this.note(`TCR_EL1.TCMA1:TCMA0 = ${tcma}`);
    }
  }

  // ---- loads and stores ----

  /** LDR/STR (all sizes and extensions) and PRFM: unsigned offset, unscaled, pre/post-index. */
  private singleImmediate(): void {
    const rng = this.rng;
    const [size, opc] = rng.pick([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1], [0, 2], [1, 2], [2, 2], [0, 3], [1, 3], [3, 2]] as const);
    const prfm = size === 3 && opc === 2;
    const form = prfm ? rng.pick(['uoff', 'unscaled'] as const) : rng.pick(['uoff', 'uoff', 'unscaled', 'pre', 'post'] as const);
    const bytes = 1 << size;
    const wback = form === 'pre' || form === 'post';
    const useSp = rng.chance(0.12);
    const rn = useSp ? 31 : this.reg();
    const rt = wback && !useSp ? this.fieldExcept(rn) : this.field();
    const alias = this.alias();
    const off = this.target(alias, bytes, useSp && form === 'post' ? 16 : this.plainAlign(bytes), 0, opc === 0);
    const checked = !prfm && (wback || !useSp);
    const tmp = this.regExcept(rn);
    const tag = this.tagFor(off, bytes, checked, alias, tmp);
    const ptr = this.pointer(off, tag, alias, this.topNibble());
    for (let attempt = 0; attempt < 32; attempt++) {
      const imm = form === 'uoff' ? (rng.chance(0.5) ? rng.below(16) : rng.below(4096)) : this.simm(9);
      const delta = form === 'uoff' ? imm * bytes : form === 'post' ? 0 : imm;
      if (useSp && ((ptr - BigInt(delta)) & 15n) !== 0n) continue;
      this.base(rn, ptr, BigInt(delta), useSp ? { tmp } : null);
      const word = form === 'uoff' ? E.ldstUoff(size, opc, imm, rn, rt) : E.ldstImm9(size, opc, imm, { unscaled: 0, post: 1, pre: 3 }[form], rn, rt);
      this.emit(word);
      this.note(`${form} +${off.toString(16)} ${alias}`);
      return;
    }
  }

  /** LDR/STR/PRFM (register offset) with UXTW, LSL, SXTW, SXTX, scaled or not; SP or register base. */
  private registerOffset(): void {
    const rng = this.rng;
    const [size, opc] = rng.pick([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1], [0, 2], [1, 2], [2, 2], [0, 3], [1, 3], [3, 2]] as const);
    const bytes = 1 << size;
    const option = rng.pick([2, 3, 6, 7]);
    const s = rng.below(2);
    const shift = BigInt(s ? size : 0);
    const useSp = rng.chance(0.1);
    const rn = useSp ? 31 : this.reg();
    const rm = this.regExcept(rn);
    const tmp = this.regExcept(rn, rm);
    const rt = this.field();
    const alias = this.alias();
    const off = this.target(alias, bytes, this.plainAlign(bytes), 0, opc === 0);
    const tag = this.tagFor(off, bytes, !(size === 3 && opc === 2), alias, tmp);
    const ptr = this.pointer(off, tag, alias, this.topNibble());
    const junk = rng.chance(0.5) ? BigInt(rng.u32()) << 32n : 0n;
    let index = BigInt(rng.chance(0.8) ? rng.range(-4096, 4096) : rng.range(-0x7fffffff, 0x7fffffff));
    const extend = (i: bigint): { value: bigint; delta: bigint } => {
      const low = i & 0xffff_ffffn;
      if (option === 2) return { value: low | junk, delta: (low << shift) & MASK64 };
      if (option === 6) return { value: low | junk, delta: (BigInt.asUintN(64, BigInt.asIntN(32, low)) << shift) & MASK64 };
      return { value: i & MASK64, delta: ((i & MASK64) << shift) & MASK64 };
    };
    let { value, delta } = extend(index);
    if (useSp) {
      // SP must be 16-byte aligned: move the index so that SP = ptr - delta is.
      const mis = (ptr - delta) & 15n;
      if (shift !== 0n && mis % (1n << shift) !== 0n) return;
      index += mis >> shift;
      ({ value, delta } = extend(index));
      if (((ptr - delta) & 15n) !== 0n) return;
    }
    this.movImm64(rm, value);
    this.base(rn, ptr, delta, useSp ? { tmp } : null);
    this.emit(E.ldstReg(size, opc, rm, option, s, rn, rt));
    this.note(`regoff +${off.toString(16)} ${alias}${useSp ? ' sp' : ''}`);
  }

  /** LDP/STP (W, X), LDPSW, LDNP/STNP: offset, pre- and post-index, SP or register base. */
  private pair(): void {
    const rng = this.rng;
    const [opc, load] = rng.pick([[0, 0], [0, 1], [2, 0], [2, 1], [1, 1]] as const);
    const mode = opc === 1 ? rng.range(1, 3) : rng.below(4);
    const scale = opc === 2 ? 8 : 4;
    const wback = mode === 1 || mode === 3;
    const useSp = rng.chance(0.15);
    const rn = useSp ? 31 : this.reg();
    const rt = wback && !useSp ? this.fieldExcept(rn) : this.field();
    const rt2 = load ? (wback && !useSp ? this.fieldExcept(rn, rt) : this.fieldExcept(rt)) : wback && !useSp ? this.fieldExcept(rn) : this.field();
    const alias = this.alias();
    const off = this.target(alias, 2 * scale, useSp && mode === 1 ? 16 : rng.chance(0.8) ? scale : 1, 0, !load);
    const checked = wback || !useSp;
    const tmp = this.regExcept(rn);
    const tag = this.tagFor(off, 2 * scale, checked, alias, tmp);
    const ptr = this.pointer(off, tag, alias, this.topNibble());
    for (let attempt = 0; attempt < 32; attempt++) {
      const imm7 = this.simm(7);
      const delta = mode === 1 ? 0 : imm7 * scale;
      if (useSp && ((ptr - BigInt(delta)) & 15n) !== 0n) continue;
      this.base(rn, ptr, BigInt(delta), useSp ? { tmp } : null);
      this.emit(E.ldstPair(opc, mode, load, imm7, rt2, rn, rt));
      this.note(`pair mode ${mode} +${off.toString(16)} ${alias}`);
      return;
    }
  }

  /** LDR (literal) W/X, LDRSW, PRFM of the state block or the payload. */
  private literal(): void {
    const rng = this.rng;
    const opc = rng.below(4);
    const target = LITERAL_START + 4 * rng.below((LITERAL_END - LITERAL_START) / 4 - 1); // 8-byte loads stay inside
    const pc = PAYLOAD_ADDR + 4 * this.here;
    this.emit(E.ldrLiteral(opc, (target - pc) / 4, this.field()));
  }

  /** LSE atomics: LD<op>/ST<op>/SWP, all sizes and orderings. */
  private atomicOp(): void {
    const rng = this.rng;
    const size = rng.below(4);
    const bytes = 1 << size;
    const rn = this.reg();
    const rt = rng.chance(0.2) ? 31 : this.field();
    const op = rng.below(9);
    const alias = this.alias();
    const off = this.atomicTarget(alias, bytes);
    const tag = this.tagFor(off, bytes, true, alias, rn);
    this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
    this.emit(E.atomic(size, rng.below(2), rng.below(2), this.field(), op, rn, rt));
    this.note(`atomic +${off.toString(16)} ${alias}`);
  }

  /**
   * Target of an atomic or ordered access (FEAT_LSE2 rules): naturally aligned, sometimes
   * unaligned inside a 16-byte block, and in faulting cases sometimes crossing one (an
   * alignment fault).
   */
  private atomicTarget(alias: Alias, bytes: number, write = true): number {
    const rng = this.rng;
    if (rng.chance(0.8)) return this.target(alias, bytes, bytes, 0, write);
    if (this.otherFaults && bytes > 1 && rng.chance(0.3)) {
      this.note('crosses 16 bytes');
      return this.target(alias, 32, 16, 0, write) + 16 - rng.range(1, bytes - 1);
    }
    return this.target(alias, bytes, 1, 16, write);
  }

  /** CAS (B, H, W, X) and CASP (W, X) with all orderings; the compare often succeeds. */
  private compareAndSwap(): void {
    const rng = this.rng;
    const alias = this.alias();
    const l = rng.below(2);
    const o0 = rng.below(2);
    if (rng.chance(0.7)) {
      const size = rng.below(4);
      const bytes = 1 << size;
      const rn = this.reg();
      const rs = this.fieldExcept(rn);
      const off = this.noUnmapped(alias, this.atomicTarget(alias, bytes), bytes);
      const tag = this.tagFor(off, bytes, true, alias, rn);
      this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
      if (rs !== 31 && rng.chance(0.5)) this.emit(E.ldstUoff(size, 1, 0, rn, rs)); // make the compare succeed
      this.emit(E.cas(size, l, o0, rs, rn, this.field()));
      this.note(`cas +${off.toString(16)} ${alias}`);
    } else {
      const sz = rng.below(2);
      const bytes = sz ? 16 : 8;
      const rs = 2 * rng.below(16);
      const rt = 2 * rng.below(16);
      const rn = this.regExcept(rs, rs + 1);
      const off = this.noUnmapped(alias, this.target(alias, bytes, bytes), bytes);
      const tag = this.tagFor(off, bytes, true, alias, rn);
      this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
      if (rng.chance(0.5)) this.emit(E.ldstPair(sz ? 2 : 0, 2, 1, 0, rs + 1, rn, rs)); // LDP the expected values
      this.emit(E.casp(sz, l, o0, rs, rn, rt));
      this.note(`casp +${off.toString(16)} ${alias}`);
    }
  }

  /**
   * Moves a CAS/CASP target off the unmapped special page (onto the read-only one): QEMU reports
   * their translation faults with WnR = 1 when MTE checks are active and 0 otherwise (the Arm ARM
   * says 0: a read would fault too), so the result would depend on PSTATE.TCO.
   */
  private noUnmapped(alias: Alias, off: number, bytes: number): number {
    if (!Generator.isSpecial(alias) || (off >> 12 !== 1 && (off + bytes - 1) >> 12 !== 1)) return off;
    return off + 0x2000;
  }

  /**
   * LDXR/LDAXR + STXR/STLXR (or the pair forms) on the same aligned address and size, with a
   * few data-processing instructions (not touching the base) and sometimes CLREX in between.
   */
  private exclusive(): void {
    const rng = this.rng;
    const alias = this.alias();
    const pair = rng.chance(0.3);
    const size = pair ? rng.range(2, 3) : rng.below(4);
    const bytes = pair ? 2 << size : 1 << size;
    const rn = this.reg();
    const off = this.target(alias, bytes, bytes);
    const tag = this.tagFor(off, bytes, true, alias, rn);
    this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
    const rt = this.fieldExcept(rn);
    if (pair) this.emit(E.ldxp(size - 2, rng.below(2), this.fieldExcept(rn, rt), rn, rt));
    else this.emit(E.ldxr(size, rng.below(2), rn, rt));
    for (let i = rng.below(3); i > 0; i--) this.emit(this.fillerNotWriting(rn));
    const clrex = rng.chance(0.15);
    if (clrex) this.emit(E.clrex(rng.below(16)));
    const st = this.field();
    if (pair) {
      const st2 = this.field();
      this.emit(E.stxp(size - 2, rng.below(2), this.fieldExcept(rn, st, st2), st2, rn, st));
    } else {
      this.emit(E.stxr(size, rng.below(2), this.fieldExcept(rn, st), rn, st));
    }
    this.note(`exclusive${pair ? ' pair' : ''}${clrex ? ' clrex' : ''} +${off.toString(16)} ${alias}`);
  }

  /** A data-processing instruction whose destination is not `avoid` (and not SP). */
  private fillerNotWriting(avoid: number): number {
    const rng = this.rng;
    const d = this.fieldExcept(avoid, 31);
    return rng.pick([
      E.addSubShifted(1, rng.below(2), rng.below(2), rng.below(3), this.field(), rng.below(64), this.field(), d),
      E.logicalReg(rng.below(2), rng.below(4), rng.below(4), rng.below(2), this.field(), rng.below(32), this.field(), d),
      E.condSelect(1, rng.below(2), rng.below(2), this.field(), this.cond(), this.field(), d),
      E.irg(d, this.field(), this.field()),
    ]);
  }

  /** LDAR, STLR, LDAPR (B, H, W, X). */
  private ordered(): void {
    const rng = this.rng;
    const size = rng.below(4);
    const bytes = 1 << size;
    const rn = this.reg();
    const alias = this.alias();
    const which = rng.below(3);
    const off = this.atomicTarget(alias, bytes, which === 1);
    const tag = this.tagFor(off, bytes, true, alias, rn);
    this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
    this.emit(which === 0 ? E.ldar(size, rn, this.field()) : which === 1 ? E.stlr(size, rn, this.field()) : E.ldapr(size, rn, this.field()));
    this.note(`ordered +${off.toString(16)} ${alias}`);
  }

  /** LDAPUR, LDAPURS (W, X), STLUR (FEAT_LRCPC2); always correctly tagged (QEMU does not check them). */
  private orderedUnscaled(): void {
    const rng = this.rng;
    const [size, opc] = rng.pick([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1], [0, 2], [1, 2], [2, 2], [0, 3], [1, 3]] as const);
    const bytes = 1 << size;
    const rn = this.reg();
    const alias = this.alias();
    const off = this.rng.chance(0.8) ? this.target(alias, bytes, bytes, 0, opc === 0) : this.target(alias, bytes, 1, 16, opc === 0);
    const tag = this.tagFor(off, bytes, true, alias, rn, false);
    const imm = this.simm(9);
    this.base(rn, this.pointer(off, tag, alias, this.topNibble()), BigInt(imm), null);
    this.emit(E.ldapur(size, opc, imm, rn, this.field()));
    this.note(`ldapur +${off.toString(16)} ${alias}`);
  }

  /** STG/STZG/ST2G/STZ2G, offset, pre- and post-index; Xt holds the tag (Xt = Xn or SP sometimes). */
  private storeTags(): void {
    const rng = this.rng;
    const opc = rng.below(4);
    const span = opc >= 2 ? 32 : 16;
    const op2 = rng.range(1, 3);
    const wback = op2 !== 2;
    const alias = this.alias(true);
    const misaligned = this.otherFaults && rng.chance(0.05);
    const off = this.target(alias, span + 16, 16) + (misaligned ? rng.range(1, 15) : 0);
    const tag = rng.pick(this.palette);
    const ptr = this.pointer(off, tag, alias, this.topNibble());
    const imm9 = this.simm(9);
    const delta = op2 === 1 ? 0n : BigInt(imm9 * 16);
    const useSp = rng.chance(0.1);
    const rn = useSp ? 31 : this.reg();
    const tmp = this.regExcept(rn);
    this.base(rn, ptr, delta, useSp ? { tmp } : null);
    let rt: number;
    const same = rng.chance(0.4) && !wback;
    if (same) {
      rt = rn; // the base's own tag (SP's when rn = 31)
    } else {
      rt = this.regExcept(rn, useSp ? -1 : rn);
      if (rng.chance(0.5)) this.emit(E.moveWide(1, 3, 3, ((this.topNibble() << 4) | tag) << 8, rt));
      else this.movImm64(rt, (rng.u64() & 0x00ff_ffff_ffff_ffffn) | (BigInt((this.topNibble() << 4) | tag) << 56n));
    }
    this.emit(E.storeTag(opc, imm9, op2, rn, rt));
    if (!misaligned) this.setTags(off, span, tag, alias);
    this.note(`${['stg', 'stzg', 'st2g', 'stz2g'][opc]} +${off.toString(16)} tag ${tag} ${alias}`);
  }

  /** LDG Xt, [Xn|SP, #imm]. */
  private loadTag(): void {
    const rng = this.rng;
    const alias = this.alias();
    const off = this.target(alias, 1, 1, 0, false);
    const imm9 = this.simm(9);
    const useSp = rng.chance(0.1);
    const rn = useSp ? 31 : this.reg();
    const tmp = this.regExcept(rn);
    const ptr = this.pointer(off, rng.below(16), alias, this.topNibble());
    const delta = BigInt(imm9 * 16);
    if (useSp && ((ptr - delta) & 15n) !== 0n) return;
    this.base(rn, ptr, delta, useSp ? { tmp } : null);
    this.emit(E.ldg(imm9, rn, this.field()));
    this.note(`ldg +${off.toString(16)} ${alias}`);
  }

  /** STGP Xt, Xt2, [Xn|SP, #imm]: data and the base's tag. */
  private storeTagPair(): void {
    const rng = this.rng;
    const mode = rng.range(1, 3);
    const wback = mode !== 2;
    const alias = this.alias(true);
    const off = this.target(alias, 16, 16);
    const tag = rng.pick(this.palette);
    const ptr = this.pointer(off, tag, alias, this.topNibble());
    const imm7 = this.simm(7);
    const delta = mode === 1 ? 0n : BigInt(imm7 * 16);
    const useSp = rng.chance(0.1);
    const rn = useSp ? 31 : this.reg();
    const tmp = this.regExcept(rn);
    this.base(rn, ptr, delta, useSp ? { tmp } : null);
    const rt = wback && !useSp ? this.fieldExcept(rn) : this.field();
    const rt2 = wback && !useSp ? this.fieldExcept(rn) : this.field();
    this.emit(E.stgp(mode, imm7, rt2, rn, rt));
    this.setTags(off, 16, tag, alias);
    this.note(`stgp +${off.toString(16)} tag ${tag} ${alias}`);
  }

  /** LDGM, STGM (256-byte block) and STZGM (64-byte block), with a known source value. */
  private tagMultiple(): void {
    const rng = this.rng;
    const opc = rng.pick([0, 2, 3]);
    const alias = this.alias(opc !== 3);
    const off = this.target(alias, 1, 1, 0, opc !== 3);
    const rn = this.reg();
    const rt = this.regExcept(rn);
    if (opc !== 3) {
      const value = rng.chance(0.5) ? rng.u64() : BigInt(rng.pick(this.palette)) * 0x1111_1111_1111_1111n;
      this.movImm64(rt, value);
      if (Generator.tagsScratch(alias)) {
        if (opc === 2) {
          const block = off & ~255;
          for (let g = 0; g < 16; g++) this.tags[(block >> 4) + g] = Number((value >> BigInt(4 * g)) & 15n);
        } else {
          this.setTags(off & ~63, 64, Number(value & 15n));
        }
      }
    }
    this.base(rn, this.pointer(off, rng.below(16), alias, this.topNibble()), 0n, null);
    this.emit(E.tagMultiple(opc, rn, rt));
    this.note(`${{ 0: 'stzgm', 2: 'stgm', 3: 'ldgm' }[opc]} +${off.toString(16)} ${alias}`);
  }

  /** DC ZVA (checked: always the right tag), DC GVA, DC GZVA on a 64-byte block. */
  private dcZero(): void {
    const rng = this.rng;
    const op2 = rng.pick([1, 3, 4]);
    const alias = this.alias(op2 !== 1);
    const off = this.target(alias, 1, 1);
    const block = off & ~63;
    const rn = this.reg();
    const tag = op2 === 1 ? this.tagFor(block, 64, true, alias, rn, false) : rng.pick(this.palette);
    this.base(rn, this.pointer(off, tag, alias, this.topNibble()), 0n, null);
    this.emit(E.dcZero(op2, rn));
    if (op2 !== 1) this.setTags(block, 64, tag, alias);
    this.note(`dc ${{ 1: 'zva', 3: 'gva', 4: 'gzva' }[op2]} +${block.toString(16)} ${alias}`);
  }

  /**
   * LDTR/STTR (EL0 permissions, TCF0 = 0 so unchecked): through the untagged alias, which EL0
   * may access; faulting cases also use the EL1-only scratch (a permission fault).
   */
  private unprivileged(): void {
    const rng = this.rng;
    const [size, opc] = rng.pick([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1], [0, 2], [1, 2], [2, 2], [0, 3], [1, 3]] as const);
    const bytes = 1 << size;
    const alias: Alias = this.otherFaults && rng.chance(0.3) ? 'tagged' : 'untagged';
    const off = this.target(alias, bytes, this.plainAlign(bytes));
    const rn = this.reg();
    const imm = this.simm(9);
    this.base(rn, this.pointer(off, rng.pick(this.palette), alias, this.topNibble()), BigInt(imm), null);
    this.emit(E.ldstImm9(size, opc, imm, 2, rn, this.field()));
    this.note(`ldtr/sttr +${off.toString(16)} ${alias}`);
  }
}
