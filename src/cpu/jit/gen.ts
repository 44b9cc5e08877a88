import { SINK_SLOT, SP_SLOT, XZR_SLOT } from '../regs.js';
import { STATE_OFFSET } from './layout.js';
import { FuncWriter, I32, I64, Op } from './wasm.js';

/** Parameters of every region function: page VA (lo, hi), entry block, instruction budget. */
export const P_PAGE_LO = 0;
export const P_PAGE_HI = 1;
export const P_BLOCK = 2;
export const P_BUDGET = 3;
export const PARAMS = 4;

/** Label names of the region function's skeleton (compile.ts). */
export const DONE = 'done';
export const DISPATCH = 'dispatch';

/**
 * Code generation state of one region: the function writer, the locals that hold guest state,
 * scratch locals, and the exit protocol. Guest X registers live in i64 locals (slot numbers as in
 * regs.ts), NZCV in four i32 locals holding 0 or 1 as Cpu's nf/zf/cf/vf do.
 */
export class Gen {
  readonly f = new FuncWriter(PARAMS);
  /** i64 local of each register slot 0..32 (XZR's is never read: reads of it are constant 0). */
  readonly x: number[] = [];
  readonly nf: number;
  readonly zf: number;
  readonly cf: number;
  readonly vf: number;
  /** The page's VA (i64), the executed-instruction count, the block to dispatch to, the exit PC. */
  readonly pageVa: number;
  readonly count: number;
  readonly block: number;
  readonly pc: number;
  /** Copies of cpu fields (layout.ts ST_*), loaded at entry. */
  readonly tbiAnd0: number;
  readonly tbiOr1: number;
  readonly rdBase: number;
  readonly wrBase: number;
  readonly mteActive: number;
  readonly spAlign: number;
  readonly tagBase: number;
  readonly tagPlain: number;
  /** Scratch. */
  readonly a64: number;
  readonly b64: number;
  readonly r64: number;
  readonly addr: number;
  readonly wb: number;
  readonly a32: number;
  readonly b32: number;
  readonly r32: number;
  readonly lo: number;
  readonly hi: number;
  readonly e: number;
  readonly off: number;
  /** Register slots the region reads or writes (loaded at entry) and writes (stored at exit). */
  readonly usedX: boolean[] = [];
  readonly writtenX: boolean[] = [];
  /** Set while emitting a block: its instruction count, for exits in the middle. */
  blockLength = 0;

  constructor(readonly jitArea: number) {
    const f = this.f;
    for (let slot = 0; slot <= SP_SLOT; slot++) this.x.push(f.local(I64));
    this.nf = f.local(I32);
    this.zf = f.local(I32);
    this.cf = f.local(I32);
    this.vf = f.local(I32);
    this.pageVa = f.local(I64);
    this.count = f.local(I32);
    this.block = f.local(I32);
    this.pc = f.local(I64);
    this.tbiAnd0 = f.local(I32);
    this.tbiOr1 = f.local(I32);
    this.rdBase = f.local(I32);
    this.wrBase = f.local(I32);
    this.mteActive = f.local(I32);
    this.spAlign = f.local(I32);
    this.tagBase = f.local(I32);
    this.tagPlain = f.local(I32);
    this.a64 = f.local(I64);
    this.b64 = f.local(I64);
    this.r64 = f.local(I64);
    this.addr = f.local(I64);
    this.wb = f.local(I64);
    this.a32 = f.local(I32);
    this.b32 = f.local(I32);
    this.r32 = f.local(I32);
    this.lo = f.local(I32);
    this.hi = f.local(I32);
    this.e = f.local(I32);
    this.off = f.local(I32);
  }

  /** Pushes X[slot] (i64); XZR reads as 0. */
  read(slot: number): void {
    // XZR reads zero; so does the sink (only MOVK/BFM to XZR read it, and their result is dropped).
    if (slot === XZR_SLOT || slot === SINK_SLOT) {
      this.f.i64(0n);
    } else {
      this.usedX[slot] = true;
      this.f.get(this.x[slot]!);
    }
  }

  /** Pushes W[slot] (i32). */
  read32(slot: number): void {
    if (slot === XZR_SLOT || slot === SINK_SLOT) {
      this.f.i32(0);
    } else {
      this.usedX[slot] = true;
      this.f.get(this.x[slot]!);
      this.f.op(Op.i32WrapI64);
    }
  }

  /** Pops an i64 into X[slot]; writes to XZR or the sink are dropped. */
  write(slot: number): void {
    if (slot === XZR_SLOT || slot === SINK_SLOT) {
      this.f.op(Op.drop);
    } else {
      // A written register is loaded too: an exit before the write must store its old value.
      this.usedX[slot] = this.writtenX[slot] = true;
      this.f.set(this.x[slot]!);
    }
  }

  /** Pops an i32 into W[slot], zero-extended. */
  write32(slot: number): void {
    this.f.op(Op.i64ExtendI32U);
    this.write(slot);
  }

  /** Pushes the VA of instruction `idx` of the page (i64). */
  insnVa(idx: number): void {
    this.f.get(this.pageVa);
    this.f.i64(BigInt(idx * 4));
    this.f.op(Op.i64Add);
  }

  /** Leaves the region with the PC at instruction `idx`, which is the `j`-th of its block and not executed. */
  exitBefore(idx: number, j: number): void {
    const f = this.f;
    this.insnVa(idx);
    f.set(this.pc);
    if (this.blockLength - j !== 0) {
      f.get(this.count);
      f.i32(this.blockLength - j);
      f.op(Op.i32Sub);
      f.set(this.count);
    }
    f.br(DONE);
  }

  /** Leaves the region with the PC on the stack (i64); every instruction of the block ran. */
  exitTo(): void {
    this.f.set(this.pc);
    this.f.br(DONE);
  }

  /** Adds 1 to state word `word` (a counter the engine reads at exit). */
  bumpState(word: number): void {
    const f = this.f;
    const at = this.jitArea + STATE_OFFSET + word * 4;
    f.i32(0);
    f.i32(0);
    f.mem(Op.i32Load, at);
    f.i32(1);
    f.op(Op.i32Add);
    f.mem(Op.i32Store, at);
  }

  /** Continues at region block `block`. */
  goto(block: number): void {
    this.f.i32(block);
    this.f.set(this.block);
    this.f.br(DISPATCH);
  }

  /** Pushes ConditionHolds(cond) as i32 0/1 (alu.ts conditionHolds). */
  condition(cond: number): void {
    const f = this.f;
    switch (cond >>> 1) {
      case 0:
        f.get(this.zf);
        break;
      case 1:
        f.get(this.cf);
        break;
      case 2:
        f.get(this.nf);
        break;
      case 3:
        f.get(this.vf);
        break;
      case 4:
        f.get(this.zf);
        f.op(Op.i32Eqz);
        f.get(this.cf);
        f.op(Op.i32And);
        break;
      case 5:
        f.get(this.nf);
        f.get(this.vf);
        f.op(Op.i32Eq);
        break;
      case 6:
        f.get(this.nf);
        f.get(this.vf);
        f.op(Op.i32Eq);
        f.get(this.zf);
        f.op(Op.i32Eqz);
        f.op(Op.i32And);
        break;
      default:
        f.i32(1);
        return; // AL and NV: always
    }
    if ((cond & 1) !== 0) f.op(Op.i32Eqz);
  }
}
