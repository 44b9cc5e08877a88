/**
 * Fuzz target: arm64 kernel Images given to `run --kernel` (prepareKernelBoot), plain and gzip,
 * from a minimal valid Image mutated (docs/fuzzing.md). An accepted Image must lay out inside RAM.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BootError, prepareKernelBoot } from '../../src/vmm/boot/index.js';
import { FdtError } from '../../src/vmm/fdt/index.js';
import { ElfError, VirtMachine } from '../../src/vmm/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, WrongfulAcceptance, type FuzzTarget } from './harness.js';

const RAM_BASE = 0x4000_0000;
const RAM = 64 * 2 ** 20;
const model = new VirtMachine({ memoryBytes: RAM }).model();

/** A 4 KiB Image: header (text_offset 0, image_size, flags 4K | anywhere, "ARM\x64"), then nops. */
function image(): Uint8Array {
  const bytes = new Uint8Array(4096);
  const view = new DataView(bytes.buffer);
  for (let at = 64; at < bytes.length; at += 4) view.setUint32(at, 0xd503201f, true);
  view.setUint32(0, 0x14000010, true); // b +64
  view.setBigUint64(8, 0n, true);
  view.setBigUint64(16, 0x10000n, true);
  view.setBigUint64(24, 0b1010n, true);
  view.setUint32(56, 0x644d5241, true);
  return bytes;
}

const seeds = [image(), new Uint8Array(gzipSync(image()))];

export const kernelTarget: FuzzTarget<Uint8Array> = {
  name: 'kernel-images',
  input: mutatedSeeds(seeds),
  async run(bytes) {
    let boot;
    try {
      boot = await prepareKernelBoot(model, bytes);
    } catch (error) {
      if (error instanceof BootError || error instanceof FdtError || error instanceof ElfError) return 'refused';
      throw error;
    }
    for (const s of boot.image.segments) {
      if (s.paddr < RAM_BASE || s.paddr + s.memSize > RAM_BASE + RAM || s.data.length > s.memSize) throw new WrongfulAcceptance(`segment 0x${s.paddr.toString(16)}+0x${s.memSize.toString(16)} outside RAM`);
    }
    return 'accepted';
  },
  show: (bytes) => `${bytes.length} bytes`,
};

describe('fuzzing kernel Images', () => {
  it('no crash, no hang, no wrongful acceptance', async () => {
    const report = await fuzz(kernelTarget, fuzzOptions(2000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
