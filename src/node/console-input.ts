/**
 * Feeds the host's stdin to the guest's virtio-console (`--virtio-console`). The machine runs in
 * slices between event-loop turns, so input arriving while the guest idles in WFI is delivered
 * (and its interrupt raised) before the next slice.
 */
import type { VirtMachine } from '../vmm/index.js';

/** Starts forwarding stdin; returns the function that stops it (and lets the process exit). */
export function attachStdin(machine: VirtMachine): () => void {
  const device = machine.devices.console;
  if (!device) return () => {};
  const onData = (chunk: Buffer): void => {
    device.input(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    machine.events.emit('wake', {});
  };
  process.stdin.on('data', onData);
  return () => {
    process.stdin.off('data', onData);
    process.stdin.pause();
    process.stdin.unref?.();
  };
}
