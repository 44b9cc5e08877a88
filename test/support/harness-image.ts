/**
 * Patched copies of the instruction-test harness (guests/build/harness.elf; contract in
 * guests/README.md, "Instruction-test harness contract").
 *
 * The harness image has a 256-byte state block (`harness_state`: x0..x30 as little-endian u64 in
 * slots 0..30, NZCV in bits 31:28 of slot 31) and a 256-word payload slot (`harness_payload`,
 * NOP-filled). Both are found through the ELF symbol table and mapped to file offsets through
 * the PT_LOAD program header that holds them (offset = vaddr - p_vaddr + p_offset), so nothing
 * here depends on today's layout. The patched bytes can be given to `VirtMachine.loadElf` as they
 * are, or written to a temporary file for QEMU (`writeHarnessImage`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The committed harness image. */
export const HARNESS_ELF = join(import.meta.dirname, '../../guests/build/harness.elf');
/** Payload slot size in instruction words. */
export const HARNESS_PAYLOAD_WORDS = 256;
/** State block: 31 registers + NZCV, 8 bytes each. */
export const HARNESS_STATE_BYTES = 32 * 8;
/** Scratch buffer the harness initialises and reports (guests/README.md). */
export const HARNESS_SCRATCH_BASE = 0x4010_0000;
export const HARNESS_SCRATCH_SIZE = 0x1_0000;
/** Initial SP (SP_EL0) of the payload. */
export const HARNESS_STACK_TOP = 0x4012_0000;
/** Exit status of a run whose payload took an exception. */
export const HARNESS_EXCEPTION_STATUS = 3;

/** Initial machine state of the payload. */
export interface HarnessState {
  /** x0..x30 (31 values; taken modulo 2^64). */
  readonly x: readonly bigint[];
  /** NZCV as a 4-bit number: N = 8, Z = 4, C = 2, V = 1. */
  readonly nzcv: number;
  /**
   * SIMD&FP state, opt-in (guests/README.md): V0..V31 as 128-bit values, FPCR and FPSR. When
   * given, the payload runs with FP enabled and the transcript reports these registers too.
   */
  readonly simd?: { readonly v: readonly bigint[]; readonly fpcr: number; readonly fpsr: number };
}

/** The SIMD&FP state block: flags, FPCR, FPSR, padding, then V0..V31. */
export const HARNESS_VSTATE_BYTES = 32 + 32 * 16;

/** Where the patchable parts of one harness image are. */
export interface HarnessLayout {
  readonly stateAddr: number;
  readonly stateOffset: number;
  readonly payloadAddr: number;
  readonly payloadOffset: number;
}

interface Symbol64 {
  readonly value: bigint;
  readonly size: bigint;
}

const SHT_SYMTAB = 2;
const PT_LOAD = 1;

function fail(message: string): never {
  throw new Error(`harness image: ${message}`);
}

/** Reads every named symbol of `.symtab` (the first SHT_SYMTAB section). */
export function readSymbols(elf: Uint8Array): Map<string, Symbol64> {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 64 || view.getUint32(0, false) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) fail('not a little-endian ELF64 file');
  const shoff = Number(view.getBigUint64(40, true));
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length) fail('bad section header table');
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
      entsize: Number(view.getBigUint64(at + 56, true)),
    };
  };
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_SYMTAB) continue;
    if (symtab.link >= shnum) fail('.symtab has a bad string table link');
    const strtab = section(symtab.link);
    if (symtab.offset + symtab.size > elf.length || strtab.offset + strtab.size > elf.length) fail('symbol table outside the file');
    const entsize = symtab.entsize || 24;
    const symbols = new Map<string, Symbol64>();
    for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += entsize) {
      const nameOff = view.getUint32(at, true);
      if (nameOff === 0 || nameOff >= strtab.size) continue;
      let end = strtab.offset + nameOff;
      while (end < strtab.offset + strtab.size && elf[end] !== 0) end++;
      const name = Buffer.from(elf.subarray(strtab.offset + nameOff, end)).toString('latin1');
      symbols.set(name, { value: view.getBigUint64(at + 8, true), size: view.getBigUint64(at + 16, true) });
    }
    return symbols;
  }
  return fail('no symbol table (.symtab)');
}

/** File offset of `length` bytes at virtual address `addr`, through the PT_LOAD that holds them. */
function fileOffsetOf(elf: Uint8Array, addr: bigint, length: number, what: string): number {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(view.getBigUint64(32, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize < 56 || phoff + phnum * phentsize > elf.length) fail('bad program header table');
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getBigUint64(at + 8, true);
    const vaddr = view.getBigUint64(at + 16, true);
    const filesz = view.getBigUint64(at + 32, true);
    if (addr >= vaddr && addr + BigInt(length) <= vaddr + filesz) {
      const fileOffset = Number(addr - vaddr + offset);
      if (fileOffset + length > elf.length) fail(`${what} lies past the end of the file`);
      return fileOffset;
    }
  }
  return fail(`${what} (0x${addr.toString(16)}, ${length} bytes) is not inside the file part of any PT_LOAD segment`);
}

/** Locates harness_state and harness_payload in a harness image. */
export function harnessLayout(elf: Uint8Array): HarnessLayout {
  const symbols = readSymbols(elf);
  const state = symbols.get('harness_state') ?? fail('symbol harness_state not found');
  const payload = symbols.get('harness_payload') ?? fail('symbol harness_payload not found');
  const payloadEnd = symbols.get('harness_payload_end');
  if (payloadEnd && payloadEnd.value - payload.value !== BigInt(HARNESS_PAYLOAD_WORDS * 4)) {
    fail(`payload slot is ${payloadEnd.value - payload.value} bytes, expected ${HARNESS_PAYLOAD_WORDS * 4}`);
  }
  if (payload.value - state.value < BigInt(HARNESS_STATE_BYTES)) fail('state block and payload overlap');
  return {
    stateAddr: Number(state.value),
    stateOffset: fileOffsetOf(elf, state.value, HARNESS_STATE_BYTES, 'harness_state'),
    payloadAddr: Number(payload.value),
    payloadOffset: fileOffsetOf(elf, payload.value, HARNESS_PAYLOAD_WORDS * 4, 'harness_payload'),
  };
}

let cachedElf: Uint8Array | undefined;

/** The committed harness image's bytes (read once). */
export function harnessElf(): Uint8Array {
  cachedElf ??= new Uint8Array(readFileSync(HARNESS_ELF));
  return cachedElf;
}

/** The A64 NOP, which fills the payload slot after the given words. */
export const NOP = 0xd503201f;

/**
 * A copy of the harness image with the given initial state and payload (at most 256 words; the
 * rest of the slot is NOPs). The input image is not modified.
 */
export function patchHarness(state: HarnessState, payload: ArrayLike<number>, elf: Uint8Array = harnessElf()): Uint8Array {
  if (state.x.length !== 31) throw new RangeError(`harness state needs 31 registers, got ${state.x.length}`);
  if (payload.length > HARNESS_PAYLOAD_WORDS) throw new RangeError(`payload has ${payload.length} words, the slot holds ${HARNESS_PAYLOAD_WORDS}`);
  const layout = harnessLayout(elf);
  const out = new Uint8Array(elf);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < 31; i++) view.setBigUint64(layout.stateOffset + i * 8, BigInt.asUintN(64, state.x[i]!), true);
  view.setBigUint64(layout.stateOffset + 31 * 8, BigInt((state.nzcv & 15) << 28 >>> 0), true);
  for (let i = 0; i < HARNESS_PAYLOAD_WORDS; i++) {
    view.setUint32(layout.payloadOffset + i * 4, i < payload.length ? payload[i]! >>> 0 : NOP, true);
  }
  if (state.simd) patchSimdState(out, state.simd);
  return out;
}

function patchSimdState(out: Uint8Array, simd: NonNullable<HarnessState['simd']>): void {
  if (simd.v.length !== 32) throw new RangeError(`harness SIMD state needs 32 V registers, got ${simd.v.length}`);
  const symbol = readSymbols(out).get('harness_vstate') ?? fail('symbol harness_vstate not found (rebuild guests/build/harness.elf)');
  const at = fileOffsetOf(out, symbol.value, HARNESS_VSTATE_BYTES, 'harness_vstate');
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setBigUint64(at, 1n, true);
  view.setBigUint64(at + 8, BigInt(simd.fpcr >>> 0), true);
  view.setBigUint64(at + 16, BigInt(simd.fpsr >>> 0), true);
  for (let i = 0; i < 32; i++) {
    const v = BigInt.asUintN(128, simd.v[i]!);
    view.setBigUint64(at + 32 + i * 16, v & ((1n << 64n) - 1n), true);
    view.setBigUint64(at + 40 + i * 16, v >> 64n, true);
  }
}

/**
 * Writes an image to a fresh temporary directory and returns its path and a cleanup function
 * (which removes the directory).
 */
export function writeHarnessImage(bytes: Uint8Array, name = 'harness.elf'): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-harness-'));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
