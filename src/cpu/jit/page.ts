/** A compiled region's entry: f(pageLo, pageHi, block, budget) -> instructions executed. */
export type RegionFn = (pageLo: number, pageHi: number, block: number, budget: number) => number;

/**
 * JIT bookkeeping of one decoded code page (CodePage.jit): heat per block entry and the compiled
 * regions entered at each instruction. Dropping it (CodePage.jit = null) drops the page's code.
 */
export class JitPage {
  /** Block entries seen by the interpreter, per instruction (counts up to the hot threshold). */
  readonly heat = new Uint16Array(1024);
  /** Region function entered at each instruction; null: not compilable, undefined: not yet. */
  readonly fn: (RegionFn | null | undefined)[] = new Array<RegionFn | null | undefined>(1024);
  /** Slot of each entry's region function in the engine's table (chain.ts). */
  readonly slot = new Int32Array(1024);
  /** 1: the entry's region is short, entered only from another region, never from JS (engine.ts). */
  readonly chainOnly = new Uint8Array(1024);
  /** Block number of each entry in its region function. */
  readonly block = new Int16Array(1024);
  /** Bytes of wasm compiled for this page (the code cache's measure). */
  bytes = 0;
}
