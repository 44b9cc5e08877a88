/** A kernel, initrd or device tree that cannot boot on this machine: the message is one line for the user. */
export class BootError extends Error {
  override readonly name = 'BootError';
}
