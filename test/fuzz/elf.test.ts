/** Fuzz target: ELF files (VirtMachine.loadElf), from the project's guest images mutated (docs/fuzzing.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf, VirtMachine } from '../../src/vmm/index.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, mutatedSeeds, WrongfulAcceptance, type FuzzTarget } from './harness.js';

const RAM_BASE = 0x4000_0000;
const RAM = 16 * 2 ** 20;
const seeds = ['demo', 'heap', 'isa-mem'].map((name) => new Uint8Array(readFileSync(join(import.meta.dirname, '../../guests/build', `${name}.elf`))));
const machine = new VirtMachine({ memoryBytes: RAM });

export const elfTarget: FuzzTarget<Uint8Array> = {
  name: 'elf-files',
  input: mutatedSeeds(seeds),
  run(bytes) {
    try {
      machine.loadElf(bytes);
    } catch (error) {
      if (error instanceof ElfError) return 'refused';
      throw error;
    }
    // The oracle, independent of the loader: segments inside RAM, no two overlapping.
    const segments = [...parseElf(bytes).segments].sort((a, b) => a.paddr - b.paddr);
    segments.forEach((s, i) => {
      if (s.paddr < RAM_BASE || s.paddr + s.memSize > RAM_BASE + RAM) throw new WrongfulAcceptance(`segment ${i} outside RAM`);
      const next = segments[i + 1];
      if (next && next.paddr < s.paddr + s.memSize) throw new WrongfulAcceptance('overlapping segments');
    });
    return 'accepted';
  },
  show: (bytes) => `${bytes.length} bytes`,
};

describe('fuzzing ELF files', () => {
  it('no crash, no hang, no wrongful acceptance', async () => {
    const report = await fuzz(elfTarget, fuzzOptions(3000));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
