import { type Cpu, debugTranslate, type DebugTranslation } from '../../cpu/index.js';
import { GRANULE_SIZE, PAGE_SIZE, type GuestMemory } from '../../memory/index.js';
import { DebugError, hex64 } from './errors.js';

/** How a debugger names memory: a guest virtual address (current regime) or a physical one. */
export type AddressKind = 'virtual' | 'physical';

/** The most bytes (or granules' worth of bytes) one debugger request moves. */
export const MAX_DEBUG_TRANSFER = 1 << 20;

const U64 = 1n << 64n;
const GPA_LIMIT = 2n ** 52n;

/** One physically contiguous piece of a request: [pa, pa + length) is byte `done` onwards. */
interface Piece {
  readonly pa: number;
  readonly length: number;
  readonly done: number;
  /** The page's stage-1 attribute is Normal-Tagged (virtual requests only). */
  readonly tagged: boolean;
}

/**
 * The debugger's view of guest memory. Every byte and tag goes through the debug access class
 * (`vm.memory.debug`): never tag-checked, tags untouched by data accesses, and subject to the VM's
 * debug policy (a protected VM refuses with GuestMemoryError code 'denied', surfaced here as a
 * DebugError with that code). Virtual addresses are translated in the vCPU's current regime
 * (TBI applies, so tagged pointers work) without side effects.
 *
 * Requests are checked as a whole before anything moves: a range with an unmapped page, a hole in
 * RAM or a page the policy refuses changes nothing.
 */
export class DebugMemoryView {
  constructor(
    private readonly cpu: Cpu,
    private readonly memory: GuestMemory,
    /** Called after every successful write (data or tags): cached views of memory are stale. */
    private readonly onWrite: () => void = () => {},
    /** Called before every page-table walk; throws to refuse (a protected VM, inspection.ts). */
    private readonly gate: (what: string) => void = () => {},
  ) {}

  /** Walks the guest's page tables for `va` (refused, as a DebugError 'denied', for a protected VM). */
  translate(va: bigint): DebugTranslation | null {
    this.gate(`walk of the guest's page tables for ${hex64(va & (U64 - 1n))}`);
    return debugTranslate(this.cpu, va & (U64 - 1n));
  }

  /** Whether `va` is mapped Normal-Tagged onto RAM that holds allocation tags. */
  isTagged(va: bigint): boolean {
    const t = this.translate(va);
    return t !== null && t.tagged && this.memory.debug.hasTags(t.pa);
  }

  /** Reads exactly `length` bytes. */
  read(addr: bigint, length: number, kind: AddressKind): Uint8Array {
    const out = new Uint8Array(checkLength(length));
    try {
      for (const piece of this.pieces(addr, length, kind)) {
        this.memory.debug.readData(piece.pa, out.subarray(piece.done, piece.done + piece.length));
      }
    } catch (error) {
      throw DebugError.from(error);
    }
    return out;
  }

  /**
   * Reads up to `length` bytes from virtual address `va`, stopping at the first page that cannot
   * be read (gdb's `m` may return fewer bytes). Throws when not even the first byte is readable.
   */
  readPrefix(va: bigint, length: number): Uint8Array {
    const chunks: Uint8Array[] = [];
    let done = 0;
    let failure: DebugError | null = null;
    while (done < length) {
      const at = (va + BigInt(done)) % U64;
      const take = Math.min(length - done, PAGE_SIZE - Number(at % BigInt(PAGE_SIZE)));
      try {
        chunks.push(this.read(at, take, 'virtual'));
      } catch (error) {
        failure = DebugError.from(error);
        break;
      }
      done += take;
    }
    if (done === 0 && length > 0) throw failure ?? new DebugError('not-mapped', `${hex64(va)} is not mapped`);
    const out = new Uint8Array(done);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /** Writes all of `data`, or nothing when any part is unmapped, not RAM or refused. */
  write(addr: bigint, data: Uint8Array, kind: AddressKind): void {
    checkLength(data.length);
    try {
      const pieces = this.pieces(addr, data.length, kind);
      for (const piece of pieces) this.preflight(piece.pa, piece.length, false);
      for (const piece of pieces) this.memory.debug.writeData(piece.pa, data.subarray(piece.done, piece.done + piece.length));
    } catch (error) {
      throw DebugError.from(error);
    }
    this.onWrite();
  }

  /**
   * The allocation tags of every granule [addr, addr + length) touches, one per byte, and the
   * address of the first granule.
   */
  readTags(addr: bigint, length: number, kind: AddressKind): { start: bigint; tags: Uint8Array } {
    const { start, bytes } = granuleSpan(addr, checkLength(length));
    const tags = new Uint8Array(bytes / GRANULE_SIZE);
    try {
      for (const piece of this.pieces(start, bytes, kind)) {
        tags.set(this.memory.debug.readTags(piece.pa, piece.length), piece.done / GRANULE_SIZE);
      }
    } catch (error) {
      throw DebugError.from(error);
    }
    return { start, tags };
  }

  /**
   * Sets the tags of every granule [addr, addr + length) touches from `pattern`, repeated when
   * shorter (gdb's QMemTags rule). All or nothing.
   */
  writeTags(addr: bigint, length: number, pattern: Uint8Array, kind: AddressKind): void {
    const { start, bytes } = granuleSpan(addr, checkLength(length));
    if (bytes === 0) return;
    if (pattern.length === 0) throw new DebugError('invalid-range', 'empty tag pattern');
    const bad = pattern.findIndex((tag) => tag > 15);
    if (bad >= 0) throw new DebugError('invalid-range', `tag value ${pattern[bad]} is not a 4-bit tag`);
    try {
      const pieces = this.pieces(start, bytes, kind);
      for (const piece of pieces) {
        this.preflight(piece.pa, piece.length, true);
        if (!this.memory.debug.hasTags(piece.pa)) throw new DebugError('no-tags', `memory at ${hex64(start + BigInt(piece.done))} holds no allocation tags (MTE is off)`);
      }
      for (const piece of pieces) {
        // Rotate the pattern so it continues where the previous piece left off.
        const first = (piece.done / GRANULE_SIZE) % pattern.length;
        const rotated = first === 0 ? pattern : Uint8Array.from({ length: pattern.length }, (_, i) => pattern[(first + i) % pattern.length]!);
        this.memory.debug.writeTags(piece.pa, piece.length, rotated);
      }
    } catch (error) {
      throw DebugError.from(error);
    }
    this.onWrite();
  }

  /** Checks that a piece is RAM and that the policy allows a debug write, without writing. */
  private preflight(pa: number, length: number, tags: boolean): void {
    this.memory.space.ramChunks(pa, length);
    this.memory.policy.authorize({ cls: 'debug', op: 'write', gpa: pa, length, tags, preflight: true });
  }

  /** Splits [addr, addr + length) into physically contiguous pieces (page by page for VAs). */
  private pieces(addr: bigint, length: number, kind: AddressKind): Piece[] {
    if (addr < 0n || addr >= U64) throw new DebugError('invalid-range', `${String(addr)} is not a 64-bit address`);
    if (length === 0) return [];
    if (kind === 'physical') {
      if (addr + BigInt(length) > GPA_LIMIT) throw new DebugError('invalid-range', `physical range ${hex64(addr)}+${length} exceeds the 52-bit address space`);
      return [{ pa: Number(addr), length, done: 0, tagged: false }];
    }
    const pieces: Piece[] = [];
    let done = 0;
    while (done < length) {
      const va = (addr + BigInt(done)) % U64;
      const t = this.translate(va);
      if (!t) throw new DebugError('not-mapped', `virtual address ${hex64(va)} is not mapped`);
      const take = Math.min(length - done, PAGE_SIZE - (t.pa % PAGE_SIZE));
      const last = pieces[pieces.length - 1];
      if (last && last.pa + last.length === t.pa && last.tagged === t.tagged) {
        pieces[pieces.length - 1] = { ...last, length: last.length + take };
      } else {
        pieces.push({ pa: t.pa, length: take, done, tagged: t.tagged });
      }
      done += take;
    }
    return pieces;
  }
}

function checkLength(length: number): number {
  if (!Number.isInteger(length) || length < 0) throw new DebugError('invalid-range', `invalid length ${String(length)}`);
  if (length > MAX_DEBUG_TRANSFER) throw new DebugError('too-large', `${length} bytes is more than the ${MAX_DEBUG_TRANSFER} a debugger request may cover`);
  return length;
}

/** The granule-aligned span covering [addr, addr + length), as a start address and a byte count. */
function granuleSpan(addr: bigint, length: number): { start: bigint; bytes: number } {
  if (length === 0) return { start: addr, bytes: 0 };
  const g = BigInt(GRANULE_SIZE);
  const start = addr - (addr % g);
  const end = addr + BigInt(length);
  const alignedEnd = ((end + g - 1n) / g) * g;
  return { start, bytes: Number(alignedEnd - start) };
}
