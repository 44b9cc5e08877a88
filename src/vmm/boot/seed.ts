/**
 * The guest's boot entropy (/chosen rng-seed, kaslr-seed) derived from `--seed <n>` with
 * SplitMix64, so the same seed gives the same bytes on every run and every host.
 */
export function seedBytes(seed: bigint, count: number): Uint8Array {
  const out = new Uint8Array(count);
  const view = new DataView(out.buffer);
  let state = BigInt.asUintN(64, seed);
  for (let at = 0; at < count; at += 8) {
    state = BigInt.asUintN(64, state + 0x9e37_79b9_7f4a_7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn);
    z ^= z >> 31n;
    // A zero kaslr-seed means "no KASLR" to Linux: never produce an all-zero word.
    if (z === 0n) z = 1n;
    view.setBigUint64(at, z);
  }
  return out;
}
