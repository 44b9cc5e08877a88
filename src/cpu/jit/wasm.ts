/**
 * A minimal WebAssembly binary writer for the JIT: one function per module, importing the guest
 * RAM's memory and a few helper functions. Only what the code generator uses: i32/i64 integer operations, loads and stores,
 * structured control flow with labels resolved by name.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;

/** Opcodes (WebAssembly core specification, "Binary Format: Instructions"). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10, callIndirect: 0x11,
  drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8U: 0x2d, i32Load16U: 0x2f,
  i64Load8S: 0x30, i64Load8U: 0x31, i64Load16S: 0x32, i64Load16U: 0x33, i64Load32S: 0x34, i64Load32U: 0x35,
  i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a, i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64LeU: 0x58, i64GeU: 0x5a,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivS: 0x6d, i32DivU: 0x6e, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Clz: 0x67, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77, i32Rotr: 0x78,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85,
  i64Clz: 0x79, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88, i64Rotl: 0x89, i64Rotr: 0x8a,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad, i64Extend8S: 0xc2, i64Extend16S: 0xc3, i64Extend32S: 0xc4,
} as const;

/** Byte sink with LEB128 helpers. */
export class Bytes {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }

  u32(v: number): void {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x !== 0 ? b | 0x80 : b);
    } while (x !== 0);
  }

  /** Signed LEB128 of a bigint (i64.const) or number (i32.const). */
  sleb(value: bigint | number): void {
    let x = BigInt(value);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && (b & 0x40) === 0) || (x === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return;
    }
  }

  append(other: Bytes): void {
    const need = this.length + other.length;
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.buf.set(other.buf.subarray(0, other.length), this.length);
    this.length = need;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Function body writer. Control constructs are pushed with a name; `br(name)` computes the
 * relative depth, so the code generator never counts nesting by hand.
 */
export class FuncWriter {
  code = new Bytes();
  private readonly labels: string[] = [];
  private readonly localTypes: number[] = [];

  constructor(readonly paramCount: number) {}

  /** Declares a local of `type` and returns its index. */
  local(type: number): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  op(opcode: number): void {
    this.code.byte(opcode);
  }

  get(index: number): void {
    this.code.byte(Op.localGet);
    this.code.u32(index);
  }

  set(index: number): void {
    this.code.byte(Op.localSet);
    this.code.u32(index);
  }

  tee(index: number): void {
    this.code.byte(Op.localTee);
    this.code.u32(index);
  }

  i32(value: number): void {
    this.code.byte(Op.i32Const);
    this.code.sleb(value | 0);
  }

  i64(value: bigint): void {
    this.code.byte(Op.i64Const);
    this.code.sleb(BigInt.asIntN(64, value));
  }

  /** A load or store with a constant offset (alignment hint 0: guest accesses may be unaligned). */
  mem(opcode: number, offset = 0): void {
    this.code.byte(opcode);
    this.code.u32(0);
    this.code.u32(offset);
  }

  /** Opens block/loop/if (`opcode`) named `name`, with no result. */
  open(opcode: number, name: string): void {
    this.code.byte(opcode);
    this.code.byte(0x40);
    this.labels.push(name);
  }

  else(): void {
    this.code.byte(Op.else);
  }

  end(): void {
    this.code.byte(Op.end);
    this.labels.pop();
  }

  private depth(name: string): number {
    const at = this.labels.lastIndexOf(name);
    if (at < 0) throw new Error(`jit: no label ${name}`);
    return this.labels.length - 1 - at;
  }

  br(name: string): void {
    this.code.byte(Op.br);
    this.code.u32(this.depth(name));
  }

  brIf(name: string): void {
    this.code.byte(Op.brIf);
    this.code.u32(this.depth(name));
  }

  call(index: number): void {
    this.code.byte(Op.call);
    this.code.u32(index);
  }

  brTable(names: string[], fallback: string): void {
    this.code.byte(Op.brTable);
    this.code.u32(names.length);
    for (const name of names) this.code.u32(this.depth(name));
    this.code.u32(this.depth(fallback));
  }

  /** Writes `emit`'s code in front of everything written so far (a prologue that depends on the body). */
  prepend(emit: () => void): void {
    const body = this.code;
    this.code = new Bytes();
    emit();
    this.code.append(body);
  }

  /** The function body: locals (one entry per local, simple and small enough) then code. */
  body(): Bytes {
    const out = new Bytes();
    out.u32(this.localTypes.length);
    for (const type of this.localTypes) {
      out.u32(1);
      out.byte(type);
    }
    out.append(this.code);
    out.byte(Op.end);
    return out;
  }
}

function section(out: Bytes, id: number, content: Bytes): void {
  out.byte(id);
  out.u32(content.length);
  out.append(content);
}

function name(out: Bytes, text: string): void {
  out.u32(text.length);
  for (let i = 0; i < text.length; i++) out.byte(text.charCodeAt(i));
}

/** An import of a module: a function of type 0, the memory or a funcref table. */
export type Import = { module: string; field: string; kind: 'func' } | { module: string; field: string; kind: 'memory'; shared: boolean } | { module: string; field: string; kind: 'table' };

/**
 * A module of the functions `funcs`, exported as `exportNames` (in order): types take
 * `typeParams[i]` i32 parameters and return one i32; imported functions have type 0, each of
 * `funcs` has type `funcType`.
 */
export function assembleModule(funcs: readonly FuncWriter[], typeParams: readonly number[], funcType: number, imports: readonly Import[], exportNames: readonly string[]): Uint8Array<ArrayBuffer> {
  const out = new Bytes();
  for (const b of [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) out.byte(b);
  const types = new Bytes();
  types.u32(typeParams.length);
  for (const params of typeParams) {
    types.byte(0x60);
    types.u32(params);
    for (let i = 0; i < params; i++) types.byte(I32);
    types.u32(1);
    types.byte(I32);
  }
  section(out, 1, types);
  const section2 = new Bytes();
  section2.u32(imports.length);
  let importedFuncs = 0;
  for (const imp of imports) {
    name(section2, imp.module);
    name(section2, imp.field);
    if (imp.kind === 'func') {
      section2.byte(0x00);
      section2.u32(0);
      importedFuncs++;
    } else if (imp.kind === 'memory') {
      section2.byte(0x02);
      // Limits: minimum 0 and maximum 65536 pages accept any memory (shared ones need a maximum).
      section2.byte(imp.shared ? 0x03 : 0x01);
      section2.u32(0);
      section2.u32(65536);
    } else {
      section2.byte(0x01);
      section2.byte(0x70); // funcref
      section2.byte(0x00); // limits: minimum 0, no maximum
      section2.u32(0);
    }
  }
  section(out, 2, section2);
  const declared = new Bytes();
  declared.u32(funcs.length);
  for (let i = 0; i < funcs.length; i++) declared.u32(funcType);
  section(out, 3, declared);
  const exports = new Bytes();
  exports.u32(funcs.length);
  funcs.forEach((_, i) => {
    name(exports, exportNames[i]!);
    exports.byte(0x00);
    exports.u32(importedFuncs + i);
  });
  section(out, 7, exports);
  const code = new Bytes();
  code.u32(funcs.length);
  for (const func of funcs) {
    const body = func.body();
    code.u32(body.length);
    code.append(body);
  }
  section(out, 10, code);
  return out.bytes();
}

/**
 * A module importing memory "m"."mem" (shared when `shared`) and the functions "h"."<helper>"
 * (function indices 0.., in `helpers` order), and exporting `funcs` as "f0", "f1"...; all
 * functions take `params` i32 parameters and return one i32.
 */
export function buildModule(funcs: readonly FuncWriter[], params: number, shared: boolean, helpers: readonly string[] = []): Uint8Array<ArrayBuffer> {
  const imports: Import[] = helpers.map((helper) => ({ module: 'h', field: helper, kind: 'func' }));
  imports.push({ module: 'm', field: 'mem', kind: 'memory', shared });
  return assembleModule(funcs, [params], 0, imports, funcs.map((_, i) => `f${i}`));
}
