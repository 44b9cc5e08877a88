import { it } from 'vitest';
import { assemble } from '../support/asm.js';
import { qemuAvailable } from '../support/qemu.js';
import { diffLines, imageOf, runOnQemu, runOnTagvisor } from './run.js';

/**
 * A tool for minimising a failing case by hand (skipped unless TAGVISOR_RANDOM_TRY is set): runs
 * one payload in the harness on Tagvisor and QEMU and prints both statuses and the diff.
 *
 *   TAGVISOR_RANDOM_TRY='ldaddh w1, w2, [x0]; nop' TAGVISOR_RANDOM_X='x0=0x40409000,x1=5' \
 *     TAGVISOR_RANDOM_NZCV=4 npx vitest run test/random/try-payload.test.ts
 *
 * TAGVISOR_RANDOM_TRY is assembly (';' separates lines; needs aarch64-linux-gnu-as) or, starting
 * with "words:", hex instruction words ("words: 787f101f d503201f").
 */
const source = process.env.TAGVISOR_RANDOM_TRY;

it.runIf(source !== undefined && qemuAvailable())('try one payload on Tagvisor and QEMU', async () => {
  const x: bigint[] = new Array<bigint>(31).fill(0n);
  for (const item of (process.env.TAGVISOR_RANDOM_X ?? '').split(',').filter(Boolean)) {
    const [name, value] = item.split('=');
    x[Number(name!.trim().slice(1))] = BigInt.asUintN(64, BigInt(value!.trim()));
  }
  let words: number[];
  if (source!.startsWith('words:')) {
    words = source!.slice(6).split(/[\s,]+/).filter(Boolean).map((w) => parseInt(w, 16) >>> 0);
  } else {
    const bytes = assemble(source!.replace(/;/g, '\n'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    words = Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(4 * i, true));
  }
  const image = imageOf({ state: { x, nzcv: Number(process.env.TAGVISOR_RANDOM_NZCV ?? 0) }, words });
  const qemu = await runOnQemu(image);
  const tagvisor = await runOnTagvisor(image);
  console.log(`status: QEMU ${qemu.status}, Tagvisor ${tagvisor.status}\n${diffLines(qemu.out, tagvisor.out, 1000)}`);
});
