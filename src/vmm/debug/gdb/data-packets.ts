import type { Debugger } from '../debugger.js';
import { DebugError } from '../errors.js';
import {
  escapeBinary,
  fromHex,
  parseHexLength,
  parseHexLengthClamped,
  parseHexNumber,
  registerFromHex,
  registerToHex,
  RspSyntaxError,
  toHex,
  unescapeBinary,
} from './packet-codec.js';

/**
 * The data packets of the gdb stub: registers (g, G, p, P), memory (m, M, X) and qXfer objects.
 * Each takes the packet's arguments and returns the reply, or throws (DebugError from the
 * debugger, RspSyntaxError for malformed arguments); the session turns throws into `E` replies.
 */

/** The packet size the stub advertises (qSupported PacketSize, hex 0x4000 = 16 KiB). */
export const PACKET_SIZE = 0x4000;
/** Most bytes one `m` reply carries (gdb accepts shorter replies and asks for the rest). */
export const MAX_MEMORY_READ = 0x2000;

/** qXfer:<object>:read:<annex>:<offset>,<length>; the data is escaped (gdb reads `*` as RLE). */
export function xfer(rest: string, object: (annex: string) => Uint8Array | null): string {
  const colon = rest.lastIndexOf(':');
  if (colon < 0) throw new RspSyntaxError('qXfer needs <annex>:<offset>,<length>');
  const data = object(rest.slice(0, colon));
  if (!data) return 'E00';
  const [offsetText, lengthText] = rest.slice(colon + 1).split(',');
  const offset = parseHexLengthClamped(offsetText ?? '', Number.MAX_SAFE_INTEGER);
  const length = parseHexLengthClamped(lengthText ?? '', PACKET_SIZE / 2);
  if (offset >= data.length) return 'l';
  const chunk = data.subarray(offset, offset + length);
  return `${offset + chunk.length >= data.length ? 'l' : 'm'}${escapeBinary(chunk)}`;
}

function registerBits(debug: Debugger, indexText: string): number {
  const reg = debug.registers.list[Number(parseHexNumber(indexText, 4))];
  if (!reg) throw new DebugError('bad-register', `no register 0x${indexText}`);
  return reg.bits;
}

/**
 * g: every register. When the VM hides them (a protected VM, docs/protected-vm.md) each is sent
 * as unavailable (`xx` per byte), so gdb still attaches and shows `<unavailable>`.
 */
export function readAllRegisters(debug: Debugger): string {
  const regs = debug.registers;
  let values: bigint[];
  try {
    values = regs.readAll();
  } catch (error) {
    if (error instanceof DebugError && error.code === 'denied') return regs.list.map((reg) => 'xx'.repeat(reg.bits / 8)).join('');
    throw error;
  }
  return regs.list.map((reg, i) => registerToHex(values[i]!, reg.bits)).join('');
}

/** G: every writable register whose value changed; read-only ones are left alone. */
export function writeAllRegisters(debug: Debugger, hex: string): string {
  const regs = debug.registers;
  const values: [number, bigint][] = [];
  let at = 0;
  for (let i = 0; i < regs.count && at < hex.length; i++) {
    const width = regs.list[i]!.bits / 4;
    values.push([i, registerFromHex(hex.slice(at, at + width), regs.list[i]!.bits)]);
    at += width;
  }
  if (at !== hex.length) throw new RspSyntaxError('G data does not end on a register boundary');
  const current = regs.readAll();
  for (const [i, value] of values) {
    if (regs.list[i]!.writable && current[i] !== value) regs.write(i, value);
  }
  return 'OK';
}

export function readRegister(debug: Debugger, args: string): string {
  return registerToHex(debug.registers.read(Number(parseHexNumber(args, 4))), registerBits(debug, args));
}

export function writeRegister(debug: Debugger, args: string): string {
  const eq = args.indexOf('=');
  if (eq < 0) throw new RspSyntaxError('P needs <n>=<value>');
  const index = args.slice(0, eq);
  debug.registers.write(Number(parseHexNumber(index, 4)), registerFromHex(args.slice(eq + 1), registerBits(debug, index)));
  return 'OK';
}

/** m<addr>,<len>: up to MAX_MEMORY_READ bytes, stopping at the first unreadable page. */
export function readMemory(debug: Debugger, args: string): string {
  const [addrText, lengthText] = args.split(',');
  const addr = parseHexNumber(addrText ?? '');
  const length = parseHexLengthClamped(lengthText ?? '', MAX_MEMORY_READ);
  if (length === 0) return '';
  return toHex(debug.memory.readPrefix(addr, length));
}

/** M<addr>,<len>:<hex> and X<addr>,<len>:<binary>: all or nothing. */
export function writeMemory(debug: Debugger, args: string, binary: boolean): string {
  const colon = args.indexOf(':');
  if (colon < 0) throw new RspSyntaxError('memory write needs <addr>,<len>:<data>');
  const [addrText, lengthText] = args.slice(0, colon).split(',');
  const addr = parseHexNumber(addrText ?? '');
  const length = parseHexLength(lengthText ?? '', PACKET_SIZE);
  const data = binary ? unescapeBinary(args.slice(colon + 1)) : fromHex(args.slice(colon + 1));
  if (data.length !== length) throw new RspSyntaxError(`length ${length} but ${data.length} bytes of data`);
  if (length > 0) debug.memory.write(addr, data, 'virtual');
  return 'OK';
}
