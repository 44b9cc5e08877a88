import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
/** Guest RAM limits: one region holds at most ~3.8 GiB (a wasm32 memory with its tags). */
const MIN_RAM = 2 ** 20;
const MAX_RAM = 3 * 2 ** 30;
const RANGE = '1M..3G';

/** Parses a QEMU-style size ("256M", "1G", "512" = MiB) into bytes. */
export function parseMemorySize(text: string): number {
  const match = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`'${text}' is not a size (examples: 256M, 1G; supported range ${RANGE})`);
  const unit = match[2] ? UNITS[match[2].toUpperCase()]! : UNITS.M!;
  const bytes = Number(match[1]) * unit;
  if (bytes < MIN_RAM || bytes > MAX_RAM) throw new InvalidArgumentError(`${text} is outside the supported range ${RANGE}`);
  if (bytes % 4096 !== 0) throw new InvalidArgumentError(`${text} is not a whole number of 4 KiB pages`);
  return bytes;
}

export function parseOnOff(text: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new InvalidArgumentError(`expected 'on' or 'off', got '${text}'`);
}

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`'${text}' is not a non-negative integer`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${text} is too large`);
  return value;
}

/** `--dma direct|bounce` (the device DMA path, docs/devices.md). */
export function parseDmaMode(text: string): 'direct' | 'bounce' {
  if (text === 'direct' || text === 'bounce') return text;
  throw new InvalidArgumentError(`expected 'direct' or 'bounce', got '${text}'`);
}

/** Repeatable options (`--drive a --drive b`) collect into a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}


/** `--seed <n>`: a decimal or 0x-hex number below 2^64 (the guest's boot entropy, docs/linux.md). */
export function parseSeed(text: string): bigint {
  if (!/^(\d+|0x[0-9a-f]+)$/i.test(text)) throw new InvalidArgumentError(`'${text}' is not a seed (a decimal or 0x-hex number)`);
  const value = BigInt(text);
  if (value >= 2n ** 64n) throw new InvalidArgumentError(`${text} does not fit 64 bits`);
  return value;
}
