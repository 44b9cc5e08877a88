/**
 * Random floating-point instruction sequences for the instruction-test harness with its SIMD&FP
 * state on: every scalar and Advanced SIMD FP form src/cpu/isa/fp-*.ts implement (single and
 * double precision, half-precision conversions), from V registers filled with edge operands
 * (±0, smallest and largest denormals, smallest normals, largest normals and one ulp below,
 * infinities, quiet and signalling NaNs with payloads, values one ulp around rounding ties,
 * around integer-conversion limits, around the tininess and overflow thresholds) and random
 * ones, under a random FPCR (RMode, FZ, DN, AHP; never AH, FIZ, NEP, FZ16 or EBF), changed now
 * and then mid-sequence. After some instructions the FPSR is copied into an X register and
 * cleared, so the transcript shows which instruction raised which flag, not only their sum.
 * FJCVTZS (FEAT_JSCVT) and FRINT32/64 (FEAT_FRINTTS) are generated too. `generateFpCase(seed)` is a
 * pure function of the seed.
 */
import { Rng } from './rng.js';
import { HARNESS_PAYLOAD_WORDS, type HarnessState } from '../support/harness-image.js';
import type { GeneratedCase } from './generator.js';

export function generateFpCase(seed: number): GeneratedCase {
  return new FpGenerator(seed).generate();
}

const MASK64 = (1n << 64n) - 1n;
const u = (w: number): number => w >>> 0;

/** Edge single-precision bit patterns. */
const EDGE32 = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x00400000, 0x00800000, 0x80800000, 0x00800001, 0x007ffffe,
  0x7f7fffff, 0xff7fffff, 0x7f7ffffe, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f800001, 0xff812345,
  0x7fbfffff, 0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3fc00000, 0xbfc00000, 0x40200000, 0x3f000000, 0xbf000000,
  0x33800000, 0x33c00000, 0x34000000, 0x4f000000, 0x4effffff, 0xcf000000, 0xcf000001, 0x4f800000, 0x5f000000, 0xdf000000,
  0x5effffff, 0x5f800000, 0x20000000, 0x1fffffff, 0x20000001, 0x1f800000, 0x5f7fffff, 0x4b000001, 0x4b400000, 0x3eaaaaab,
  0x40490fdb, 0x00000003,
];

/** Edge double-precision bit patterns. */
const EDGE64 = [
  0n, 0x8000000000000000n, 1n, 0x8000000000000001n, 0x000fffffffffffffn, 0x0008000000000000n, 0x0010000000000000n,
  0x8010000000000000n, 0x0010000000000001n, 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7feffffffffffffen, 0x7ff0000000000000n,
  0xfff0000000000000n, 0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000012345678n, 0x7ff0000000000001n, 0xfff0000012345678n,
  0x7ff7ffffffffffffn, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff0000000000001n, 0x3fefffffffffffffn, 0x3ff8000000000000n,
  0xbff8000000000000n, 0x4004000000000000n, 0x3fe0000000000000n, 0xbfe0000000000000n, 0x3ca0000000000000n, 0x3ca8000000000000n,
  0x3cb0000000000000n, 0x41e0000000000000n, 0x41dfffffffc00000n, 0x41dfffffffffffffn, 0xc1e0000000000000n, 0xc1e0000000200000n,
  0x41f0000000000000n, 0x43e0000000000000n, 0x43dfffffffffffffn, 0xc3e0000000000000n, 0x43f0000000000000n, 0x2000000000000000n,
  0x1fffffffffffffffn, 0x2000000000000001n, 0x5fefffffffffffffn, 0x5ff0000000000000n, 0x4330000000000001n, 0x4338000000000000n,
  0x3fd5555555555555n, 0x400921fb54442d18n, 0x47efffffe0000000n, 0x47efffffefffffffn, 0x47effffff0000000n, 0x380fffffffffffffn,
  0x3810000000000000n, 0x36a0000000000000n, 0x369fffffffffffffn, 0x380ffffff0000000n, 0x3f1fffffffffffffn,
];

/** Integer operands for SCVTF/UCVTF. */
const EDGE_INT = [
  0n, 1n, MASK64, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 24n + 1n,
  2n ** 24n + 3n, 2n ** 54n + 2n, (2n ** 64n - 3n) & MASK64, 0x7fffff80n, 0xffffff7fn, 0x8000008000000000n,
];

/** FPCR.RMode, FZ, DN, AHP: the bits the generated cases may set. */
const FPCR_BITS = (3 << 22) | (1 << 24) | (1 << 25) | (1 << 26);

/** Two-register miscellaneous keys (U:a:opcode) of the vector forms, and of the scalar forms. */
const MISC_VECTOR = [0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x2c, 0x2d, 0x2e, 0x2f, 0x38, 0x39, 0x3a, 0x3b, 0x3d, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x6c, 0x6d, 0x6f, 0x79, 0x7a, 0x7b, 0x7d, 0x7f];
const MISC_SCALAR = [0x1a, 0x1b, 0x1c, 0x1d, 0x2c, 0x2d, 0x2e, 0x3a, 0x3b, 0x3d, 0x3f, 0x5a, 0x5b, 0x5c, 0x5d, 0x6c, 0x6d, 0x7a, 0x7b, 0x7d];
/** Three same (U, a, opcode) of the vector forms, and of the scalar forms. */
const SAME_VECTOR = [
  [0, 0, 0x18], [0, 0, 0x19], [0, 0, 0x1a], [0, 0, 0x1b], [0, 0, 0x1c], [0, 0, 0x1e], [0, 0, 0x1f],
  [0, 1, 0x18], [0, 1, 0x19], [0, 1, 0x1a], [0, 1, 0x1e], [0, 1, 0x1f],
  [1, 0, 0x18], [1, 0, 0x1a], [1, 0, 0x1b], [1, 0, 0x1c], [1, 0, 0x1d], [1, 0, 0x1e], [1, 0, 0x1f],
  [1, 1, 0x18], [1, 1, 0x1a], [1, 1, 0x1c], [1, 1, 0x1d], [1, 1, 0x1e],
] as const;
const SAME_SCALAR = [[0, 0, 0x1b], [0, 0, 0x1c], [0, 0, 0x1f], [0, 1, 0x1f], [1, 0, 0x1c], [1, 0, 0x1d], [1, 1, 0x1a], [1, 1, 0x1c], [1, 1, 0x1d]] as const;

/** X registers: 0..9 integer operands and results, 10..27 FPSR samples, 28 FPCR values. */
const INT_REGS = 10;
const FPSR_REGS = 18;
const FPCR_TMP = 28;

class FpGenerator {
  private readonly rng: Rng;
  private readonly words: number[] = [];
  private readonly notes = new Map<number, string>();
  /** Lane size (2 single, 3 double) each V register was filled with. */
  private readonly laneLog: number[] = [];
  private nextFpsrReg = 0;

  constructor(private readonly seed: number) {
    this.rng = new Rng(seed ^ 0x0f9_0f9);
  }

  generate(): GeneratedCase {
    const state = this.initialState();
    const budget = this.rng.range(30, 120);
    while (this.words.length < budget) {
      const before = this.words.length;
      this.rng.weighted<() => void>([
        [14, () => this.scalarArith()],
        [5, () => this.scalarOneSource()],
        [5, () => this.scalarCompare()],
        [6, () => this.intConversion()],
        [12, () => this.threeSame()],
        [10, () => this.twoMisc()],
        [5, () => this.byElement()],
        [3, () => this.pairwiseAcross()],
        [3, () => this.fixedShift()],
        [3, () => this.widenNarrow()],
        [2, () => this.changeFpcr()],
      ])();
      if (this.rng.chance(0.35)) this.sampleFpsr();
      if (this.words.length > HARNESS_PAYLOAD_WORDS) {
        this.words.length = before;
        break;
      }
    }
    return { seed: this.seed, mode: 'clean', state, words: this.words, notes: this.notes };
  }

  private fpcrValue(): number {
    return this.rng.chance(0.4) ? 0 : this.rng.u32() & FPCR_BITS;
  }

  private initialState(): HarnessState {
    const rng = this.rng;
    const x = Array.from({ length: 31 }, (_, r) => (r < INT_REGS ? this.intOperand() : rng.u64()));
    const v = Array.from({ length: 32 }, () => {
      const log = rng.chance(0.5) ? 2 : 3;
      this.laneLog.push(log);
      let value = 0n;
      if (log === 2) for (let e = 0; e < 4; e++) value |= BigInt(this.single()) << BigInt(32 * e);
      else for (let e = 0; e < 2; e++) value |= this.double() << BigInt(64 * e);
      return value;
    });
    const fpsr = rng.chance(0.2) ? rng.u32() & 0x9f : 0;
    return { x, nzcv: rng.below(16), simd: { v, fpcr: this.fpcrValue(), fpsr } };
  }

  private intOperand(): bigint {
    const rng = this.rng;
    if (rng.chance(0.5)) return rng.pick(EDGE_INT);
    if (rng.chance(0.5)) return BigInt(rng.range(-100000, 100000)) & MASK64;
    return rng.u64() >> BigInt(rng.below(64));
  }

  private single(): number {
    const rng = this.rng;
    if (rng.chance(0.5)) return rng.pick(EDGE32);
    const sign = rng.below(2) << 31;
    const exp = rng.weighted<number>([[5, 0], [30, rng.range(110, 150)], [10, rng.range(1, 30)], [10, rng.range(220, 254)], [10, rng.range(1, 254)], [3, 255]]);
    let frac = rng.u32() & 0x7fffff;
    if (rng.chance(0.4)) frac &= ~((1 << rng.below(23)) - 1); // few significant bits: exact results, ties
    return u(sign | (exp << 23) | frac);
  }

  private double(): bigint {
    const rng = this.rng;
    if (rng.chance(0.5)) return rng.pick(EDGE64);
    const sign = BigInt(rng.below(2)) << 63n;
    const exp = rng.weighted<number>([[5, 0], [30, rng.range(990, 1060)], [10, rng.range(1, 60)], [10, rng.range(1980, 2046)], [10, rng.range(1, 2046)], [5, rng.range(870, 910)], [3, 2047]]);
    let frac = rng.u64() & ((1n << 52n) - 1n);
    if (rng.chance(0.4)) frac &= ~((1n << BigInt(rng.below(52))) - 1n);
    return sign | (BigInt(exp) << 52n) | frac;
  }

  private emit(...words: number[]): void {
    for (const w of words) this.words.push(u(w));
  }

  /** A V register, preferably one filled with lanes of size 2^log bytes. */
  private vr(log: number): number {
    for (let tries = 0; tries < 4; tries++) {
      const r = this.rng.below(32);
      if (this.laneLog[r] === log || this.rng.chance(0.2)) return r;
    }
    return this.rng.below(32);
  }

  private dest(): number {
    return this.rng.below(32);
  }

  private xr(): number {
    return this.rng.below(INT_REGS);
  }

  /** Scalar precision: ftype (0 single, 1 double) and its lane log. */
  private ftype(): [number, number] {
    const t = this.rng.below(2);
    return [t, t + 2];
  }

  private sampleFpsr(): void {
    const r = INT_REGS + (this.nextFpsrReg++ % FPSR_REGS);
    this.emit(0xd53b4420 | r, 0xd51b443f); // MRS Xr, FPSR; MSR FPSR, XZR
  }

  private changeFpcr(): void {
    const value = this.fpcrValue();
    this.emit(0xd2800000 | ((value & 0xffff) << 5) | FPCR_TMP, 0xf2a00000 | ((value >>> 16) << 5) | FPCR_TMP); // MOVZ, MOVK lsl 16
    this.emit(0xd51b4400 | FPCR_TMP); // MSR FPCR
    this.notes.set(this.words.length - 3, `FPCR = ${value.toString(16)}`);
  }

  private scalarArith(): void {
    const [t, log] = this.ftype();
    const n = this.vr(log);
    const m = this.vr(log);
    if (this.rng.chance(0.35)) {
      const o = this.rng.below(4);
      this.emit(0x1f000000 | (t << 22) | ((o >> 1) << 21) | (m << 16) | ((o & 1) << 15) | (this.vr(log) << 10) | (n << 5) | this.dest());
    } else this.emit(0x1e200800 | (t << 22) | (m << 16) | (this.rng.below(9) << 12) | (n << 5) | this.dest());
  }

  private scalarOneSource(): void {
    const rng = this.rng;
    if (rng.chance(0.25)) {
      // FCVT between S (0), D (1) and H (3).
      const from = rng.pick([0, 1, 3]);
      let to = rng.pick([0, 1, 3]);
      while (to === from) to = rng.pick([0, 1, 3]);
      this.emit(0x1e204000 | (from << 22) | ((4 | to) << 15) | (this.vr(from === 1 ? 3 : 2) << 5) | this.dest());
      return;
    }
    const [t, log] = this.ftype();
    const opcode = rng.pick([1, 2, 3, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19]);
    this.emit(0x1e204000 | (t << 22) | (opcode << 15) | (this.vr(log) << 5) | this.dest());
  }

  private scalarCompare(): void {
    const rng = this.rng;
    const [t, log] = this.ftype();
    const n = this.vr(log);
    const m = this.vr(log);
    const kind = rng.below(3);
    if (kind === 0) {
      const opc = rng.below(4);
      this.emit(0x1e202000 | (t << 22) | ((opc & 1 ? 0 : m) << 16) | (n << 5) | (opc << 3));
      this.emit(0xd53b4200 | this.xr()); // MRS Xt, NZCV
    } else if (kind === 1) {
      this.emit(0x1e200400 | (t << 22) | (m << 16) | (rng.below(16) << 12) | (n << 5) | (rng.below(2) << 4) | rng.below(16));
      this.emit(0xd53b4200 | this.xr());
    } else this.emit(0x1e200c00 | (t << 22) | (m << 16) | (rng.below(16) << 12) | (n << 5) | this.dest());
  }

  private intConversion(): void {
    const rng = this.rng;
    const [t, log] = this.ftype();
    const sf = rng.below(2);
    if (rng.chance(0.1)) {
      this.emit(0x1e7e0000 | (this.vr(3) << 5) | this.xr(), 0xd53b4200 | this.xr()); // FJCVTZS Wd, Dn; MRS Xt, NZCV
      return;
    }
    const fixed = rng.chance(0.3);
    const toFloat = rng.chance(0.35);
    if (fixed) {
      const fbits = rng.range(1, sf ? 64 : 32);
      const [rmode, opcode] = toFloat ? [0, 2 | rng.below(2)] : [3, rng.below(2)];
      const n = toFloat ? this.xr() : this.vr(log);
      this.emit((sf << 31) | 0x1e000000 | (t << 22) | (rmode << 19) | (opcode << 16) | ((64 - fbits) << 10) | (n << 5) | (toFloat ? this.dest() : this.xr()));
      return;
    }
    let rmode = 0;
    let opcode: number;
    if (toFloat) opcode = 2 | rng.below(2);
    else if (rng.chance(0.2)) opcode = 4 | rng.below(2);
    else {
      rmode = rng.below(4);
      opcode = rng.below(2);
    }
    const n = toFloat ? this.xr() : this.vr(log);
    this.emit((sf << 31) | 0x1e200000 | (t << 22) | (rmode << 19) | (opcode << 16) | (n << 5) | (toFloat ? this.dest() : this.xr()));
  }

  /** Q and sz for a vector form (sz = 1 needs Q = 1). */
  private qsz(): [number, number] {
    const sz = this.rng.below(2);
    return [sz ? 1 : this.rng.below(2), sz];
  }

  private threeSame(): void {
    const rng = this.rng;
    const [q, sz] = this.qsz();
    const log = 2 + sz;
    const scalar = rng.chance(0.2);
    const [uu, a, opcode] = rng.pick(scalar ? SAME_SCALAR : SAME_VECTOR);
    const top = scalar ? 0x5e200400 : 0x0e200400 | (q << 30);
    this.emit(top | (uu << 29) | (a << 23) | (sz << 22) | (this.vr(log) << 16) | (opcode << 11) | (this.vr(log) << 5) | this.dest());
  }

  private twoMisc(): void {
    const rng = this.rng;
    const [q, sz] = this.qsz();
    const log = 2 + sz;
    const scalar = rng.chance(0.25);
    const key = rng.pick(scalar ? MISC_SCALAR : MISC_VECTOR);
    const top = scalar ? 0x5e200800 : 0x0e200800 | (q << 30);
    this.emit(top | ((key >> 6) << 29) | (((key >> 5) & 1) << 23) | (sz << 22) | ((key & 31) << 12) | (this.vr(log) << 5) | this.dest());
  }

  private byElement(): void {
    const rng = this.rng;
    const [q, sz] = this.qsz();
    const log = 2 + sz;
    const scalar = rng.chance(0.25);
    const [uu, opcode] = rng.pick([[0, 1], [0, 5], [0, 9], [1, 9]] as const);
    const index = rng.below(sz ? 2 : 4);
    const h = sz ? index : index >> 1;
    const l = sz ? 0 : index & 1;
    const top = scalar ? 0x5f000000 : 0x0f000000 | (q << 30);
    this.emit(top | (uu << 29) | ((2 + sz) << 22) | (l << 21) | (this.vr(log) << 16) | (opcode << 12) | (h << 11) | (this.vr(log) << 5) | this.dest());
  }

  private pairwiseAcross(): void {
    const rng = this.rng;
    const a = rng.below(2);
    if (rng.chance(0.4)) {
      this.emit(0x6e300800 | (a << 23) | (rng.pick([0x0c, 0x0f]) << 12) | (this.vr(2) << 5) | this.dest());
      return;
    }
    const sz = rng.below(2);
    const opcode = a ? rng.pick([0x0c, 0x0f]) : rng.pick([0x0c, 0x0d, 0x0f]);
    this.emit(0x7e300800 | (a << 23) | (sz << 22) | (opcode << 12) | (this.vr(2 + sz) << 5) | this.dest());
  }

  private fixedShift(): void {
    const rng = this.rng;
    const [q, sz] = this.qsz();
    const log = 2 + sz;
    const scalar = rng.chance(0.3);
    const bits = 8 << log;
    const fbits = rng.range(1, bits);
    const immhb = 2 * bits - fbits;
    const opcode = rng.pick([0x1c, 0x1f]);
    const top = scalar ? 0x5f000400 : 0x0f000400 | (q << 30);
    this.emit(top | (rng.below(2) << 29) | (immhb << 16) | (opcode << 11) | (this.vr(log) << 5) | this.dest());
  }

  private widenNarrow(): void {
    const rng = this.rng;
    const q = rng.below(2);
    const kind = rng.below(4);
    if (kind === 0) {
      const sz = rng.below(2); // FCVTL: 4H -> 4S or 2S -> 2D
      this.emit(0x0e217800 | (q << 30) | (sz << 22) | (this.vr(2) << 5) | this.dest());
    } else if (kind === 1) {
      const sz = rng.below(2); // FCVTN: 4S -> 4H or 2D -> 2S
      this.emit(0x0e216800 | (q << 30) | (sz << 22) | (this.vr(2 + sz) << 5) | this.dest());
    } else if (kind === 2) {
      this.emit(0x2e616800 | (q << 30) | (this.vr(3) << 5) | this.dest()); // FCVTXN(2)
    } else this.emit(0x7e616800 | (this.vr(3) << 5) | this.dest()); // FCVTXN Sd, Dn
  }
}
