import type { MmioHandler } from '../../memory/index.js';

/** PL011 UART0 of QEMU's virt board. */
export const PL011_BASE = 0x0900_0000;
export const PL011_SIZE = 0x1000;

const DR = 0x00;
const FR = 0x18;
const FR_RXFE = 1 << 4;
const FR_TXFE = 1 << 7;
/** PrimeCell peripheral and cell identification, as the PL011 TRM (and QEMU) report them. */
const ID_REGISTERS = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/**
 * A PL011 that transmits instantly: DR writes go to `output`, the transmit FIFO is never full.
 * Receive is not wired yet (RXFE is always set). Control registers keep what is written.
 */
export class Pl011 implements MmioHandler {
  private readonly registers = new Map<number, number>();

  constructor(private readonly output: (byte: number) => void) {}

  read(offset: number): number {
    if (offset === DR) return 0;
    if (offset === FR) return FR_RXFE | FR_TXFE;
    if (offset >= 0xfe0 && offset < 0x1000) return ID_REGISTERS[(offset - 0xfe0) >> 2] ?? 0;
    return this.registers.get(offset) ?? 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (offset === DR) this.output(value & 0xff);
    else this.registers.set(offset, value);
  }

  reset(): void {
    this.registers.clear();
  }
}
