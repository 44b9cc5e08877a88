import { expect } from 'vitest';
import { KvmError, type ErrnoName } from '../../src/hv/errno.js';

/** The Linux arm64 errno numbers, spelled out here so a wrong table in src fails the tests. */
const LINUX_ERRNO: Record<string, number> = { ENOENT: 2, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22 };

/** Runs `fn` and expects a KvmError with `code`, the matching Linux errno and the ioctl name. */
export function expectKvmError(fn: () => unknown, code: ErrnoName, op?: string): KvmError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a KvmError ${code}`).toBeInstanceOf(KvmError);
  const error = caught as KvmError;
  expect(error.code).toBe(code);
  expect(error.errno).toBe(LINUX_ERRNO[code]);
  if (op) expect(error.op).toBe(op);
  expect(error.message).toContain(code);
  return error;
}

export const RAM_BASE = 0x4000_0000;
export const PAGE = 4096;
