/**
 * Running single MRS/MSR instructions on a bare CPU at EL0 or EL1, for the system register tests:
 * the result is the value read or the exception's ESR.
 */
import { Sys } from '../../src/cpu/sysreg-state.js';
import { RAM_BASE, TestMachine } from '../support/cpu-harness.js';

export type Encoding = readonly [op0: number, op1: number, crn: number, crm: number, op2: number];

const HVC0 = 0xd4000002;
const SVC0 = 0xd4000001;
const VECTORS = RAM_BASE + 0x1000;
const CODE = RAM_BASE + 0x2000;

export function mrsWord(e: Encoding, rt: number): number {
  const [op0, op1, crn, crm, op2] = e;
  return (0xd5300000 | ((op0 & 1) << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | rt) >>> 0;
}

export function msrWord(e: Encoding, rt: number): number {
  return (mrsWord(e, rt) & ~(1 << 21)) >>> 0;
}

/** What a run ended with: the exception syndrome (0 when none was taken) and the registers. */
export interface Outcome {
  readonly esr: number;
  readonly x: (n: number) => bigint;
}

/**
 * A CPU whose exception vectors (current EL with SP_ELx, lower EL) end the run, so a test can see
 * which exception an instruction took.
 */
export class SysRegMachine {
  readonly m: TestMachine;

  constructor(options: { mte?: boolean } = {}) {
    this.m = new TestMachine(options);
    const vectors = new Uint8Array(0x800);
    const view = new DataView(vectors.buffer);
    view.setUint32(0x200, HVC0, true);
    view.setUint32(0x400, HVC0, true);
    this.m.load(vectors, VECTORS);
    this.m.cpu.setSys(Sys.VBAR_EL1, VECTORS, 0);
  }

  get cpu() {
    return this.m.cpu;
  }

  /** Runs `words` at `el` (EL0 ends with SVC, which counts as "no exception"), with x0..x30 preset. */
  run(words: readonly number[], el: 0 | 1 = 1, x: Record<number, bigint> = {}): Outcome {
    const cpu = this.m.cpu;
    const code = new Uint8Array((words.length + 1) * 4);
    const view = new DataView(code.buffer);
    words.forEach((w, i) => view.setUint32(i * 4, w, true));
    view.setUint32(words.length * 4, el === 0 ? SVC0 : HVC0, true);
    this.m.load(code, CODE);
    for (const [n, v] of Object.entries(x)) this.m.setX(Number(n), v);
    cpu.setSys(Sys.ESR_EL1, 0, 0);
    cpu.setElSp(el, el === 0 ? 0 : 1);
    this.m.runToHvc();
    let esr = cpu.sysLo(Sys.ESR_EL1) >>> 0;
    if (el === 0 && esr >>> 26 === 0x15) esr = 0; // the closing SVC
    return { esr, x: (n) => this.m.x(n) };
  }

  /** MRS at `el`: the value, or the ESR of the exception as a string "esr 0x...". */
  read(e: Encoding, el: 0 | 1 = 1): bigint | string {
    const out = this.run([mrsWord(e, 1)], el, { 1: 0xdeadn });
    return out.esr ? `esr 0x${out.esr.toString(16)}` : out.x(1);
  }

  /** MSR of `value` at `el`: '' or "esr 0x...". */
  write(e: Encoding, value: bigint, el: 0 | 1 = 1): string {
    const out = this.run([msrWord(e, 2)], el, { 2: value });
    return out.esr ? `esr 0x${out.esr.toString(16)}` : '';
  }
}

/** ESR of an MRS/MSR trapped to EL1 (EC 0x18, IL = 1) with Rt and direction. */
export function trapEsr(e: Encoding, rt: number, isRead: boolean): string {
  const [op0, op1, crn, crm, op2] = e;
  const iss = (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (isRead ? 1 : 0);
  return `esr 0x${(((0x18 << 26) | (1 << 25) | iss) >>> 0).toString(16)}`;
}

/** ESR of an UNDEFINED instruction (EC 0, IL = 1). */
export const UNDEFINED = 'esr 0x2000000';
