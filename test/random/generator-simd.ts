/**
 * Random but valid SIMD&FP instruction sequences for the instruction-test harness, with the
 * harness's SIMD&FP state on (random V0..V31, FPSR; the transcript adds V0..V31, FPCR, FPSR).
 * `generateSimdCase(seed)` is a pure function of the seed; the sibling of generator.ts for the
 * part of the ISA docs/fp-simd.md lists as implemented.
 *
 * Groups: a memory access builds its base (and index) register with MOVZ/MOVK first, so it
 * lands where it was meant to: the harness scratch buffer (0x4010_0000, 64 KiB, tagged) or, in
 * faulting cases, the special pages (untagged, unmapped, read-only: runtime/mmu.c). Accesses:
 * LDR/STR B/H/S/D/Q (unsigned offset, pre/post-index, unscaled, register offset with every
 * extend), LDP/STP/LDNP/STNP S/D/Q, LDR literal S/D/Q (into the state block and payload slot),
 * LD1-LD4/ST1-ST4 (multiple structures), single-lane LD1-LD4/ST1-ST4, LD1R-LD4R, without offset
 * and post-indexed by the size or by a register. MTE: the scratch tags are tracked; clean cases
 * use the granules' tag (re-tagging mixed spans with STG first), faulting cases (one in four)
 * sometimes use a wrong one, cross into the unmapped page or store to the read-only page.
 * Data processing: every integer Advanced SIMD form simd-int.ts and simd-move.ts implement, with
 * random registers, arrangements and immediates; FMOV (general, register, immediate); MRS/MSR
 * FPSR and FPCR. Seeds >= SIMD_INT_SEEDS_FROM also draw the integer-SIMD family
 * (simd-int-family.ts: saturating, by-element, polynomial, dot-product and crypto forms, with
 * V registers at the saturation edges); seeds below it draw what they always drew.
 *
 * Not generated: SP as a base (QEMU does not check SP alignment), FP arithmetic (not
 * implemented), Rm == Rn for register post-index.
 */
import * as E from './encode.js';
import { Rng } from './rng.js';
import type { HarnessState } from '../support/harness-image.js';
import { HARNESS_PAYLOAD_WORDS, HARNESS_SCRATCH_BASE, HARNESS_SCRATCH_SIZE } from '../support/harness-image.js';
import { PAYLOAD_ADDR, type GeneratedCase } from './generator.js';
import { edgeVector, SIMD_INT_SEEDS_FROM, simdIntWord } from './simd-int-family.js';

const SCRATCH = BigInt(HARNESS_SCRATCH_BASE);
/** runtime/mmu.c: 0x4040_8000 untagged, 0x4040_9000 unmapped, 0x4040_A000 tagged, 0x4040_B000 read-only. */
const SPECIAL = 0x4040_8000n;
const STATE_ADDR = PAYLOAD_ADDR - 0x100;
const MASK64 = (1n << 64n) - 1n;
const GRANULES = HARNESS_SCRATCH_SIZE / 16;

export function generateSimdCase(seed: number): GeneratedCase {
  return new SimdGenerator(seed).generate();
}

const u = (w: number): number => w >>> 0;

class SimdGenerator {
  private readonly rng: Rng;
  private readonly faulting: boolean;
  private readonly words: number[] = [];
  private readonly notes = new Map<number, string>();
  private readonly tags = new Uint8Array(GRANULES);
  private readonly hotRegions: number[] = [];
  /** X registers the accesses may use for addresses; the others keep random data for DUP/INS/FMOV. */
  private readonly addrRegs: number[] = [];
  /** Seeds of the integer-SIMD family (simd-int-family.ts) also draw its instructions and edge vectors. */
  private readonly intFamily: boolean;

  constructor(private readonly seed: number) {
    this.rng = new Rng(seed ^ 0x51d0_51d0);
    this.intFamily = seed >= SIMD_INT_SEEDS_FROM;
    this.faulting = this.rng.chance(0.25);
    for (let i = 0; i < this.rng.range(1, 4); i++) this.hotRegions.push(this.rng.below(HARNESS_SCRATCH_SIZE / 256) * 256);
    while (this.addrRegs.length < 6) {
      const r = this.rng.below(31);
      if (!this.addrRegs.includes(r)) this.addrRegs.push(r);
    }
  }

  generate(): GeneratedCase {
    const state = this.initialState();
    const budget = this.rng.range(40, 160);
    while (this.words.length < budget) {
      const before = this.words.length;
      this.rng.weighted<() => void>([
        [40, () => this.dataProcessing()],
        [12, () => this.loadStoreRegister()],
        [6, () => this.pair()],
        [3, () => this.literal()],
        [10, () => this.structures()],
        [6, () => this.lanes()],
        [4, () => this.fpMove()],
        [2, () => this.fpStatus()],
        ...(this.intFamily ? [[60, () => this.emit(simdIntWord(this.rng))] as const] : []),
      ])();
      if (this.words.length > HARNESS_PAYLOAD_WORDS) {
        this.words.length = before;
        break;
      }
    }
    return { seed: this.seed, mode: this.faulting ? 'faulting' : 'clean', state, words: this.words, notes: this.notes };
  }

  private initialState(): HarnessState {
    const rng = this.rng;
    const x = Array.from({ length: 31 }, () => (rng.chance(0.5) ? rng.u64() : BigInt(rng.range(-40, 300)) & MASK64));
    const v = Array.from({ length: 32 }, () =>
      this.intFamily && rng.chance(0.4) ? edgeVector(rng) : rng.weighted<() => bigint>([
        [40, () => (rng.u64() << 64n) | rng.u64()],
        [20, () => this.bytesWithZeros()],
        [15, () => BigInt(rng.below(256)) * 0x01010101010101010101010101010101n],
        [10, () => rng.u64()],
        [15, () => [0n, (1n << 128n) - 1n, 0x80808080808080808080808080808080n, 0x7fff0000ffff80007fff0000ffff8000n][rng.below(4)]!],
      ])(),
    );
    const fpsr = rng.chance(0.3) ? 1 << 27 : 0;
    return { x, nzcv: rng.below(16), simd: { v, fpcr: 0, fpsr } };
  }

  /** A string-like vector: printable bytes with a zero or two (what strlen/memchr look for). */
  private bytesWithZeros(): bigint {
    let v = 0n;
    for (let b = 0; b < 16; b++) v |= BigInt(this.rng.chance(0.1) ? 0 : this.rng.range(0x20, 0x7e)) << BigInt(8 * b);
    return v;
  }

  private emit(...words: number[]): void {
    for (const w of words) this.words.push(u(w));
  }

  private note(text: string): void {
    const at = this.words.length;
    this.notes.set(at, this.notes.has(at) ? `${this.notes.get(at)}; ${text}` : text);
  }

  private vr(): number {
    return this.rng.below(32);
  }

  /** A general register 0..30 (31 as ZR where the encoding reads XZR). */
  private xr(zr = true): number {
    return zr && this.rng.chance(0.05) ? 31 : this.rng.below(31);
  }

  private movImm64(r: number, value: bigint): void {
    const v = value & MASK64;
    this.emit(E.moveWide(1, 2, 0, Number(v & 0xffffn), r)); // MOVZ
    for (let hw = 1; hw < 4; hw++) {
      const half = Number((v >> BigInt(16 * hw)) & 0xffffn);
      if (half) this.emit(E.moveWide(1, 3, hw, half, r)); // MOVK
    }
  }

  // ---- addresses and tags ----

  /** Scratch offset for `span` bytes aligned to `align`, usually in a hot region or near a page end. */
  private offset(span: number, align: number): number {
    for (;;) {
      const where = this.rng.below(100);
      let off = where < 70 ? this.rng.pick(this.hotRegions) + this.rng.below(256) : where < 85 ? this.rng.range(1, 15) * 4096 - this.rng.range(0, span + 8) : this.rng.below(HARNESS_SCRATCH_SIZE);
      off -= off % align;
      if (off >= 0 && off + span <= HARNESS_SCRATCH_SIZE) return off;
    }
  }

  /**
   * The pointer for [off, off + span) of the scratch buffer: the granules' common tag (re-tagging
   * them with STG through `tmp` if they differ), or in faulting cases sometimes a wrong one.
   */
  private taggedPointer(off: number, span: number, tmp: number, checked: boolean): bigint {
    const first = off >> 4;
    const last = (off + span - 1) >> 4;
    let tag = this.tags[first]!;
    let mixed = false;
    for (let g = first + 1; g <= last; g++) if (this.tags[g] !== tag) mixed = true;
    if (checked && (mixed || this.rng.chance(0.15))) {
      tag = this.rng.range(0, 15);
      this.movImm64(tmp, SCRATCH + BigInt(first * 16) + (BigInt(tag) << 56n));
      for (let g = first; g <= last; g++) this.emit(E.storeTag(0, g - first, 2, tmp, tmp));
      this.tags.fill(tag, first, last + 1);
      this.note(`retag +${(first * 16).toString(16)} x${last - first + 1} = ${tag}`);
    }
    if (checked && this.faulting && this.rng.chance(0.06)) {
      const wrong = (tag + this.rng.range(1, 15)) & 15;
      this.note(`WRONG TAG ${wrong} (granules ${tag})`);
      tag = wrong;
    }
    return SCRATCH + BigInt(off) + (BigInt(tag) << 56n);
  }

  /**
   * The address of an access of `span` bytes (alignment `align`): the tagged scratch, or in
   * faulting cases sometimes the special pages around the unmapped and read-only ones.
   */
  private address(span: number, align: number, tmp: number, write: boolean): bigint {
    if (this.faulting && this.rng.chance(0.12)) {
      const page = write && this.rng.chance(0.5) ? 3 : 1; // read-only or unmapped
      const off = page * 4096 - this.rng.range(0, span + 4);
      const at = off - (off % align);
      this.note(`special page +${at.toString(16)}`);
      return SPECIAL + BigInt(at);
    }
    const off = this.offset(span, align);
    return this.taggedPointer(off, span, tmp, true);
  }

  private align(size: number): number {
    return this.rng.chance(0.7) ? size : 1;
  }

  // ---- loads and stores ----

  /** LDR/STR (SIMD&FP) in every immediate and register-offset mode. */
  private loadStoreRegister(): void {
    const rng = this.rng;
    const sizeLog = rng.below(5); // B H S D Q
    const bytes = 1 << sizeLog;
    const size = sizeLog === 4 ? 0 : sizeLog;
    const load = rng.below(2);
    const opc = (sizeLog === 4 ? 2 : 0) | load;
    const rt = this.vr();
    const [rn, rm] = this.twoAddrRegs();
    const mode = rng.below(5);
    const base = (delta: number): void => {
      const ptr = this.address(bytes, this.align(bytes), rm, !load);
      this.movImm64(rn, (ptr - BigInt(delta)) & MASK64);
    };
    switch (mode) {
      case 0: {
        const imm12 = rng.chance(0.5) ? rng.below(8) : rng.below(64);
        base(imm12 * bytes);
        this.emit(0x3d000000 | (size << 30) | (opc << 22) | (imm12 << 10) | (rn << 5) | rt);
        return;
      }
      case 1:
      case 2:
      case 3: {
        const imm9 = rng.range(-256, 255);
        base(mode === 2 ? 0 : imm9); // 1 unscaled, 2 post-index, 3 pre-index
        const bits = mode === 1 ? 0 : mode === 2 ? 1 : 3;
        this.emit(0x3c000000 | (size << 30) | (opc << 22) | ((imm9 & 0x1ff) << 12) | (bits << 10) | (rn << 5) | rt);
        return;
      }
      default: {
        const option = rng.pick([2, 3, 6, 7]);
        const s = rng.below(2);
        const shift = s ? sizeLog : 0;
        let index = BigInt(rng.range(-64, 64)) * BigInt(bytes);
        if (shift) index /= BigInt(bytes);
        const indexValue = option === 2 ? index & 0xffffffffn : option === 6 ? BigInt.asUintN(32, index) : index & MASK64;
        const effective = option === 2 ? indexValue : option === 6 ? BigInt.asIntN(32, indexValue) : BigInt.asIntN(64, indexValue);
        const ptr = this.address(bytes, this.align(bytes), rn, !load);
        // Junk in the upper half of a W index: the extend must ignore it.
        const junk = option === 2 || option === 6 ? BigInt(rng.u32()) << 32n : 0n;
        this.movImm64(rm, (indexValue | junk) & MASK64);
        this.movImm64(rn, (ptr - (effective << BigInt(shift))) & MASK64);
        this.emit(0x3c200800 | (size << 30) | (opc << 22) | (rm << 16) | (option << 13) | (s << 12) | (rn << 5) | rt);
      }
    }
  }

  private twoAddrRegs(): [number, number] {
    const rn = this.rng.pick(this.addrRegs);
    let rm = this.rng.pick(this.addrRegs);
    while (rm === rn) rm = this.rng.pick(this.addrRegs);
    return [rn, rm];
  }

  /** LDP/STP/LDNP/STNP of S, D, Q registers (Rt != Rt2 for loads). */
  private pair(): void {
    const rng = this.rng;
    const opc = rng.below(3);
    const bytes = 4 << opc;
    const load = rng.below(2);
    const rt = this.vr();
    let rt2 = this.vr();
    while (load && rt2 === rt) rt2 = this.vr();
    const [rn, tmp] = this.twoAddrRegs();
    const mode = rng.below(4); // 0 no-allocate offset, 1 post, 2 offset, 3 pre
    const imm7 = rng.range(-8, 8);
    const ptr = this.address(2 * bytes, this.align(bytes), tmp, !load);
    this.movImm64(rn, (ptr - BigInt(mode === 1 ? 0 : imm7 * bytes)) & MASK64);
    this.emit(0x2c000000 | (opc << 30) | (mode << 23) | (load << 22) | ((imm7 & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt);
  }

  /** LDR (literal) S/D/Q reading the state block or the payload slot. */
  private literal(): void {
    const opc = this.rng.below(3);
    const bytes = 4 << opc;
    const pc = PAYLOAD_ADDR + 4 * this.words.length;
    const lo = STATE_ADDR;
    const hi = PAYLOAD_ADDR + HARNESS_PAYLOAD_WORDS * 4 - bytes;
    const target = lo + 4 * this.rng.below((hi - lo) / 4);
    this.emit(0x1c000000 | (opc << 30) | ((((target - pc) / 4) & 0x7ffff) << 5) | this.vr());
  }

  /** Register post-index (Rm) or immediate post-index (Rm = 31) or none: bits 23 and 20:16. */
  private postIndex(rn: number, total: number): { bits: number; delta: number } {
    const kind = this.rng.below(3);
    if (kind === 0) return { bits: 0, delta: 0 };
    if (kind === 1) return { bits: (1 << 23) | (31 << 16), delta: 0 };
    let rm = this.rng.pick(this.addrRegs);
    while (rm === rn) rm = this.rng.pick(this.addrRegs);
    const step = BigInt(this.rng.range(-total, total * 2));
    this.movImm64(rm, step & MASK64);
    return { bits: (1 << 23) | (rm << 16), delta: 0 };
  }

  /** LD1-LD4/ST1-ST4, multiple structures. */
  private structures(): void {
    const rng = this.rng;
    const [opcode, regs] = rng.pick([[0b0000, 4], [0b0010, 4], [0b0100, 3], [0b0110, 3], [0b0111, 1], [0b1000, 2], [0b1010, 2]] as const);
    const selem = opcode === 0 ? 4 : opcode === 4 ? 3 : opcode === 8 ? 2 : 1;
    const q = rng.below(2);
    let size = rng.below(4);
    if (size === 3 && !q && selem > 1) size = 2;
    const load = rng.below(2);
    const total = regs * (q ? 16 : 8);
    const rn = rng.pick(this.addrRegs);
    const post = this.postIndex(rn, total);
    const tmp = this.addrRegs.find((r) => r !== rn && r !== (post.bits >>> 16 & 31))!;
    this.movImm64(rn, this.address(total, this.align(1 << size), tmp, !load));
    this.emit(0x0c000000 | (q << 30) | post.bits | (load << 22) | (opcode << 12) | (size << 10) | (rn << 5) | this.vr());
  }

  /** Single-structure LD1-LD4/ST1-ST4 (one lane) and LD1R-LD4R. */
  private lanes(): void {
    const rng = this.rng;
    const load = rng.below(2);
    const replicate = load && rng.chance(0.35);
    const selem = rng.range(1, 4);
    const r = (selem - 1) & 1;
    const opBit0 = (selem - 1) >> 1;
    const q = rng.below(2);
    let word: number;
    let esize: number;
    if (replicate) {
      const size = rng.below(4);
      esize = 1 << size;
      word = (0b110 << 13) | (opBit0 << 13) | (size << 10) | (q << 30);
    } else {
      const scale = rng.below(4);
      esize = 1 << scale;
      const index = rng.below(16 >> scale);
      const qBit = index >> (3 - scale);
      if (scale === 0) word = (qBit << 30) | (((index >> 2) & 1) << 12) | ((index & 3) << 10);
      else if (scale === 1) word = (1 << 14) | (qBit << 30) | (((index >> 1) & 1) << 12) | ((index & 1) << 11);
      else if (scale === 2) word = (2 << 14) | (qBit << 30) | ((index & 1) << 12);
      else word = (2 << 14) | (qBit << 30) | (1 << 10);
      word |= opBit0 << 13;
    }
    const rn = rng.pick(this.addrRegs);
    const total = esize * selem;
    const post = this.postIndex(rn, total);
    const tmp = this.addrRegs.find((x) => x !== rn && x !== (post.bits >>> 16 & 31))!;
    this.movImm64(rn, this.address(total, this.align(esize), tmp, !load));
    this.emit(0x0d000000 | word | post.bits | (load << 22) | (r << 21) | (rn << 5) | this.vr());
  }

  // ---- data processing ----

  private dataProcessing(): void {
    const rng = this.rng;
    const q = rng.below(2);
    const d = this.vr();
    const n = this.vr();
    const m = this.vr();
    const size = rng.below(4);
    const sizeNo64 = rng.below(3);
    const fix64 = (s: number): number => (s === 3 && !q ? 2 : s);
    rng.weighted<() => void>([
      [20, () => {
        // three same: [U, opcode, sizes 'all' | 'no64']
        const [uu, opcode, all] = rng.pick([
          [0, 0x10, 1], [1, 0x10, 1], [0, 0x11, 1], [1, 0x11, 1], [0, 0x06, 1], [1, 0x06, 1], [0, 0x07, 1], [1, 0x07, 1],
          [0, 0x01, 1], [1, 0x01, 1], [0, 0x05, 1], [1, 0x05, 1], [0, 0x0c, 0], [1, 0x0c, 0], [0, 0x0d, 0], [1, 0x0d, 0],
          [0, 0x0e, 0], [1, 0x0e, 0], [0, 0x13, 0], [0, 0x17, 1], [0, 0x14, 0], [1, 0x14, 0], [0, 0x15, 0], [1, 0x15, 0],
          [0, 0x03, 2], [1, 0x03, 2], [0, 0x08, 1], [1, 0x08, 1], [0, 0x12, 0], [1, 0x12, 0],
        ] as const);
        const s = all === 2 ? size : all ? fix64(size) : sizeNo64;
        this.emit(0x0e200400 | (q << 30) | (uu << 29) | (s << 22) | (m << 16) | (opcode << 11) | (n << 5) | d);
      }],
      [5, () => {
        const [uu, opcode] = rng.pick([[0, 0x10], [1, 0x10], [0, 0x11], [1, 0x11], [0, 0x06], [1, 0x06], [0, 0x07], [1, 0x07], [0, 0x01], [1, 0x01], [0, 0x05], [1, 0x05], [0, 0x08], [1, 0x08]] as const);
        this.emit(0x5e200400 | (uu << 29) | (3 << 22) | (m << 16) | (opcode << 11) | (n << 5) | d);
      }],
      [12, () => {
        // two-register misc
        const pick = rng.below(8);
        let uu = 0;
        let opcode: number;
        let s: number;
        if (pick === 0) [uu, opcode, s] = rng.pick([[0, 0, rng.below(3)], [0, 1, 0], [1, 0, rng.below(2)]] as const); // REV64/16/32
        else if (pick === 1) [uu, opcode, s] = rng.pick([[0, 5, 0], [1, 5, 0], [1, 5, 1]] as const); // CNT NOT RBIT
        else if (pick === 2) [uu, opcode, s] = [rng.below(2), 4, sizeNo64]; // CLS CLZ
        else if (pick === 3) [uu, opcode, s] = [0, 0x12, sizeNo64]; // XTN
        else if (pick === 4) [uu, opcode, s] = [rng.below(2), rng.pick([2, 6]), sizeNo64]; // [SU]ADDLP [SU]ADALP
        else {
          [uu, opcode] = rng.pick([[0, 8], [1, 8], [0, 9], [1, 9], [0, 10], [0, 11], [1, 11]] as const);
          s = fix64(size);
        }
        this.emit(0x0e200800 | (q << 30) | (uu << 29) | (s << 22) | (opcode << 12) | (n << 5) | d);
      }],
      [3, () => {
        const [uu, opcode] = rng.pick([[0, 8], [1, 8], [0, 9], [1, 9], [0, 10], [0, 11], [1, 11]] as const);
        this.emit(0x5e200800 | (uu << 29) | (3 << 22) | (opcode << 12) | (n << 5) | d);
      }],
      [6, () => {
        // across lanes
        const [uu, opcode] = rng.pick([[0, 0x1b], [1, 0x0a], [0, 0x0a], [1, 0x1a], [0, 0x1a], [1, 0x03], [0, 0x03]] as const);
        const qq = sizeNo64 === 2 ? 1 : q;
        this.emit(0x0e300800 | (qq << 30) | (uu << 29) | (sizeNo64 << 22) | (opcode << 12) | (n << 5) | d);
      }],
      [10, () => {
        // shift by immediate
        const [uu, opcode, kind] = rng.pick([
          [0, 0, 'r'], [1, 0, 'r'], [0, 2, 'r'], [1, 2, 'r'], [0, 4, 'r'], [1, 4, 'r'], [1, 8, 'r'], [0, 0x0a, 'l'], [1, 0x0a, 'l'],
          [0, 0x10, 'n'], [0, 0x11, 'n'], [0, 0x14, 'w'], [1, 0x14, 'w'],
        ] as const);
        const scalar = (kind === 'r' || kind === 'l') && rng.chance(0.2);
        const log = scalar ? 3 : kind === 'n' || kind === 'w' ? sizeNo64 : fix64(size);
        const bits = 8 << log;
        const shift = kind === 'l' || kind === 'w' ? rng.below(bits) : rng.range(1, bits);
        const immhb = kind === 'l' || kind === 'w' ? bits + shift : 2 * bits - shift;
        const top = scalar ? 0x5f000400 : 0x0f000400 | (q << 30);
        this.emit(top | (uu << 29) | (immhb << 16) | (opcode << 11) | (n << 5) | d);
      }],
      [8, () => {
        // three different
        const opcode = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12]);
        this.emit(0x0e200000 | (q << 30) | (rng.below(2) << 29) | (sizeNo64 << 22) | (m << 16) | (opcode << 12) | (n << 5) | d);
      }],
      [10, () => this.copy(q, d, n)],
      [6, () => {
        // modified immediate
        for (;;) {
          const op = rng.below(2);
          const cmode = rng.below(16);
          const o2 = cmode === 15 && !op && rng.chance(0.3) ? 1 : 0;
          if (cmode === 15 && op && !q) continue;
          const imm8 = rng.below(256);
          this.emit(0x0f000400 | (q << 30) | (op << 29) | ((imm8 >> 5) << 16) | (cmode << 12) | (o2 << 11) | ((imm8 & 31) << 5) | d);
          return;
        }
      }],
      [8, () => {
        // permute, EXT, TBL/TBX
        const which = rng.below(3);
        if (which === 0) this.emit(0x0e000800 | (q << 30) | (fix64(size) << 22) | (m << 16) | (rng.pick([1, 2, 3, 5, 6, 7]) << 12) | (n << 5) | d);
        else if (which === 1) this.emit(0x2e000000 | (q << 30) | (m << 16) | (rng.below(q ? 16 : 8) << 11) | (n << 5) | d);
        else this.emit(0x0e000000 | (q << 30) | (m << 16) | (rng.below(4) << 13) | (rng.below(2) << 12) | (n << 5) | d);
      }],
    ])();
  }

  /** DUP (element, general), INS (element, general), UMOV, SMOV, scalar DUP. */
  private copy(q: number, d: number, n: number): void {
    const rng = this.rng;
    const size = rng.below(4);
    const index = rng.below(16 >> size);
    const imm5 = ((index << 1) | 1) << size;
    const kind = rng.below(7);
    const rx = this.xr();
    if (kind === 0) this.emit(0x0e000400 | ((size === 3 ? 1 : q) << 30) | (imm5 << 16) | (n << 5) | d); // DUP element
    else if (kind === 1) this.emit(0x0e000c00 | ((size === 3 ? 1 : q) << 30) | ((1 << size) << 16) | (rx << 5) | d); // DUP general
    else if (kind === 2) this.emit(0x4e001c00 | (imm5 << 16) | (rx << 5) | d); // INS general
    else if (kind === 3) this.emit(0x6e000400 | (imm5 << 16) | ((rng.below(16 >> size) << size) << 11) | (n << 5) | d); // INS element
    else if (kind === 4) {
      const s = size === 3 ? 3 : rng.below(3); // UMOV: W from B/H/S, X from D
      const idx = rng.below(16 >> s);
      this.emit(0x0e003c00 | ((s === 3 ? 1 : 0) << 30) | ((((idx << 1) | 1) << s) << 16) | (n << 5) | this.xr(false));
    } else if (kind === 5) {
      const x = rng.below(2);
      const s = rng.below(x ? 3 : 2); // SMOV: W from B/H, X from B/H/S
      const idx = rng.below(16 >> s);
      this.emit(0x0e002c00 | (x << 30) | ((((idx << 1) | 1) << s) << 16) | (n << 5) | this.xr(false));
    } else this.emit(0x5e000400 | (imm5 << 16) | (n << 5) | d); // DUP (scalar)
  }

  /** FMOV between general and SIMD&FP registers, FMOV (register), FMOV (scalar, immediate). */
  private fpMove(): void {
    const rng = this.rng;
    const d = this.vr();
    const kind = rng.below(3);
    if (kind === 0) {
      const [sf, ftype, rmode] = rng.pick([[0, 0, 0], [1, 1, 0], [1, 2, 1], [0, 3, 0], [1, 3, 0]] as const);
      const toVector = rng.below(2);
      this.emit(0x1e260000 | (sf << 31) | (ftype << 22) | (rmode << 19) | (toVector << 16) | ((toVector ? this.xr() : this.vr()) << 5) | (toVector ? d : this.xr(false)));
    } else if (kind === 1) {
      this.emit(0x1e204000 | (rng.pick([0, 1, 3]) << 22) | (this.vr() << 5) | d);
    } else {
      this.emit(0x1e201000 | (rng.pick([0, 1, 3]) << 22) | (rng.below(256) << 13) | d);
    }
  }

  /** MRS FPSR/FPCR (QC from saturating ops shows here), MSR FPSR/FPCR with random values. */
  private fpStatus(): void {
    const rng = this.rng;
    const fpsr = rng.below(2);
    if (rng.chance(0.6)) {
      this.emit(0xd53b4400 | (fpsr << 5) | this.xr(false));
    } else {
      const r = this.xr(false);
      // FPCR: only the bits this CPU keeps (docs/fp-simd.md; QEMU also keeps AH, FIZ, NEP, EBF, FZ16, Len, Stride).
      this.movImm64(r, BigInt(fpsr ? rng.u32() : rng.u32() & 0x07c00000));
      this.emit(0xd51b4400 | (fpsr << 5) | r);
    }
  }
}
