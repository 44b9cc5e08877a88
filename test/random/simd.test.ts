/**
 * Generated SIMD&FP instruction tests (generator-simd.ts): random loads and stores of SIMD&FP
 * registers in every addressing mode (with MTE tags and faults) and random integer Advanced SIMD
 * and move instructions, from random V registers, run in the instruction-test harness with its
 * SIMD&FP state on, on Tagvisor and on QEMU; transcripts (X and V registers, FPCR, FPSR, memory,
 * tags, or the exception report) and statuses must be identical.
 *
 * Always: Tagvisor against QEMU's transcripts in golden/simd-seeds.json (SEEDS). With
 * QEMU installed: also fresh seeds live (10 by default, at most about 30 s).
 *
 *   npx vitest run test/random/simd.test.ts
 *   TAGVISOR_SIMD_SEEDS=2000 npx vitest run test/random/simd.test.ts -t live      2000 live seeds
 *   TAGVISOR_SIMD_SEED_BASE=123 TAGVISOR_SIMD_SEEDS=1 npx vitest run test/random/simd.test.ts -t live
 *   TAGVISOR_SIMD_REGENERATE=1 npx vitest run test/random/simd.test.ts           rewrite the golden file
 */
import { join } from 'node:path';
import { generateSimdCase } from './generator-simd.js';
import { goldenFamilyTests } from './golden-family.js';
import { SIMD_INT_SEEDS_FROM } from './simd-int-family.js';

goldenFamilyTests({
  name: 'SIMD',
  generate: generateSimdCase,
  golden: join(import.meta.dirname, 'golden', 'simd-seeds.json'),
  testFile: 'test/random/simd.test.ts',
  envPrefix: 'TAGVISOR_SIMD',
  // Seeds 1..80, and 60 seeds of the integer-SIMD family (simd-int-family.ts).
  seeds: [...Array.from({ length: 80 }, (_, i) => i + 1), ...Array.from({ length: 60 }, (_, i) => SIMD_INT_SEEDS_FROM + 1 + i)],
  liveBase: 2_000_000,
});
