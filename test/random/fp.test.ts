/**
 * Generated floating-point instruction tests (generator-fp.ts): random scalar and Advanced SIMD
 * FP instructions on edge operands under random FPCR modes, run in the instruction-test harness
 * with its SIMD&FP state on, on Tagvisor and on QEMU; transcripts (X registers holding FPSR
 * samples and NZCV, V registers, FPCR, FPSR) and statuses must be identical.
 *
 * Always: Tagvisor against QEMU's transcripts in golden/fp-seeds.json (seeds 1..120). With QEMU
 * installed: also fresh seeds live (10 by default, at most about 30 s).
 *
 *   npx vitest run test/random/fp.test.ts
 *   TAGVISOR_FP_SEEDS=2000 npx vitest run test/random/fp.test.ts -t live      2000 live seeds
 *   TAGVISOR_FP_SEED_BASE=123 TAGVISOR_FP_SEEDS=1 npx vitest run test/random/fp.test.ts -t live
 *   TAGVISOR_FP_REGENERATE=1 npx vitest run test/random/fp.test.ts           rewrite the golden file
 */
import { join } from 'node:path';
import { generateFpCase } from './generator-fp.js';
import { goldenFamilyTests } from './golden-family.js';

goldenFamilyTests({
  name: 'FP',
  generate: generateFpCase,
  golden: join(import.meta.dirname, 'golden', 'fp-seeds.json'),
  testFile: 'test/random/fp.test.ts',
  envPrefix: 'TAGVISOR_FP',
  seeds: Array.from({ length: 120 }, (_, i) => i + 1),
  liveBase: 3_000_000,
});
