import { expectState, StateError, type Shape, type Stateful } from '../../common/persist.js';
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
export interface Pl011State {
  /** Control registers by offset (DR and FR are not state: transmit is instant). */
  readonly registers: Readonly<Record<string, number>>;
}

export class Pl011 implements MmioHandler, Stateful<Pl011State> {
  readonly stateName = 'pl011';
  readonly stateVersion = 1;
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
    else this.registers.set(offset & ~3, value >>> 0);
  }

  reset(): void {
    this.registers.clear();
  }

  save(): Pl011State {
    return { registers: Object.fromEntries([...this.registers].map(([offset, value]) => [String(offset), value])) };
  }

  stateShape(): Shape {
    return { fields: { registers: { mapOf: 'integer', max: PL011_SIZE / 4 } } };
  }

  check(untrusted: unknown, version: number): Pl011State {
    if (version !== this.stateVersion) throw new StateError('pl011', `unsupported state version ${version}`);
    const registers = expectState.object(expectState.object(untrusted, 'pl011').registers, 'pl011.registers');
    for (const [offset, value] of Object.entries(registers)) {
      const at = Number(offset);
      if (!Number.isInteger(at) || at < 0 || at >= PL011_SIZE || at % 4 !== 0) throw new StateError('pl011.registers', `bad register offset ${offset}`);
      expectState.integer(value, `pl011.registers.${offset}`, 0, 0xffffffff);
    }
    return untrusted as Pl011State;
  }

  load(state: Pl011State): void {
    this.registers.clear();
    for (const [offset, value] of Object.entries(state.registers)) this.registers.set(Number(offset), value);
  }
}
