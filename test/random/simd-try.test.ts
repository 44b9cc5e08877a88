import { it } from 'vitest';
import { assemble } from '../support/asm.js';
import { qemuAvailable } from '../support/qemu.js';
import { diffLines, imageOf, runOnQemu, runOnTagvisor } from './run.js';

/**
 * The SIMD&FP variant of try-payload.test.ts (skipped unless TAGVISOR_SIMD_TRY is set): one
 * payload with the harness's SIMD&FP state enabled, Vn = n * 0x0101..01 + 0x00010203..0f unless
 * TAGVISOR_SIMD_V gives values ('v0=0x...,v3=0x...'); prints both statuses and the diff.
 *
 *   TAGVISOR_SIMD_TRY='ld1 {v0.16b}, [x0]; cmeq v1.16b, v0.16b, #0' TAGVISOR_RANDOM_X='x0=0x40100000' \
 *     npx vitest run test/random/simd-try.test.ts
 */
const source = process.env.TAGVISOR_SIMD_TRY;

it.runIf(source !== undefined && qemuAvailable())('try one SIMD payload on Tagvisor and QEMU', async () => {
  const x: bigint[] = new Array<bigint>(31).fill(0n);
  for (const item of (process.env.TAGVISOR_RANDOM_X ?? '').split(',').filter(Boolean)) {
    const [name, value] = item.split('=');
    x[Number(name!.trim().slice(1))] = BigInt.asUintN(64, BigInt(value!.trim()));
  }
  const v = Array.from({ length: 32 }, (_, n) => BigInt(n) * 0x01010101010101010101010101010101n + 0x000102030405060708090a0b0c0d0e0fn);
  for (const item of (process.env.TAGVISOR_SIMD_V ?? '').split(',').filter(Boolean)) {
    const [name, value] = item.split('=');
    v[Number(name!.trim().slice(1))] = BigInt.asUintN(128, BigInt(value!.trim()));
  }
  let words: number[];
  if (source!.startsWith('words:')) {
    words = source!.slice(6).split(/[\s,]+/).filter(Boolean).map((w) => parseInt(w, 16) >>> 0);
  } else {
    const bytes = assemble(source!.replace(/;/g, '\n'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    words = Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(4 * i, true));
  }
  const simd = { v, fpcr: Number(process.env.TAGVISOR_SIMD_FPCR ?? 0), fpsr: Number(process.env.TAGVISOR_SIMD_FPSR ?? 0) };
  const image = imageOf({ state: { x, nzcv: 0, simd }, words });
  const qemu = await runOnQemu(image);
  const tagvisor = await runOnTagvisor(image);
  console.log(`status: QEMU ${qemu.status}, Tagvisor ${tagvisor.status}\n${diffLines(qemu.out, tagvisor.out, 1000)}`);
});
