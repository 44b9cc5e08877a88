/** The Linux errno values the KVM-shaped interface reports (same numbers as on arm64 Linux). */
export const Errno = {
  ENOENT: 2,
  EINTR: 4,
  ENXIO: 6,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
} as const;

export type ErrnoName = keyof typeof Errno;

/**
 * A failed hypervisor call: `errno` is what the matching KVM ioctl would have set, `op` names the
 * ioctl, and the message says which argument or state was wrong.
 */
export class KvmError extends Error {
  override readonly name = 'KvmError';
  readonly errno: number;

  constructor(
    readonly code: ErrnoName,
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${code}: ${detail}`);
    this.errno = Errno[code];
  }
}
