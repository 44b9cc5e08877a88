/** Access sizes of a single guest load or store, in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/**
 * A device's register window. Offsets are relative to the window's base. Reads return the value
 * zero-extended to a number (sizes up to 4). Eight-byte guest accesses reach `read64`/`write64`
 * when the device implements them and are otherwise split into two four-byte accesses, low half
 * first (what QEMU does for devices whose maximum access size is 4).
 */
export interface MmioHandler {
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
  read64?(offset: number): bigint;
  write64?(offset: number, value: bigint): void;
}

export interface MmioRange {
  readonly base: number;
  readonly size: number;
  readonly name: string;
  readonly handler: MmioHandler;
}

/** Reads `size` bytes at `offset` of a window as a bigint (the vCPU's slow path for devices). */
export function mmioRead(range: MmioRange, offset: number, size: AccessSize): bigint {
  const { handler } = range;
  if (size !== 8) return BigInt(handler.read(offset, size) >>> 0);
  if (handler.read64) return BigInt.asUintN(64, handler.read64(offset));
  const lo = handler.read(offset, 4) >>> 0;
  const hi = handler.read(offset + 4, 4) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function mmioWrite(range: MmioRange, offset: number, size: AccessSize, value: bigint): void {
  const { handler } = range;
  if (size !== 8) {
    handler.write(offset, size, Number(BigInt.asUintN(size * 8, value)));
  } else if (handler.write64) {
    handler.write64(offset, BigInt.asUintN(64, value));
  } else {
    handler.write(offset, 4, Number(BigInt.asUintN(32, value)));
    handler.write(offset + 4, 4, Number(BigInt.asUintN(32, value >> 32n)));
  }
}
