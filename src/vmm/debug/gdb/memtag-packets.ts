import type { Debugger } from '../debugger.js';
import { fromHex, parseHexLength, parseHexNumber, RspSyntaxError, toHex } from './packet-codec.js';

/** gdb's memory tag type for MTE allocation tags (type 0, the logical tag, gdb computes itself). */
const MTE_ALLOCATION_TAG = 1;
/** Most granules one qMemTags/QMemTags covers (the reply must fit a packet). */
export const MAX_TAG_GRANULES = 0x1000;

/**
 * The memory-tagging packets (GDB manual, "General Query Packets"; MTE-REFERENCE.md):
 *
 *   qMemTags:<addr>,<len>:<type>          -> m<one hex byte per granule of [addr, addr+len)>
 *   QMemTags:<addr>,<len>:<type>:<tags>   -> OK; fewer tags than granules repeat as a pattern
 *   qIsAddressTagged:<addr>               -> 01 or 00 (gdb >= 15)
 *
 * Addresses are guest virtual addresses in the current regime (a pointer's tag bits are ignored
 * under TBI). Tags are read and written through the debug access class; a range that is
 * unmapped, holds no tags or is refused by the debug policy fails as a whole (DebugError, which
 * the session turns into an `E` reply). Tags are served for any RAM that holds them, whatever the
 * page's attribute: qIsAddressTagged (and /proc/1/smaps for gdb 13) say where tag checks apply.
 */
export function handleMemTagPacket(debug: Debugger, packet: string): string | null {
  if (packet.startsWith('qMemTags:')) {
    const [range, type] = splitTagArgs(packet.slice('qMemTags:'.length), 2);
    const { addr, length } = parseRange(range!);
    checkType(type!);
    const { tags } = debug.memory.readTags(addr, length, 'virtual');
    return `m${toHex(tags)}`;
  }
  if (packet.startsWith('QMemTags:')) {
    const [range, type, tags] = splitTagArgs(packet.slice('QMemTags:'.length), 3);
    const { addr, length } = parseRange(range!);
    checkType(type!);
    const pattern = fromHex(tags!);
    if (pattern.length > MAX_TAG_GRANULES) throw new RspSyntaxError('tag pattern too long');
    debug.memory.writeTags(addr, length, pattern, 'virtual');
    return 'OK';
  }
  if (packet.startsWith('qIsAddressTagged:')) {
    const addr = parseHexNumber(packet.slice('qIsAddressTagged:'.length));
    return debug.memory.isTagged(addr) ? '01' : '00';
  }
  return null;
}

function splitTagArgs(text: string, count: number): string[] {
  const parts = text.split(':');
  if (parts.length !== count) throw new RspSyntaxError(`expected ${count} ':'-separated fields`);
  return parts;
}

function parseRange(text: string): { addr: bigint; length: number } {
  const parts = text.split(',');
  if (parts.length !== 2) throw new RspSyntaxError('expected <addr>,<length>');
  const addr = parseHexNumber(parts[0]!);
  const length = parseHexLength(parts[1]!, MAX_TAG_GRANULES * 16);
  return { addr, length };
}

function checkType(text: string): void {
  // gdb sends the type as a signed hex number; only the allocation tag lives in the target.
  if (!/^[0-9a-fA-F]{1,8}$/.test(text) || parseInt(text, 16) !== MTE_ALLOCATION_TAG) throw new RspSyntaxError(`unsupported memory tag type '${text.slice(0, 16)}'`);
}
