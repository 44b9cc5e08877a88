import { describe, expect, it } from 'vitest';
import { assemblerAvailable } from '../support/asm.js';
import { TestMachine } from '../support/cpu-harness.js';

describe.runIf(assemblerAvailable())('cpu smoke', () => {
  it('runs immediate arithmetic and branches to an HVC exit', () => {
    const m = new TestMachine().load(`
      movz x0, #0x1234, lsl #16
      movk x0, #0x5678
      add x1, x0, #0x10
      subs x2, x1, #0x100, lsl #12
      b 1f
      mov x3, #1
    1: hvc #0
    `);
    m.runToHvc();
    expect(m.x(0)).toBe(0x12345678n);
    expect(m.x(1)).toBe(0x12345688n);
    expect(m.x(2)).toBe(0x12345688n - 0x100000n);
    expect(m.x(3)).toBe(0n);
  });
});

