import type { Debugger } from '../debugger.js';

/**
 * The Linux-process facade gdb 13 needs to enable its memory-tag commands on a bare-metal guest:
 * the guest is "process 1, thread 1", its /proc/1/smaps lists the current stage-1 mappings with
 * the `mt` VmFlag on Normal-Tagged ones, and its auxiliary vector advertises HWCAP2_MTE.
 */
export const GUEST_PID = 1;
export const GUEST_TID = 1;

const encoder = new TextEncoder();

/** Contents of the synthetic files served through vFile (host-io.ts), or null. */
export function syntheticFile(debug: Debugger, path: string): Uint8Array | null {
  const match = /^\/proc\/(\d+|self)\/(smaps|maps)$/.exec(path);
  if (!match || (match[1] !== 'self' && Number(match[1]) !== GUEST_PID)) return null;
  return encoder.encode(match[2] === 'smaps' ? debug.smaps() : debug.maps());
}

const AT_NULL = 0n;
const AT_PAGESZ = 6n;
const AT_HWCAP = 16n;
const AT_HWCAP2 = 26n;
/** HWCAP_CRC32 | HWCAP_ATOMICS: what the CPU implements of the first hwcap word (no FP/SIMD). */
const HWCAP = (1n << 7n) | (1n << 8n);
/** HWCAP2_MTE (bit 18) and HWCAP2_MTE3 (bit 22), as Linux reports them for FEAT_MTE3. */
const HWCAP2_MTE = (1n << 18n) | (1n << 22n);

/**
 * The auxiliary vector (qXfer:auxv:read): pairs of little-endian u64 (type, value). There is no
 * AT_ENTRY on purpose: with one, gdb's SVR4 code would compare it with the ELF entry to relocate
 * a PIE, which a bare-metal image is not.
 */
export function auxv(mte: boolean): Uint8Array {
  const pairs: [bigint, bigint][] = [
    [AT_HWCAP, HWCAP],
    [AT_HWCAP2, mte ? HWCAP2_MTE : 0n],
    [AT_PAGESZ, 4096n],
    [AT_NULL, 0n],
  ];
  const out = new Uint8Array(pairs.length * 16);
  const view = new DataView(out.buffer);
  pairs.forEach(([type, value], i) => {
    view.setBigUint64(i * 16, type, true);
    view.setBigUint64(i * 16 + 8, value, true);
  });
  return out;
}
