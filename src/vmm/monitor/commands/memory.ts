import { hexToBytes, toHex } from '../../debug/hex.js';
import type { AddressKind } from '../../debug/memory-view.js';
import type { ArgSpec } from '../arguments.js';
import { MonitorError } from '../protocol.js';
import type { CommandRegistry } from '../registry.js';
import { viaDebugger } from './errors.js';

/** Most bytes one read-memory / write-memory moves, and most bytes one tag request covers. */
export const MAX_MONITOR_TRANSFER = 64 * 1024;

const READ_STATES = ['running', 'paused', 'shutdown'];
const WRITE_STATES = ['running', 'paused'];

const addr = { type: 'address', description: 'guest address: a JSON integer, or a string "0x..." (64-bit)' } as const;
const space = {
  type: 'enum',
  values: ['virtual', 'physical'],
  description: "'virtual': a guest virtual address in the vCPU's current translation regime; 'physical': a guest physical address",
} as const;
const size = { type: 'integer', min: 0, max: MAX_MONITOR_TRANSFER, description: `bytes, at most ${MAX_MONITOR_TRANSFER}` } as const;

/**
 * Guest memory and allocation tags through the debug access class: never tag-checked, data
 * accesses leave tags alone, and a protected VM's debug policy may refuse (AccessDenied).
 */
export function registerMemoryCommands(registry: CommandRegistry): void {
  registry.register({
    name: 'read-memory',
    description: 'Read guest memory.',
    states: READ_STATES,
    args: { addr, size, space } satisfies ArgSpec,
    returns: '{"addr": "0x...", "data": "<hex bytes>"}',
    run: ({ debug }, args) => {
      const bytes = viaDebugger(() => debug.memory.read(args.addr as bigint, args.size as number, args.space as AddressKind));
      return { addr: args.addr, data: toHex(bytes) };
    },
  });
  registry.register({
    name: 'write-memory',
    description: 'Write guest memory (all of it or, on any error, none of it).',
    states: WRITE_STATES,
    args: { addr, data: { type: 'hex', bytes: true, maxDigits: MAX_MONITOR_TRANSFER * 2, description: 'the bytes, as hex' }, space } satisfies ArgSpec,
    returns: '{}',
    run: ({ debug }, args) => {
      viaDebugger(() => debug.memory.write(args.addr as bigint, hexToBytes(args.data as string)!, args.space as AddressKind));
    },
  });
  registry.register({
    name: 'read-tags',
    description: 'Read the allocation tags of every 16-byte granule that [addr, addr + size) touches.',
    states: READ_STATES,
    args: { addr, size, space } satisfies ArgSpec,
    returns: '{"start": "0x<first granule>", "granule-size": 16, "tags": "<one hex digit per granule>"}',
    run: ({ debug }, args) => {
      const { start, tags } = viaDebugger(() => debug.memory.readTags(args.addr as bigint, args.size as number, args.space as AddressKind));
      return { start, 'granule-size': 16, tags: Array.from(tags, (t) => t.toString(16)).join('') };
    },
  });
  registry.register({
    name: 'write-tags',
    description: 'Set the allocation tags of every granule that [addr, addr + size) touches; the tags repeat as a pattern.',
    states: WRITE_STATES,
    args: {
      addr,
      size,
      tags: { type: 'hex', bytes: false, maxDigits: MAX_MONITOR_TRANSFER / 16, description: 'one hex digit per granule, repeated over the range' },
      space,
    } satisfies ArgSpec,
    returns: '{}',
    run: ({ debug }, args) => {
      const pattern = Uint8Array.from(args.tags as string, (digit) => parseInt(digit, 16));
      if (pattern.length === 0) throw new MonitorError('InvalidParameter', "'tags' must hold at least one hex digit");
      viaDebugger(() => debug.memory.writeTags(args.addr as bigint, args.size as number, pattern, args.space as AddressKind));
    },
  });
}
