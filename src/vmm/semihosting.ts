import { debugTranslate } from '../cpu/index.js';
import type { Vcpu } from '../hv/index.js';
import type { GuestRequestAccess } from '../memory/index.js';

/** Semihosting operations (Arm "Semihosting for AArch32 and AArch64", v2.0) that guests may use. */
export const SYS = {
  WRITEC: 0x03,
  WRITE0: 0x04,
  WRITE: 0x05,
  EXIT: 0x18,
  EXIT_EXTENDED: 0x20,
} as const;

/** ADP_Stopped_ApplicationExit: the reason code of a normal exit. */
const APPLICATION_EXIT = 0x20026n;
/** Longest SYS_WRITE0 string we follow before giving up (the guest is untrusted). */
const MAX_STRING = 1 << 20;

export type SemihostingOutcome = { readonly kind: 'continue' } | { readonly kind: 'exit'; readonly code: number };

export class SemihostingError extends Error {
  override readonly name = 'SemihostingError';
}

/**
 * Serves one semihosting call (HLT #0xF000: x0 = operation, x1 = parameter). Guest buffers are
 * read through the guest-request access class (exactly the bytes the call names) at the addresses
 * the guest passes, translated in its current regime. Console output goes to `write`, in order
 * with the UART's.
 */
export function handleSemihosting(vcpu: Vcpu, memory: GuestRequestAccess, write: (bytes: Uint8Array) => void): SemihostingOutcome {
  const op = Number(vcpu.getX(0) & 0xffff_ffffn);
  const param = vcpu.getX(1);
  const read = (va: bigint, length: number): Uint8Array => readVirtual(vcpu, memory, va, length);
  const word = (va: bigint): bigint => new DataView(read(va, 8).buffer).getBigUint64(0, true);
  switch (op) {
    case SYS.WRITEC:
      write(read(param, 1));
      return { kind: 'continue' };
    case SYS.WRITE0: {
      const bytes: number[] = [];
      for (let va = param; bytes.length < MAX_STRING; va++) {
        const byte = read(va, 1)[0]!;
        if (byte === 0) break;
        bytes.push(byte);
      }
      write(Uint8Array.from(bytes));
      return { kind: 'continue' };
    }
    case SYS.WRITE: {
      const fd = word(param);
      const buffer = word(param + 8n);
      const length = word(param + 16n);
      if ((fd !== 1n && fd !== 2n) || length > BigInt(MAX_STRING)) {
        vcpu.setX(0, length);
        return { kind: 'continue' };
      }
      write(read(buffer, Number(length)));
      vcpu.setX(0, 0n);
      return { kind: 'continue' };
    }
    case SYS.EXIT:
    case SYS.EXIT_EXTENDED: {
      // The A64 forms take a block {reason, subcode}; only an application exit carries a code.
      const reason = word(param);
      const subcode = word(param + 8n);
      return { kind: 'exit', code: reason === APPLICATION_EXIT ? Number(subcode & 0xffff_ffffn) : 1 };
    }
    default:
      vcpu.setX(0, BigInt.asUintN(64, -1n));
      return { kind: 'continue' };
  }
}

/** Reads guest-virtual memory the guest named in a call: translated without faults. */
export function readVirtual(vcpu: Vcpu, memory: GuestRequestAccess, va: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const at = BigInt.asUintN(64, va + BigInt(done));
    const translation = debugTranslate(vcpu.cpu, at);
    if (!translation) throw new SemihostingError(`semihosting buffer at 0x${at.toString(16)} is not mapped`);
    const inPage = Math.min(length - done, 4096 - (translation.pa % 4096));
    memory.readData(translation.pa, out.subarray(done, done + inPage));
    done += inPage;
  }
  return out;
}
