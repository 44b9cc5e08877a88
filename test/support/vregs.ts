import type { Cpu } from '../../src/cpu/cpu.js';

/** V register n as a 32-hex-digit string, most significant byte first. */
export function vhex(cpu: Cpu, n: number): string {
  let s = '';
  for (let b = 15; b >= 0; b--) s += cpu.vb[n * 16 + b]!.toString(16).padStart(2, '0');
  return s;
}

/** Sets V register n from hex, most significant byte first ('_' separators allowed, zero-extended). */
export function setV(cpu: Cpu, n: number, hex: string): void {
  const clean = hex.replace(/_/g, '').padStart(32, '0');
  for (let b = 0; b < 16; b++) cpu.vb[n * 16 + b] = parseInt(clean.slice(30 - 2 * b, 32 - 2 * b), 16);
}
