/**
 * The SIMD&FP state (V0..V31, FPCR, FPSR) in snapshots and migration: vCPU state version 3
 * carries it; version 2 files (before it) still load with the reset value; a version-3 state
 * without it, or with FPCR/FPSR bits the CPU does not keep, is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, saveSnapshot } from '../../src/vmm/migration/index.js';
import { forgeState } from '../migration/forge.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf'));

function machineWithFpState(): VirtMachine {
  const m = new VirtMachine({ memoryBytes: 8 << 20 });
  m.loadElf(demo);
  m.runSlice(5_000);
  m.pause();
  for (let b = 0; b < 512; b++) m.vcpu.cpu.vb[b] = (b * 7 + 3) & 0xff;
  m.vcpu.cpu.fpcr = 0x03c00000;
  m.vcpu.cpu.fpsr = 0x0800001f;
  return m;
}

describe('SIMD&FP state in snapshots', () => {
  it('round-trips V0..V31, FPCR and FPSR', () => {
    const source = machineWithFpState();
    const snapshot = Buffer.concat(saveSnapshot(source));
    const target = new VirtMachine({ memoryBytes: 8 << 20 });
    loadSnapshot(target, snapshot);
    expect(Buffer.from(target.vcpu.cpu.vb).equals(Buffer.from(source.vcpu.cpu.vb))).toBe(true);
    expect(target.vcpu.cpu.fpcr).toBe(0x03c00000);
    expect(target.vcpu.cpu.fpsr).toBe(0x0800001f);
  });

  it('a version-2 state (no fp) loads with zeroed SIMD&FP registers; version 3 requires fp', () => {
    const snapshot = Buffer.concat(saveSnapshot(machineWithFpState()));
    const dropFp = (s: Record<string, unknown>) => void delete s.fp;
    // A version-2 file has neither fp nor CNTFRQ_EL0 (both came with version 3).
    const dropV3 = (s: Record<string, unknown>) => {
      dropFp(s);
      delete (s.sysregs as Record<string, unknown>).CNTFRQ_EL0;
    };
    const target = new VirtMachine({ memoryBytes: 8 << 20 });
    loadSnapshot(target, forgeState(snapshot, 'vcpu0', dropV3, 2));
    expect(target.vcpu.cpu.vb.every((b) => b === 0)).toBe(true);
    expect(target.vcpu.cpu.fpsr).toBe(0);
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forgeState(snapshot, 'vcpu0', dropFp, 3))).toThrow(/vcpu0\.fp: missing/);
  });

  it('refuses a short register file and FPCR bits the CPU does not keep', () => {
    const snapshot = Buffer.concat(saveSnapshot(machineWithFpState()));
    const fp = (s: Record<string, unknown>) => s.fp as Record<string, unknown>;
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forgeState(snapshot, 'vcpu0', (s) => void (fp(s).v = new Uint8Array(16))))).toThrow(/vcpu0\.fp\.v/);
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forgeState(snapshot, 'vcpu0', (s) => void (fp(s).fpcr = 0x100)))).toThrow(/vcpu0\.fp\.fpcr/);
  });
});
