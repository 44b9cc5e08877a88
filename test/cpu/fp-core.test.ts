import { describe, expect, it } from 'vitest';
import { fpAddSub, fpDiv, fpMul, fpMulAdd, fpSqrt } from '../../src/cpu/fp/arith.js';
import { fpCompare } from '../../src/cpu/fp/compare.js';
import { fpConvert, fpToFixed } from '../../src/cpu/fp/convert.js';
import { DZC, F16, F32, F64, FPCR_AHP, FPCR_DN, FPCR_FZ, fpFlags, IDC, IOC, IXC, OFC, Rounding, UFC } from '../../src/cpu/fp/core.js';
import { fpRecipEstimate } from '../../src/cpu/fp/estimate.js';
import * as fast from '../../src/cpu/fp/fast.js';

/**
 * The IEEE core (src/cpu/fp) against values worked out from the Arm ARM pseudocode (and checked
 * on QEMU with test/random/simd-try.test.ts), and the fast paths against the exact core.
 */

/** Runs `f` and returns its result with the flags it raised. */
function withFlags<T>(f: () => T): [T, number] {
  fpFlags.value = 0;
  const r = f();
  const flags = fpFlags.value;
  fpFlags.value = 0;
  return [r, flags];
}

const RP = Rounding.PosInf << 22;
const RM = Rounding.NegInf << 22;
const RZ = Rounding.Zero << 22;

describe('FPRound', () => {
  it('detects tininess before rounding: (1 - 2^-24) * 2^-126 rounds up to the smallest normal with UFC', () => {
    expect(withFlags(() => fpMul(0x3f7fffffn, 0x00800000n, F32, 0))).toEqual([0x00800000n, UFC | IXC]);
  });

  it('flushes a tiny result to zero with UFC and no IXC when FZ is set', () => {
    expect(withFlags(() => fpMul(0xbf7fffffn, 0x00800000n, F32, FPCR_FZ))).toEqual([0x80000000n, UFC]);
  });

  it('flushes a denormal input with IDC', () => {
    expect(withFlags(() => fpAddSub(0x00000001n, 0x3f800000n, false, F32, FPCR_FZ))).toEqual([0x3f800000n, IDC]);
    expect(withFlags(() => fpAddSub(0x00000001n, 0x3f800000n, false, F32, 0))).toEqual([0x3f800000n, IXC]);
  });

  it('rounds by FPCR.RMode', () => {
    const tiny = 0x30800000n; // 2^-30
    expect(withFlags(() => fpAddSub(0x3f800000n, tiny, false, F32, RP))).toEqual([0x3f800001n, IXC]);
    expect(withFlags(() => fpAddSub(0x3f800000n, tiny, false, F32, RM))).toEqual([0x3f800000n, IXC]);
    expect(withFlags(() => fpAddSub(0xbf800000n, tiny, true, F32, RM))).toEqual([0xbf800001n, IXC]);
    expect(withFlags(() => fpAddSub(0xbf800000n, tiny, true, F32, RZ))).toEqual([0xbf800000n, IXC]);
  });

  it('overflows to infinity or the largest normal by rounding mode', () => {
    expect(withFlags(() => fpMul(0x7f7fffffn, 0x40000000n, F32, 0))).toEqual([0x7f800000n, OFC | IXC]);
    expect(withFlags(() => fpMul(0x7f7fffffn, 0x40000000n, F32, RZ))).toEqual([0x7f7fffffn, OFC | IXC]);
    expect(withFlags(() => fpMul(0xffefffffffffffffn, 0x4000000000000000n, F64, RP))).toEqual([0xffefffffffffffffn, OFC | IXC]);
  });

  it('gives an exact zero sum the sign the rounding mode asks for', () => {
    expect(withFlags(() => fpAddSub(0x3f800000n, 0x3f800000n, true, F32, 0))).toEqual([0n, 0]);
    expect(withFlags(() => fpAddSub(0x3f800000n, 0x3f800000n, true, F32, RM))).toEqual([0x80000000n, 0]);
  });
});

describe('fused multiply-add rounds once', () => {
  it('double: (1 + 2^-30)^2 - (1 + 2^-29) is 2^-60, not 0', () => {
    const x = 0x3ff0000000400000n; // 1 + 2^-30
    expect(withFlags(() => fpMulAdd(0xbff0000000800000n, x, x, F64, 0))).toEqual([0x3c30000000000000n, 0]);
  });

  it('single: the double sum then fround would double-round to 1.0', () => {
    expect(withFlags(() => fpMulAdd(0x3f800000n, 0x3f800b4an, 0x337fe96en, F32, 0))).toEqual([0x3f800001n, IXC]);
    const f = new Float32Array([1, 0, 0]);
    new Uint32Array(f.buffer).set([0x3f800000, 0x3f800b4a, 0x337fe96e]);
    expect(Math.fround(f[0]! + f[1]! * f[2]!)).toBe(1); // what a naive implementation gets
    const [r, flags] = withFlags(() => fast.fma32(f[0]!, f[1]!, f[2]!)); // rounded to odd in 53 bits first
    expect([new Uint32Array(new Float32Array([r]).buffer)[0], flags]).toEqual([0x3f800001, IXC]);
  });
});

describe('NaNs', () => {
  const qnan1 = 0x7fc00001n;
  const snan2 = 0x7f800002n;
  const qnan2 = 0xffc00002n;
  it('a signalling NaN wins over a quiet one, quieted, with IOC', () => {
    expect(withFlags(() => fpAddSub(qnan1, snan2, false, F32, 0))).toEqual([0x7fc00002n, IOC]);
  });
  it('else the first quiet NaN, unchanged, without flags', () => {
    expect(withFlags(() => fpMul(qnan2, qnan1, F32, 0))).toEqual([qnan2, 0]);
  });
  it('FPCR.DN gives the default NaN', () => {
    expect(withFlags(() => fpDiv(qnan1, 0x3f800000n, F32, FPCR_DN))).toEqual([0x7fc00000n, 0]);
  });
  it('FMA: the addend is checked first; a quiet-NaN addend with infinity times zero is the default NaN and IOC', () => {
    expect(withFlags(() => fpMulAdd(0x7ff4000000000000n, 0x7ff0000000000001n, 0n, F64, 0))).toEqual([0x7ffc000000000000n, IOC]);
    expect(withFlags(() => fpMulAdd(qnan1, 0x7f800000n, 0n, F32, 0))).toEqual([0x7fc00000n, IOC]);
  });
  it('invalid operations give the default NaN', () => {
    expect(withFlags(() => fpSqrt(0xbf800000n, F32, 0))).toEqual([0x7fc00000n, IOC]);
    expect(withFlags(() => fpAddSub(0x7f800000n, 0x7f800000n, true, F32, 0))).toEqual([0x7fc00000n, IOC]);
  });
  it('FCMP: unordered is 0011; IOC for a quiet NaN only with FCMPE', () => {
    expect(withFlags(() => fpCompare(qnan1, 0n, false, F32, 0))).toEqual([0b0011, 0]);
    expect(withFlags(() => fpCompare(qnan1, 0n, true, F32, 0))).toEqual([0b0011, IOC]);
    expect(withFlags(() => fpCompare(0x80000000n, 0n, false, F32, 0))).toEqual([0b0110, 0]);
  });
});

describe('conversions and estimates', () => {
  it('FPToFixed: NaN is 0 with IOC, out of range saturates with IOC only', () => {
    expect(withFlags(() => fpToFixed(0x7fc00000n, F32, 0, false, 32, 0, Rounding.Zero))).toEqual([0n, IOC]);
    expect(withFlags(() => fpToFixed(0x4f000000n, F32, 0, false, 32, 0, Rounding.Zero))).toEqual([0x7fffffffn, IOC]);
    expect(withFlags(() => fpToFixed(0xbfc00000n, F32, 0, false, 32, 0, Rounding.TieAway))).toEqual([-2n, IXC]);
  });
  it('FCVT to half with AHP: an infinity is the largest magnitude and a NaN zero, both IOC', () => {
    expect(withFlags(() => fpConvert(0xff800000n, F32, F16, FPCR_AHP))).toEqual([0xffffn, IOC]);
    expect(withFlags(() => fpConvert(0x7fc00000n, F32, F16, FPCR_AHP))).toEqual([0n, IOC]);
    expect(withFlags(() => fpConvert(0x477fe000n, F32, F16, 0))).toEqual([0x7bffn, 0]); // 65504
  });
  it('FCVT keeps the NaN payload top bits and quiets it', () => {
    expect(withFlags(() => fpConvert(0x7ff0000012345678n, F64, F32, 0))).toEqual([0x7fc00000n, IOC]);
    expect(withFlags(() => fpConvert(0x7f812345n, F32, F64, 0))).toEqual([0x7ff82468a0000000n, IOC]);
  });
  it('FRECPE: 1.0 gives 511/512, zero an infinity with DZC', () => {
    expect(withFlags(() => fpRecipEstimate(0x3f800000n, F32, 0))).toEqual([0x3f7f8000n, 0]);
    expect(withFlags(() => fpRecipEstimate(0x80000000n, F32, 0))).toEqual([0xff800000n, DZC]);
  });
});

describe('fast paths agree with the exact core', () => {
  const buf = new ArrayBuffer(8);
  const f32 = new Float32Array(buf);
  const u32 = new Uint32Array(buf);
  const f64 = new Float64Array(buf);
  const u64 = new BigUint64Array(buf);
  let state = 12345;
  const rand = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const randomSingle = (): number => ((rand() & 0x8000_0000) | ((rand() % 254) + 1) << 23 | (rand() & (rand() & 1 ? 0x7fffff : 0x7f0000))) >>> 0;
  const randomDouble = (): bigint => (BigInt(randomSingle()) << 32n) | BigInt(rand() & (rand() & 1 ? 0xffffffff : 0));
  const asSingle = (b: number): number => ((u32[0] = b), f32[0]!);
  const singleBits = (v: number): bigint => ((f32[0] = v), BigInt(u32[0]!));
  const asDouble = (b: bigint): number => ((u64[0] = b), f64[0]!);
  const doubleBits = (v: number): bigint => ((f64[0] = v), u64[0]!);

  type Case = [string, (a: number, b: number) => number, (a: bigint, b: bigint, fmt: typeof F32, fpcr: number) => bigint];
  const singles: Case[] = [
    ['add32', fast.add32, (a, b, f, c) => fpAddSub(a, b, false, f, c)],
    ['mul32', fast.mul32, (a, b, f, c) => fpMul(a, b, f, c)],
    ['div32', fast.div32, fpDiv],
    ['sqrt32', (a) => fast.sqrt32(Math.abs(a)), (a, _b, f, c) => fpSqrt(a & 0x7fffffffn, f, c)],
  ];
  const doubles: Case[] = [
    ['add64', fast.add64, (a, b, f, c) => fpAddSub(a, b, false, f, c)],
    ['mul64', fast.mul64, (a, b, f, c) => fpMul(a, b, f, c)],
    ['div64', fast.div64, fpDiv],
    ['sqrt64', (a) => fast.sqrt64(Math.abs(a)), (a, _b, f, c) => fpSqrt(a & 0x7fffffffffffffffn, f, c)],
  ];

  it.each(singles)('%s', (_name, quick, exact) => {
    for (let k = 0; k < 3000; k++) {
      const a = randomSingle();
      const b = randomSingle();
      const [r, flags] = withFlags(() => quick(asSingle(a), asSingle(b)));
      if (r !== r) continue; // deferred to the exact path
      expect([singleBits(r), flags]).toEqual(withFlags(() => exact(BigInt(a), BigInt(b), F32, 0)));
    }
  });

  it.each(doubles)('%s', (_name, quick, exact) => {
    for (let k = 0; k < 3000; k++) {
      const a = randomDouble();
      const b = randomDouble();
      const [r, flags] = withFlags(() => quick(asDouble(a), asDouble(b)));
      if (r !== r) continue;
      expect([doubleBits(r), flags]).toEqual(withFlags(() => exact(a, b, F64, 0)));
    }
  });

  it('fma64 on operands near 1 and cancelling addends (the round-to-odd path)', () => {
    let fastHits = 0;
    for (let k = 0; k < 20000; k++) {
      const b = asDouble(0x3ff0000000000000n | (randomDouble() & 0x800fffffffffffffn)) * 2 ** ((rand() % 40) - 20);
      const c = asDouble(0x3ff0000000000000n | (randomDouble() & 0x800fffffffffffffn));
      const p = b * c;
      // The addend: unrelated, or -p nudged by a few ulps (massive cancellation), or tiny.
      const pick = rand() % 3;
      const a = pick === 0 ? asDouble(randomDouble() & 0xbfffffffffffffffn) : pick === 1 ? -p * (1 + ((rand() % 9) - 4) * 2 ** -52) : p * 2 ** -60;
      const [r, flags] = withFlags(() => fast.fma64(a, b, c));
      if (r !== r) continue;
      fastHits++;
      expect([doubleBits(r), flags]).toEqual(withFlags(() => fpMulAdd(doubleBits(a), doubleBits(b), doubleBits(c), F64, 0)));
    }
    expect(fastHits).toBeGreaterThan(15000);
  });

  it('fma32 and fma64', () => {
    for (let k = 0; k < 20000; k++) {
      const [a, b, c] = [randomSingle(), randomSingle(), randomSingle()];
      const [r, flags] = withFlags(() => fast.fma32(asSingle(a), asSingle(b), asSingle(c)));
      if (r === r) expect([singleBits(r), flags]).toEqual(withFlags(() => fpMulAdd(BigInt(a), BigInt(b), BigInt(c), F32, 0)));
      const [x, y, z] = [randomDouble(), randomDouble(), k & 1 ? randomDouble() : randomDouble() & 0xfffffff000000000n];
      const [r64, flags64] = withFlags(() => fast.fma64(asDouble(x), asDouble(y), asDouble(z)));
      if (r64 === r64) expect([doubleBits(r64), flags64]).toEqual(withFlags(() => fpMulAdd(x, y, z, F64, 0)));
    }
  });
});
