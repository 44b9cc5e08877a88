/**
 * Forged snapshots with correct checksums are still bad input: a field of the wrong type, a
 * missing field, an unknown field or an unknown state version is refused with StateError naming
 * the field, and the machine is left as it was (docs/snapshot-format.md, "Strictness").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkShape, StateError, type Shape } from '../../src/common/persist.js';
import { SYS_NAMES } from '../../src/cpu/sysreg-state.js';
import { SYSREG_ADDED, SYSREGS_V1 } from '../../src/hv/vcpu-state.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, saveSnapshot } from '../../src/vmm/migration/index.js';
import { forgeState } from './forge.js';

const demo = readFileSync(join(import.meta.dirname, '../../guests/build/demo.elf'));

function snapshot(): Uint8Array {
  const m = new VirtMachine({ memoryBytes: 8 << 20 });
  m.loadElf(demo);
  m.runSlice(20_000);
  m.pause();
  return Buffer.concat(saveSnapshot(m));
}

const get = (o: Record<string, unknown>, key: string) => o[key] as Record<string, unknown>;

describe('forged component state is refused, field named, machine unchanged', () => {
  const good = snapshot();
  const cases: [string, string, (s: Record<string, unknown>) => unknown, RegExp][] = [
    ['an object for the timer control', 'arch-timer0', (s) => void (get(s, 'virt').ctl = {}), /arch-timer0\.virt\.ctl: expected an integer, got an object/],
    ['an object for the instruction count', 'machine', (s) => void (s.instructions = {}), /machine\.instructions: expected an integer/],
    ['an object for GICD_CTLR', 'gicv3', (s) => void (s.gicdCtlr = {}), /gicv3\.gicdCtlr: expected an integer/],
    ['an object for PSTATE.EL', 'vcpu0', (s) => void (get(s, 'pstate').el = {}), /vcpu0\.pstate\.el: expected an integer/],
    ['an object for a system register', 'vcpu0', (s) => void (get(s, 'sysregs').TCR_EL1 = {}), /vcpu0\.sysregs\.TCR_EL1: expected bytes/],
    ['SCTLR_EL1 deleted', 'vcpu0', (s) => void delete get(s, 'sysregs').SCTLR_EL1, /vcpu0\.sysregs\.SCTLR_EL1: missing/],
    ['the whole pstate deleted', 'vcpu0', (s) => void delete s.pstate, /vcpu0\.pstate: missing/],
    ['an unknown top-level field', 'vcpu0', (s) => void (s.future = 1), /vcpu0\.future: unknown field/],
    ['an unknown nested field', 'gicv3', (s) => void (get(s, 'cpuInterface').extra = 0), /gicv3\.cpuInterface\.extra: unknown field/],
    ['an unknown system register', 'vcpu0', (s) => void (get(s, 'sysregs').NOT_A_REG = new Uint8Array(8)), /vcpu0\.sysregs\.NOT_A_REG: unknown field/],
    ['a string for a segment address', 'machine', (s) => {
      (get(s, 'image').segments as Record<string, unknown>[])[0]!.paddr = 'x';
    }, /machine\.image\.segments\[0\]\.paddr: expected an integer/],
    ['a pl011 register that is a string', 'pl011', (s) => void (get(s, 'registers')['48'] = 'x'), /pl011\.registers\.48: expected an integer/],
  ];

  it.each(cases)('%s', (_what, name, mutate, message) => {
    const forged = forgeState(good, name, mutate);
    const target = new VirtMachine({ memoryBytes: 8 << 20 });
    target.loadElf(demo);
    target.pause();
    const before = Buffer.concat(saveSnapshot(target));
    let error: unknown;
    try {
      loadSnapshot(target, forged);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toMatch(message);
    expect(Buffer.concat(saveSnapshot(target)).equals(before)).toBe(true);
  });

  it('an unknown state version is refused', () => {
    const forged = forgeState(good, 'vcpu0', () => undefined, 7);
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forged)).toThrow(/vcpu0: unsupported state version 7/);
  });

  it('the unforged snapshot loads (the strictness refuses nothing a build writes)', () => {
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), good)).not.toThrow();
  });
});

describe('versioned shapes: adding a field is one line, older versions keep loading', () => {
  const shape: Shape = { fields: { a: 'integer', b: { since: 2, shape: 'bytes' } } };

  it('version 1 has no b; version 2 requires it', () => {
    expect(() => checkShape({ a: 1 }, shape, 's', 1)).not.toThrow();
    expect(() => checkShape({ a: 1, b: new Uint8Array(1) }, shape, 's', 1)).toThrow(/s\.b: unknown field \(state version 1\)/);
    expect(() => checkShape({ a: 1 }, shape, 's', 2)).toThrow(/s\.b: missing/);
    expect(() => checkShape({ a: 1, b: new Uint8Array(1) }, shape, 's', 2)).not.toThrow();
  });

  it('a version-1 vCPU state (before the debug registers) still loads; a version-2 one must carry them', () => {
    const good = snapshot();
    const dropNew = (s: Record<string, unknown>) => {
      const regs = get(s, 'sysregs');
      for (const name of Object.keys(regs)) if (!SYSREGS_V1.includes(name as never)) delete regs[name];
      delete s.fp; // version 3 (SIMD&FP state): test/cpu/simd-state.test.ts
    };
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forgeState(good, 'vcpu0', dropNew, 1))).not.toThrow();
    expect(() => loadSnapshot(new VirtMachine({ memoryBytes: 8 << 20 }), forgeState(good, 'vcpu0', dropNew, 2))).toThrow(/vcpu0\.sysregs\.DBG\w+: missing/);
  });

  it('every vCPU system register beyond version 1 names the version that added it', () => {
    const vcpu = new VirtMachine({ memoryBytes: 8 << 20 }).vcpu.persistence;
    for (const name of SYS_NAMES) {
      if (SYSREGS_V1.includes(name)) continue;
      const added = SYSREG_ADDED[name];
      expect(added, `${name}: add it to SYSREG_ADDED with a new vCPU state version`).toBeGreaterThan(1);
      expect(added).toBeLessThanOrEqual(vcpu.stateVersion);
    }
  });
});
