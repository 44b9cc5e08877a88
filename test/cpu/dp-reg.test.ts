import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { R } from '../../src/cpu/int64.js';
import { decodeDpReg } from '../../src/cpu/isa/dp-reg.js';
import { udiv64Fast, umulh64Fast } from '../../src/cpu/isa/dp-reg-ops.js';
import { Sys } from '../../src/cpu/sysreg-state.js';
import { assemble, assemblerAvailable } from '../support/asm.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';

/*
 * Data processing (register). Every case is one instruction reading x1 (n), x2 (m), x3 (a) and SP
 * and writing x0, SP or NZCV, with an independent reference model written from the Arm ARM
 * pseudocode on BigInt. All cases are assembled into one program (each followed by HVC #0) and
 * run from their own offset.
 */

const M64 = (1n << 64n) - 1n;
const SENTINEL = 0xdead_beef_cafe_f00dn;

const u = (v: bigint, n: number): bigint => BigInt.asUintN(n, v);
const s = (v: bigint, n: number): bigint => BigInt.asIntN(n, v);

interface In {
  a: bigint;
  b: bigint;
  c: bigint;
  sp: bigint;
  nzcv: number;
}

/** Expected outputs; anything left out must be unchanged. */
interface Out {
  x0?: bigint;
  sp?: bigint;
  nzcv?: number;
}

interface Case {
  asm: string;
  family: string;
  ref: (i: In) => Out;
}

// ---- reference models (Arm ARM shared pseudocode) ----

function addWithCarry(a: bigint, b: bigint, carry: number, n: number): { r: bigint; nzcv: number } {
  const unsignedSum = u(a, n) + u(b, n) + BigInt(carry);
  const signedSum = s(a, n) + s(b, n) + BigInt(carry);
  const r = u(unsignedSum, n);
  const nf = Number(r >> BigInt(n - 1));
  const zf = r === 0n ? 1 : 0;
  const cf = r === unsignedSum ? 0 : 1;
  const vf = s(r, n) === signedSum ? 0 : 1;
  return { r, nzcv: (nf << 3) | (zf << 2) | (cf << 1) | vf };
}

function logicNzcv(r: bigint, n: number): number {
  return (Number(r >> BigInt(n - 1)) << 3) | (r === 0n ? 4 : 0);
}

function shiftRef(v: bigint, type: string, amount: number, n: number): bigint {
  v = u(v, n);
  const a = BigInt(amount);
  switch (type) {
    case 'lsl':
      return u(v << a, n);
    case 'lsr':
      return v >> a;
    case 'asr':
      return u(s(v, n) >> a, n);
    default:
      return u((v >> a) | (v << BigInt(n - amount)), n);
  }
}

const EXTENDS = ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx'];

function extendRef(v: bigint, option: number, shift: number, n: number): bigint {
  const len = 8 << (option & 3);
  const field = u(v, len);
  const extended = option & 4 ? s(field, len) : field;
  return u(extended << BigInt(shift), n);
}

function conditionHoldsRef(cond: number, nzcv: number): boolean {
  const n = (nzcv >> 3) & 1;
  const z = (nzcv >> 2) & 1;
  const c = (nzcv >> 1) & 1;
  const v = nzcv & 1;
  let result: boolean;
  switch (cond >> 1) {
    case 0:
      result = z === 1;
      break;
    case 1:
      result = c === 1;
      break;
    case 2:
      result = n === 1;
      break;
    case 3:
      result = v === 1;
      break;
    case 4:
      result = c === 1 && z === 0;
      break;
    case 5:
      result = n === v;
      break;
    case 6:
      result = n === v && z === 0;
      break;
    default:
      result = true;
  }
  return (cond & 1) === 1 && cond !== 15 ? !result : result;
}

const CONDS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];

function bitReverse(v: bigint, n: number): bigint {
  let r = 0n;
  for (let i = 0; i < n; i++) if ((v >> BigInt(i)) & 1n) r |= 1n << BigInt(n - 1 - i);
  return r;
}

/** REV16/REV32/REV64: reverse the bytes within each container. */
function revRef(v: bigint, container: number, n: number): bigint {
  let r = 0n;
  for (let base = 0; base < n; base += container) {
    for (let byte = 0; byte < container / 8; byte++) {
      const b = (v >> BigInt(base + byte * 8)) & 0xffn;
      r |= b << BigInt(base + container - 8 - byte * 8);
    }
  }
  return r;
}

function clzRef(v: bigint, n: number): bigint {
  let count = 0;
  for (let i = n - 1; i >= 0 && ((v >> BigInt(i)) & 1n) === 0n; i--) count++;
  return BigInt(count);
}

function clsRef(v: bigint, n: number): bigint {
  const top = (v >> BigInt(n - 1)) & 1n;
  let count = 0;
  for (let i = n - 2; i >= 0 && ((v >> BigInt(i)) & 1n) === top; i--) count++;
  return BigInt(count);
}

/** Poly32Mod2 as in the CRC32 pseudocode. */
function poly32Mod2(data: bigint, bits: number, poly: bigint): bigint {
  for (let i = bits - 1; i >= 32; i--) {
    if ((data >> BigInt(i)) & 1n) data ^= poly << BigInt(i - 32);
  }
  return u(data, 32);
}

function crcRef(acc: bigint, val: bigint, size: number, crc32c: boolean): bigint {
  const poly = crc32c ? 0x1edc6f41n : 0x04c11db7n;
  const tempacc = bitReverse(u(acc, 32), 32) << BigInt(size);
  const tempval = bitReverse(u(val, size), size) << 32n;
  return bitReverse(poly32Mod2(tempacc ^ tempval, 32 + size, poly), 32);
}

// ---- the cases ----

const cases: Case[] = [];
function add(family: string, asm: string, ref: (i: In) => Out): void {
  cases.push({ family, asm, ref });
}

const SIZES = [64, 32] as const;
const reg = (n: number): string => (n === 64 ? 'x' : 'w');
const amounts = (n: number): number[] => (n === 64 ? [0, 1, 7, 31, 32, 63] : [0, 1, 7, 31]);

const LOGICAL: [string, (a: bigint, b: bigint) => bigint, boolean][] = [
  ['and', (a, b) => a & b, false],
  ['bic', (a, b) => a & ~b, false],
  ['orr', (a, b) => a | b, false],
  ['orn', (a, b) => a | ~b, false],
  ['eor', (a, b) => a ^ b, false],
  ['eon', (a, b) => a ^ ~b, false],
  ['ands', (a, b) => a & b, true],
  ['bics', (a, b) => a & ~b, true],
];

for (const n of SIZES) {
  const r = reg(n);
  for (const [op, f, flags] of LOGICAL) {
    for (const shift of ['lsl', 'lsr', 'asr', 'ror']) {
      for (const amount of amounts(n)) {
        add('logical', `${op} ${r}0, ${r}1, ${r}2, ${shift} #${amount}`, (i) => {
          const res = u(f(u(i.a, n), shiftRef(i.b, shift, amount, n)), n);
          return flags ? { x0: res, nzcv: logicNzcv(res, n) } : { x0: res };
        });
      }
    }
  }
  for (const [op, sub, flags] of [['add', false, false], ['adds', false, true], ['sub', true, false], ['subs', true, true]] as const) {
    for (const shift of ['lsl', 'lsr', 'asr']) {
      for (const amount of amounts(n)) {
        add('addsub', `${op} ${r}0, ${r}1, ${r}2, ${shift} #${amount}`, (i) => {
          const b = shiftRef(i.b, shift, amount, n);
          const res = addWithCarry(i.a, sub ? ~b : b, sub ? 1 : 0, n);
          return flags ? { x0: res.r, nzcv: res.nzcv } : { x0: res.r };
        });
      }
    }
    for (let option = 0; option < 8; option++) {
      for (let amount = 0; amount <= 4; amount++) {
        const rm = n === 64 && (option & 3) === 3 ? 'x2' : 'w2';
        add('extend', `${op} ${r}0, ${r}1, ${rm}, ${EXTENDS[option]} #${amount}`, (i) => {
          const b = extendRef(i.b, option, amount, n);
          const res = addWithCarry(i.a, sub ? ~b : b, sub ? 1 : 0, n);
          return flags ? { x0: res.r, nzcv: res.nzcv } : { x0: res.r };
        });
      }
    }
    // ADC, ADCS, SBC, SBCS: carry in from PSTATE.C.
    const carryOp = op.replace('add', 'adc').replace('sub', 'sbc');
    add('carry', `${carryOp} ${r}0, ${r}1, ${r}2`, (i) => {
      const res = addWithCarry(i.a, sub ? ~i.b : i.b, (i.nzcv >> 1) & 1, n);
      return flags ? { x0: res.r, nzcv: res.nzcv } : { x0: res.r };
    });
  }
  for (let cond = 0; cond < 16; cond++) {
    const nzcvImm = cond ^ 5;
    for (const [op, sub] of [['ccmp', true], ['ccmn', false]] as const) {
      const compare = (b: bigint) => (i: In): Out =>
        conditionHoldsRef(cond, i.nzcv) ? { nzcv: addWithCarry(i.a, sub ? ~b : b, sub ? 1 : 0, n).nzcv } : { nzcv: nzcvImm };
      add('ccmp', `${op} ${r}1, ${r}2, #${nzcvImm}, ${CONDS[cond]}`, (i) => compare(u(i.b, n))(i));
      for (const imm of [0, 1, 31]) add('ccmp', `${op} ${r}1, #${imm}, #${nzcvImm}, ${CONDS[cond]}`, (i) => compare(BigInt(imm))(i));
    }
    const select: [string, (b: bigint) => bigint][] = [
      ['csel', (b) => b],
      ['csinc', (b) => b + 1n],
      ['csinv', (b) => ~b],
      ['csneg', (b) => -b],
    ];
    for (const [op, f] of select) {
      add('csel', `${op} ${r}0, ${r}1, ${r}2, ${CONDS[cond]}`, (i) => ({ x0: u(conditionHoldsRef(cond, i.nzcv) ? i.a : f(u(i.b, n)), n) }));
    }
  }
  // 1 source.
  add('dp1', `rbit ${r}0, ${r}1`, (i) => ({ x0: bitReverse(u(i.a, n), n) }));
  add('dp1', `rev16 ${r}0, ${r}1`, (i) => ({ x0: revRef(u(i.a, n), 16, n) }));
  add('dp1', `rev ${r}0, ${r}1`, (i) => ({ x0: revRef(u(i.a, n), n, n) }));
  add('dp1', `clz ${r}0, ${r}1`, (i) => ({ x0: clzRef(u(i.a, n), n) }));
  add('dp1', `cls ${r}0, ${r}1`, (i) => ({ x0: clsRef(u(i.a, n), n) }));
  // 2 source.
  add('div', `udiv ${r}0, ${r}1, ${r}2`, (i) => ({ x0: u(i.b, n) === 0n ? 0n : u(i.a, n) / u(i.b, n) }));
  add('div', `sdiv ${r}0, ${r}1, ${r}2`, (i) => ({ x0: u(i.b, n) === 0n ? 0n : u(s(i.a, n) / s(i.b, n), n) }));
  for (const shift of ['lsl', 'lsr', 'asr', 'ror']) {
    add('shiftv', `${shift}v ${r}0, ${r}1, ${r}2`, (i) => ({ x0: shiftRef(i.a, shift, Number(u(i.b, n) % BigInt(n)), n) }));
  }
  // 3 source.
  add('mul', `madd ${r}0, ${r}1, ${r}2, ${r}3`, (i) => ({ x0: u(i.c + i.a * i.b, n) }));
  add('mul', `msub ${r}0, ${r}1, ${r}2, ${r}3`, (i) => ({ x0: u(i.c - i.a * i.b, n) }));
  add('mul', `mul ${r}0, ${r}1, ${r}2`, (i) => ({ x0: u(i.a * i.b, n) }));
  add('mul', `mneg ${r}0, ${r}1, ${r}2`, (i) => ({ x0: u(-i.a * i.b, n) }));
}

add('dp1', 'rev32 x0, x1', (i) => ({ x0: revRef(i.a, 32, 64) }));
for (const [name, size] of [['b', 8], ['h', 16], ['w', 32], ['x', 64]] as const) {
  const rm = size === 64 ? 'x2' : 'w2';
  add('crc', `crc32${name} w0, w1, ${rm}`, (i) => ({ x0: crcRef(i.a, i.b, size, false) }));
  add('crc', `crc32c${name} w0, w1, ${rm}`, (i) => ({ x0: crcRef(i.a, i.b, size, true) }));
}
add('long', 'smaddl x0, w1, w2, x3', (i) => ({ x0: u(i.c + s(i.a, 32) * s(i.b, 32), 64) }));
add('long', 'smsubl x0, w1, w2, x3', (i) => ({ x0: u(i.c - s(i.a, 32) * s(i.b, 32), 64) }));
add('long', 'umaddl x0, w1, w2, x3', (i) => ({ x0: u(i.c + u(i.a, 32) * u(i.b, 32), 64) }));
add('long', 'umsubl x0, w1, w2, x3', (i) => ({ x0: u(i.c - u(i.a, 32) * u(i.b, 32), 64) }));
add('long', 'smull x0, w1, w2', (i) => ({ x0: u(s(i.a, 32) * s(i.b, 32), 64) }));
add('long', 'umull x0, w1, w2', (i) => ({ x0: u(u(i.a, 32) * u(i.b, 32), 64) }));
add('long', 'smulh x0, x1, x2', (i) => ({ x0: u((s(i.a, 64) * s(i.b, 64)) >> 64n, 64) }));
add('long', 'umulh x0, x1, x2', (i) => ({ x0: (u(i.a, 64) * u(i.b, 64)) >> 64n }));

// Register 31 (ZR or SP, as each encoding says) and aliases.
add('r31', 'mov x0, x2', (i) => ({ x0: i.b }));
add('r31', 'mov w0, w2', (i) => ({ x0: u(i.b, 32) }));
add('r31', 'mvn x0, x2, ror #3', (i) => ({ x0: u(~shiftRef(i.b, 'ror', 3, 64), 64) }));
add('r31', 'mvn w0, w2', (i) => ({ x0: u(~i.b, 32) }));
add('r31', 'orr x0, xzr, x2, lsl #4', (i) => ({ x0: u(i.b << 4n, 64) }));
add('r31', 'and x0, x1, xzr', () => ({ x0: 0n }));
add('r31', 'tst x1, x2, asr #60', (i) => ({ nzcv: logicNzcv(u(i.a & shiftRef(i.b, 'asr', 60, 64), 64), 64) }));
add('r31', 'tst w1, w2', (i) => ({ nzcv: logicNzcv(u(i.a & i.b, 32), 32) }));
add('r31', 'neg x0, x2, lsl #3', (i) => ({ x0: u(-(i.b << 3n), 64) }));
add('r31', 'negs w0, w2', (i) => {
  const r = addWithCarry(0n, ~i.b, 1, 32);
  return { x0: r.r, nzcv: r.nzcv };
});
add('r31', 'cmp x1, x2, asr #5', (i) => ({ nzcv: addWithCarry(i.a, ~shiftRef(i.b, 'asr', 5, 64), 1, 64).nzcv }));
add('r31', 'cmn w1, w2', (i) => ({ nzcv: addWithCarry(i.a, i.b, 0, 32).nzcv }));
add('r31', 'add x0, x1, xzr', (i) => ({ x0: i.a }));
add('r31', 'adc x0, xzr, xzr', (i) => ({ x0: BigInt((i.nzcv >> 1) & 1) }));
add('r31', 'ngc x0, x2', (i) => ({ x0: u(~i.b + BigInt((i.nzcv >> 1) & 1), 64) }));
add('r31', 'ngcs w0, w2', (i) => {
  const r = addWithCarry(0n, ~i.b, (i.nzcv >> 1) & 1, 32);
  return { x0: r.r, nzcv: r.nzcv };
});
add('r31', 'cset x0, hi', (i) => ({ x0: conditionHoldsRef(8, i.nzcv) ? 1n : 0n }));
add('r31', 'csetm w0, lt', (i) => ({ x0: conditionHoldsRef(11, i.nzcv) ? 0xffffffffn : 0n }));
add('r31', 'cneg x0, x1, mi', (i) => ({ x0: conditionHoldsRef(4, i.nzcv) ? u(-i.a, 64) : i.a }));
add('r31', 'ccmp xzr, x2, #3, eq', (i) => ({ nzcv: conditionHoldsRef(0, i.nzcv) ? addWithCarry(0n, ~i.b, 1, 64).nzcv : 3 }));
add('r31', 'clz x0, xzr', () => ({ x0: 64n }));
add('r31', 'cls w0, wzr', () => ({ x0: 31n }));
add('r31', 'udiv x0, x1, xzr', () => ({ x0: 0n }));
add('r31', 'madd x0, x1, x2, xzr', (i) => ({ x0: u(i.a * i.b, 64) }));
add('r31', 'smnegl x0, w1, w2', (i) => ({ x0: u(-(s(i.a, 32) * s(i.b, 32)), 64) }));
add('r31', 'umnegl x0, w1, w2', (i) => ({ x0: u(-(u(i.a, 32) * u(i.b, 32)), 64) }));
add('r31', 'add x0, x1, wzr, uxtw #2', (i) => ({ x0: i.a }));
// Extended register with SP: Rn is always SP, Rd is SP unless flags are set.
add('sp', 'add sp, x1, w2, uxtw #2', (i) => ({ sp: u(i.a + (u(i.b, 32) << 2n), 64) }));
add('sp', 'add x0, sp, x2, sxtx #4', (i) => ({ x0: u(i.sp + (i.b << 4n), 64) }));
add('sp', 'sub sp, sp, x2', (i) => ({ sp: u(i.sp - i.b, 64) }));
add('sp', 'add x0, sp, x2', (i) => ({ x0: u(i.sp + i.b, 64) }));
add('sp', 'adds x0, sp, w2, sxtb #1', (i) => {
  const r = addWithCarry(i.sp, extendRef(i.b, 4, 1, 64), 0, 64);
  return { x0: r.r, nzcv: r.nzcv };
});
add('sp', 'subs x0, sp, x2, uxtx #3', (i) => {
  const r = addWithCarry(i.sp, ~(i.b << 3n), 1, 64);
  return { x0: r.r, nzcv: r.nzcv };
});
add('sp', 'cmp sp, w2, uxth', (i) => ({ nzcv: addWithCarry(i.sp, ~u(i.b, 16), 1, 64).nzcv }));
add('sp', 'add wsp, wsp, w2, uxtb #3', (i) => ({ sp: u(i.sp + (u(i.b, 8) << 3n), 32) }));
add('sp', 'add w0, wsp, w2, sxth #4', (i) => ({ x0: u(i.sp + extendRef(i.b, 5, 4, 32), 32) }));
add('sp', 'cmn wsp, w2, uxtw', (i) => ({ nzcv: addWithCarry(i.sp, i.b, 0, 32).nzcv }));
add('sp', 'sub wsp, w1, w2, sxtw #1', (i) => ({ sp: u(i.a - (i.b << 1n), 32) }));

// ---- the machine ----

let machine: TestMachine | undefined;
const offsets = new Map<string, number>();

function setup(): TestMachine {
  if (machine) return machine;
  const program = assemble(cases.map((c) => `${c.asm}\nhvc #0`).join('\n'));
  if (program.length !== cases.length * 8) throw new Error('a case did not assemble to one instruction');
  cases.forEach((c, k) => offsets.set(c.asm, k * 8));
  machine = new TestMachine().load(program);
  return machine;
}

function run(c: Case, i: In): string | null {
  const m = setup();
  const cpu = m.cpu;
  m.setX(0, SENTINEL);
  m.setX(1, i.a);
  m.setX(2, i.b);
  m.setX(3, i.c);
  m.setX(32, i.sp);
  cpu.nf = (i.nzcv >> 3) & 1;
  cpu.zf = (i.nzcv >> 2) & 1;
  cpu.cf = (i.nzcv >> 1) & 1;
  cpu.vf = i.nzcv & 1;
  cpu.pcLo = (RAM_BASE + offsets.get(c.asm)!) | 0;
  cpu.pcHi = 0;
  m.runToHvc(10);
  const want = c.ref(i);
  const got = { x0: m.x(0), sp: m.x(32), nzcv: m.nzcv() };
  const expected = { x0: want.x0 ?? SENTINEL, sp: want.sp ?? i.sp, nzcv: want.nzcv ?? i.nzcv };
  if (got.x0 === expected.x0 && got.sp === expected.sp && got.nzcv === expected.nzcv) return null;
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  return (
    `${c.asm} a=${hex(i.a)} b=${hex(i.b)} c=${hex(i.c)} sp=${hex(i.sp)} nzcv=${i.nzcv}: ` +
    `got x0=${hex(got.x0)} sp=${hex(got.sp)} nzcv=${got.nzcv}, want x0=${hex(expected.x0)} sp=${hex(expected.sp)} nzcv=${expected.nzcv}`
  );
}

function familyCases(...families: string[]): Case[] {
  const list = cases.filter((c) => families.includes(c.family));
  if (list.length === 0) throw new Error(`no cases for ${families.join(', ')}`);
  return list;
}

const EDGES = [
  0n,
  1n,
  2n,
  0x7fn,
  0x80n,
  0x7fffn,
  0x8000n,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n,
  M64,
  M64 - 1n,
  0x1234_5678_9abc_def0n,
  0xfedc_ba98_8765_4321n,
];

/** Every case of the families on every pair of edge values, with a few flag and Ra/SP inputs. */
function sweep(families: string[], nzcvs: number[] = [0b0000, 0b0110, 0b1001, 0b1111]): string[] {
  const failures: string[] = [];
  for (const c of familyCases(...families)) {
    for (const a of EDGES) {
      for (const b of EDGES) {
        for (const nzcv of nzcvs) {
          const failure = run(c, { a, b, c: EDGES[(nzcv + 5) % EDGES.length]!, sp: EDGES[(nzcv + 9) % EDGES.length]!, nzcv });
          if (failure) failures.push(failure);
          if (failures.length > 20) return failures;
        }
      }
    }
  }
  return failures;
}

describe.runIf(assemblerAvailable())('data processing (register)', () => {
  it('logical (shifted register): AND BIC ORR ORN EOR EON ANDS BICS, all shifts', () => {
    expect(sweep(['logical'], [0b1010])).toEqual([]);
  });

  it('add/subtract (shifted register)', () => {
    expect(sweep(['addsub'], [0b0101])).toEqual([]);
  });

  it('add/subtract (extended register), UXTB..SXTX with LSL 0..4', () => {
    expect(sweep(['extend'], [0b1100])).toEqual([]);
  });

  it('ADC, ADCS, SBC, SBCS with carry in 0 and 1', () => {
    expect(sweep(['carry'], [0b0000, 0b0010, 0b1101, 0b1111])).toEqual([]);
  });

  it('conditional compare (register and immediate), every condition and NZCV', () => {
    const all = Array.from({ length: 16 }, (_, k) => k);
    const failures: string[] = [];
    for (const c of familyCases('ccmp')) {
      for (const [a, b] of [
        [0n, 0n],
        [1n, 0n],
        [0n, 1n],
        [0x7fff_ffffn, M64],
        [0x8000_0000n, 1n],
        [0x8000_0000_0000_0000n, 1n],
        [M64, M64],
        [31n, 31n],
      ] as const) {
        for (const nzcv of all) {
          const failure = run(c, { a, b, c: 0n, sp: 0n, nzcv });
          if (failure) failures.push(failure);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('conditional select: CSEL CSINC CSINV CSNEG, every condition', () => {
    const all = Array.from({ length: 16 }, (_, k) => k);
    expect(sweep(['csel'], all).slice(0, 20)).toEqual([]);
  });

  it('data processing (1 source): RBIT REV16 REV32 REV CLZ CLS', () => {
    expect(sweep(['dp1'], [0b0110])).toEqual([]);
  });

  it('division: UDIV SDIV including /0 and INT_MIN / -1', () => {
    expect(sweep(['div'], [0b1001])).toEqual([]);
  });

  it('shifts by register: amount modulo the data size', () => {
    const failures = sweep(['shiftv'], [0b0011]);
    for (const c of familyCases('shiftv')) {
      for (const b of [0n, 1n, 31n, 32n, 33n, 63n, 64n, 65n, 127n, 0xffff_ffe0n, M64]) {
        const failure = run(c, { a: 0x8123_4567_89ab_cdefn, b, c: 0n, sp: 0n, nzcv: 0 });
        if (failure) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
  });

  it('CRC32 and CRC32C: all sizes', () => {
    expect(sweep(['crc'], [0])).toEqual([]);
  });

  it('CRC32/CRC32C reproduce the standard check values of "123456789"', () => {
    const m = setup();
    for (const [asm, check] of [
      ['crc32b w0, w1, w2', 0xcbf43926n],
      ['crc32cb w0, w1, w2', 0xe3069283n],
    ] as const) {
      let acc = 0xffff_ffffn;
      for (const ch of '123456789') {
        expect(run(cases.find((c) => c.asm === asm)!, { a: acc, b: BigInt(ch.charCodeAt(0)), c: 0n, sp: 0n, nzcv: 0 })).toBeNull();
        acc = m.x(0);
      }
      expect(acc ^ 0xffff_ffffn).toBe(check);
    }
  });

  it('multiply: MADD MSUB (32 and 64), SMADDL SMSUBL UMADDL UMSUBL SMULH UMULH', () => {
    expect(sweep(['mul', 'long'], [0b0000, 0b1111])).toEqual([]);
  });

  it('register 31 is ZR or SP as each encoding says; aliases', () => {
    expect(sweep(['r31', 'sp'], [0b0000, 0b0110, 0b1001, 0b1111])).toEqual([]);
  });

  it('takes the UNDEFINED exception for an unimplemented encoding (CTZ)', () => {
    const m = new TestMachine().load('.inst 0xdac01820\nhvc #0');
    const vbar = RAM_BASE + 0x10000;
    m.ram.bytes.set(assemble('hvc #1'), vbar + 0x200 - RAM_BASE);
    m.ram.noteDataWrite(vbar + 0x200 - RAM_BASE, 4);
    m.cpu.setSys(Sys.VBAR_EL1, vbar, 0);
    m.runToHvc();
    expect(m.cpu.exitImm).toBe(1);
    expect(m.cpu.sysLo(Sys.ESR_EL1) >>> 26).toBe(0);
    expect(toHex(m.cpu.sysLo(Sys.ELR_EL1))).toBe(toHex(RAM_BASE));
  });
});

function toHex(v: number): string {
  return (v >>> 0).toString(16);
}

describe('data processing (register) decode: UNDEFINED encodings', () => {
  const undefinedWords: [string, number][] = [
    ['AND (32-bit) with imm6 = 32', 0x0a000000 | (32 << 10)],
    ['ORR (32-bit) with imm6 = 63', 0x2a000000 | (63 << 10)],
    ['ADD (shifted) with ROR', 0x8b000000 | (3 << 22)],
    ['ADD (32-bit shifted) with imm6 = 32', 0x0b000000 | (32 << 10)],
    ['ADD (extended) with shift 5', 0x8b200000 | (5 << 10)],
    ['ADD (extended) with shift 7', 0x8b200000 | (7 << 10)],
    ['ADD (extended) with opt != 0', 0x8b200000 | (1 << 22)],
    ['ADDPT (FEAT_CPA)', 0x9a002000],
    ['ADC with op3 != 0', 0x9a000000 | (1 << 15)],
    ['CCMP with S = 0', 0xda400000],
    ['CCMP with o2 = 1', 0xfa400400],
    ['CCMP with o3 = 1', 0xfa400010],
    ['CSEL with S = 1', 0xba800000],
    ['CSEL with op2 = 2', 0x9a800800],
    ['CSEL with op2 = 3', 0x9a800c00],
    ['op2 = 0001', 0x9a200000],
    ['op2 = 0011', 0x9a600000],
    ['op2 = 0101', 0x9aa00000],
    ['op2 = 0111', 0x9ae00000],
    ['REV (64-bit opcode) with sf = 0', 0x5ac00c00],
    ['CTZ (FEAT_CSSC)', 0xdac01800],
    ['CNT (FEAT_CSSC)', 0xdac01c00],
    ['ABS (FEAT_CSSC)', 0xdac02000],
    ['CTZ 32-bit (FEAT_CSSC)', 0x5ac01800],
    ['1 source, opcode 9', 0xdac02400],
    ['1 source with S = 1', 0xfac00000],
    ['PACIA (FEAT_PAuth)', 0xdac10000],
    ['XPACI (FEAT_PAuth)', 0xdac143e0],
    ['PACGA (FEAT_PAuth)', 0x9ac03000],
    ['SMAX (register, FEAT_CSSC)', 0x9ac06000],
    ['UMIN (register, FEAT_CSSC)', 0x9ac06c00],
    ['2 source, opcode 1', 0x1ac00400],
    ['2 source, opcode 6', 0x1ac01800],
    ['UDIV with S = 1', 0x3ac00800],
    ['CRC32X with sf = 0', 0x1ac04c00],
    ['CRC32CX with sf = 0', 0x1ac05c00],
    ['CRC32B with sf = 1', 0x9ac04000],
    ['CRC32CW with sf = 1', 0x9ac05800],
    ['2 source, opcode 24 (32-bit)', 0x1ac06000],
    ['IRG with sf = 0', 0x1ac01000],
    ['MADD with op54 = 01', 0x3b000000],
    ['MADD with op54 = 10', 0x5b000000],
    ['SMADDL with sf = 0', 0x1b200000],
    ['SMULH with o0 = 1', 0x9b408000],
    ['UMULH with o0 = 1', 0x9bc08000],
    ['MADDPT (FEAT_CPA)', 0x9b600000],
    ['3 source, op31 = 100', 0x9b800000],
    ['3 source, op31 = 111', 0x9be00000],
  ];
  for (const [name, word] of undefinedWords) {
    it(name, () => {
      expect(decodeDpReg(word | 0, true)).toBeNull();
      expect(decodeDpReg(word | 0, false)).toBeNull();
    });
  }

  const mteWords = [0x9ac01020, 0x9ac01420, 0x9ac00020, 0xbac00020]; // IRG, GMI, SUBP, SUBPS

  it('IRG, GMI, SUBP, SUBPS are UNDEFINED without MTE', () => {
    for (const word of mteWords) expect(decodeDpReg(word | 0, false)).toBeNull();
  });

  // Expected to fail until decodeMteDataProcessing (mte-insns.ts) compares `word & 0xdfe00000`
  // (an int32) with the positive constant 0x9ac00000, which never matches: remove `.fails` then.
  it('IRG, GMI, SUBP, SUBPS decode with MTE', () => {
    for (const word of mteWords) expect(decodeDpReg(word | 0, true)).not.toBeNull();
  });

  it('decodes the allocated neighbours of those encodings', () => {
    for (const word of [0x0a000000 | (31 << 10), 0x8b000000 | (2 << 22), 0x8b200000 | (4 << 10), 0x9a000000, 0xfa400000, 0x9a800400, 0xdac00c00, 0x5ac00800, 0x1ac04800, 0x9ac04c00, 0x9b400000, 0x9bc00000, 0x1ac00800]) {
      expect(decodeDpReg(word | 0, false)).not.toBeNull();
    }
  });
});

// ---- property tests against the reference models ----

const edge64 = fc.constantFrom(...EDGES);
const any64 = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: M64 }) },
  { weight: 2, arbitrary: edge64 },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffff_ffffn }) },
  { weight: 1, arbitrary: fc.bigInt({ min: M64 - 0xffff_ffffn, max: M64 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffffn }) },
);
const inputs = fc.record({ a: any64, b: any64, c: any64, sp: any64, nzcv: fc.integer({ min: 0, max: 15 }) });

function property(families: string[], filter: (c: Case) => boolean = () => true): (i: In) => void {
  return (i) => {
    const failures = familyCases(...families)
      .filter(filter)
      .map((c) => run(c, i))
      .filter((f) => f !== null);
    expect(failures).toEqual([]);
  };
}

describe.runIf(assemblerAvailable())('data processing (register) properties', () => {
  const noShiftOrSmall = (c: Case): boolean => /#(0|1|7|63)$/.test(c.asm) || !c.asm.includes('#');
  test.prop([inputs], { numRuns: 200 })('ADD/SUB/ADDS/SUBS (shifted and extended), ADC/SBC(S)', property(['addsub', 'extend', 'carry'], noShiftOrSmall));
  test.prop([inputs], { numRuns: 200 })('logical (shifted register)', property(['logical'], noShiftOrSmall));
  test.prop([inputs], { numRuns: 200 })('MADD/MSUB/MUL, SMADDL/UMADDL/SMSUBL/UMSUBL, UMULH/SMULH', property(['mul', 'long']));
  test.prop([inputs], { numRuns: 200 })('UDIV/SDIV', property(['div']));
  test.prop([inputs], { numRuns: 200 })('LSLV/LSRV/ASRV/RORV', property(['shiftv']));
  test.prop([inputs], { numRuns: 200 })('CLZ/CLS/RBIT/REV/REV16/REV32', property(['dp1']));
  test.prop([inputs], { numRuns: 100 })('CRC32/CRC32C', property(['crc']));
  test.prop([inputs], { numRuns: 100 })('CCMP/CCMN/CSEL family', property(['ccmp', 'csel'], (c) => /, (eq|hs|cs|hi|ge|gt|al)$/.test(c.asm)));
  test.prop([inputs], { numRuns: 200 })('register 31 and SP forms', property(['r31', 'sp']));
});

describe('data processing (register) helpers without BigInt', () => {
  const word = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  const fromR = (): bigint => (BigInt(R.hi >>> 0) << 32n) | BigInt(R.lo >>> 0);
  const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

  test.prop([word, word, word], { numRuns: 200 })('udiv64Fast by a 32-bit divisor', (alo, ahi, blo) => {
    udiv64Fast(alo, ahi, blo, 0);
    const b = BigInt(blo >>> 0);
    expect(fromR()).toBe(b === 0n ? 0n : big(alo, ahi) / b);
  });

  test.prop([word, word, word, word], { numRuns: 200 })('umulh64Fast', (alo, ahi, blo, bhi) => {
    umulh64Fast(alo, ahi, blo, bhi);
    expect(fromR()).toBe((big(alo, ahi) * big(blo, bhi)) >> 64n);
  });
});
