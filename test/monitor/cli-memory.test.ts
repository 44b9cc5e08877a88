import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MonitorCommandError, type MonitorClient } from '../../src/node/monitor/client.js';
import { parseElf } from '../../src/vmm/elf.js';
import { guest, withMonitor } from '../cli/cli-process.js';
import { TAG_BUFFER } from '../support/debugger.js';

/**
 * The monitor's memory and tag commands end to end: `tagvisor run --monitor` (dist/) and a client
 * on its TCP socket. gdb-tags, paused at its entry, gets a string of its image and the tags of
 * two granules it never tags rewritten, and prints them (docs/monitor-api.md). A protected VM
 * refuses both writes (AccessDenied) and its guest runs unchanged; with --protected=debug they
 * work and each access is audited (docs/protected-vm.md).
 */

const GDB_TAGS = guest('gdb-tags');
const EXPECTED = readFileSync(GDB_TAGS.replace('/build/', '/expected/').replace(/\.elf$/, '.out'), 'latin1');
const EXPECTED_STATUS = 3; // the first granule's tag (guests/tests/gdb-tags.c)

/** The guest physical address where the image loads `text` (the MMU is off at the entry). */
function addressOf(text: string): number {
  const needle = Buffer.from(text, 'latin1');
  for (const segment of parseElf(readFileSync(GDB_TAGS)).segments) {
    const at = Buffer.from(segment.data).indexOf(needle);
    if (at >= 0) return segment.paddr + at;
  }
  throw new Error(`gdb-tags.elf has no "${text}"`);
}

const STRING_AT = `0x${addressOf('tags before: ').toString(16)}`;
/** The last two of the eight granules gdb-tags prints: it tags only the first six. */
const UNTAGGED_GRANULES = `0x${(TAG_BUFFER + 0x60n).toString(16)}`;

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

/** The error class a command fails with, or 'ok'. */
async function outcome(monitor: MonitorClient, command: string, args: Record<string, unknown>): Promise<string> {
  try {
    await monitor.execute(command, args);
    return 'ok';
  } catch (error) {
    if (error instanceof MonitorCommandError) return error.errorClass;
    throw error;
  }
}

const writeString = { addr: STRING_AT, data: hex('TAGS'), space: 'physical' };
const writeTags = { addr: UNTAGGED_GRANULES, size: 32, tags: '7', space: 'physical' };

describe('write-memory and write-tags over the monitor socket of tagvisor run', () => {
  it('change what the guest then prints; reads see the writes; bad ones change nothing', async () => {
    const { proc, monitor } = await withMonitor('--start-paused', GDB_TAGS);
    try {
      expect(await monitor.execute('read-memory', { addr: STRING_AT, size: 4, space: 'physical' })).toMatchObject({ data: hex('tags') });
      expect(await monitor.execute('write-memory', writeString)).toEqual({});
      // With the MMU off a virtual address is the physical one.
      expect(await monitor.execute('read-memory', { addr: STRING_AT, size: 13, space: 'virtual' })).toMatchObject({ data: hex('TAGS before: ') });
      expect(await monitor.execute('write-tags', writeTags)).toEqual({});
      expect(await monitor.execute('read-tags', { addr: `0x${TAG_BUFFER.toString(16)}`, size: 128, space: 'physical' })).toEqual({
        start: `0x${TAG_BUFFER.toString(16)}`,
        'granule-size': 16,
        tags: '00000077',
      });
      expect(await monitor.execute('query-mte')).toMatchObject({ 'tagged-pages': 1, faults: { total: 0 } });
      // Refusals: an odd hex string, and a write crossing the end of RAM (all or nothing).
      expect(await outcome(monitor, 'write-memory', { ...writeString, data: 'abc' })).toBe('InvalidParameter');
      expect(await outcome(monitor, 'write-tags', { addr: '0x4fffffe0', size: 64, tags: '5', space: 'physical' })).toBe('MemoryError');
      expect(await monitor.execute('read-tags', { addr: '0x4fffffe0', size: 32, space: 'physical' })).toMatchObject({ tags: '00' });
      await monitor.execute('cont');
      expect(await proc.exit).toBe(EXPECTED_STATUS);
    } finally {
      monitor.close();
    }
    expect(proc.stdout()).toBe(EXPECTED.replace('tags before: 3333aa00', 'TAGS before: 3333aa77').replace('tags after:  3333aa00', 'tags after:  3333aa77'));
  });

  it('a protected VM refuses both (AccessDenied), reads too; its guest runs as if nobody asked', async () => {
    const { proc, monitor } = await withMonitor('--protected', '--start-paused', GDB_TAGS);
    try {
      expect(await outcome(monitor, 'write-memory', writeString)).toBe('AccessDenied');
      expect(await outcome(monitor, 'write-memory', { ...writeString, space: 'virtual' })).toBe('AccessDenied');
      expect(await outcome(monitor, 'write-tags', writeTags)).toBe('AccessDenied');
      expect(await outcome(monitor, 'read-memory', { addr: STRING_AT, size: 4, space: 'physical' })).toBe('AccessDenied');
      expect(await outcome(monitor, 'read-tags', { ...writeTags, tags: undefined })).toBe('AccessDenied');
      await monitor.execute('cont');
      expect(await proc.exit).toBe(EXPECTED_STATUS);
    } finally {
      monitor.close();
    }
    expect(proc.stdout()).toBe(EXPECTED);
    expect(proc.stderr()).not.toMatch(/audit/);
  });

  it('with --protected=debug both work, and each access is audited on stderr', async () => {
    const { proc, monitor } = await withMonitor('--protected=debug', '--start-paused', GDB_TAGS);
    try {
      expect(await monitor.execute('write-memory', writeString)).toEqual({});
      expect(await monitor.execute('write-tags', writeTags)).toEqual({});
      await monitor.execute('cont');
      expect(await proc.exit).toBe(EXPECTED_STATUS);
    } finally {
      monitor.close();
    }
    expect(proc.stdout()).toMatch(/^TAGS before: 3333aa77\n/);
    const audits = proc.stderr().split('\n').filter((line) => line.startsWith('tagvisor: audit: '));
    expect(audits.some((line) => /debug.*write/i.test(line) && line.includes(STRING_AT.slice(2)))).toBe(true);
    expect(audits.some((line) => /tag/i.test(line) && line.includes(UNTAGGED_GRANULES.slice(2)))).toBe(true);
  });
});
