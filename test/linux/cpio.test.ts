import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CpioError, readNewc, recordKind, writeNewc, type CpioEntry } from '../../src/node/initramfs/cpio.js';
import { noteMissingTool } from '../support/reference-tools.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const text = (s: string) => new TextEncoder().encode(s);
const sample: CpioEntry[] = [
  { kind: 'dir', name: 'dev', mode: 0o755 },
  { kind: 'chardev', name: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { kind: 'file', name: 'init', mode: 0o755, data: text('#!hello\n') },
  { kind: 'dir', name: 'lib', mode: 0o755 },
  { kind: 'file', name: 'lib/a.ko', mode: 0o644, data: new Uint8Array(1001).map((_, i) => i & 0xff) },
  { kind: 'file', name: 'lib/empty', mode: 0o644, data: new Uint8Array(0) },
];

/** GNU cpio, when the machine has it: an independent reader of the format. */
const haveCpio = noteMissingTool('cpio', spawnSync('cpio', ['--version'], { stdio: 'ignore' }).status === 0);

describe('newc cpio writer (src/node/initramfs/cpio.ts)', () => {
  it('writes the header fields the format defines, padded to 4 bytes, and a trailer', () => {
    const bytes = writeNewc([{ kind: 'file', name: 'init', mode: 0o755, data: text('abc') }], { mtime: 0x1234 });
    const ascii = new TextDecoder('latin1').decode(bytes);
    // magic, ino 1, mode 0100755, uid 0, gid 0, nlink 1, mtime, size 3, dev 0:0, rdev 0:0, namesize 5, check 0
    expect(ascii.slice(0, 110)).toBe('070701' + ['00000001', '000081ED', '00000000', '00000000', '00000001', '00001234', '00000003', '00000000', '00000000', '00000000', '00000000', '00000005', '00000000'].join(''));
    expect(ascii.slice(110, 116)).toBe('init\0\0'); // 110 + 5 rounded up to 116
    expect(ascii.slice(116, 120)).toBe('abc\0');
    expect(ascii.slice(120, 126)).toBe('070701');
    expect(ascii.slice(120 + 110, 120 + 110 + 11)).toBe('TRAILER!!!\0');
    expect(bytes.length % 4).toBe(0);
  });

  it('reads back what it wrote: names, types, modes, device numbers, data, inode order', () => {
    const records = readNewc(writeNewc(sample));
    expect(records.map((r) => [r.name, recordKind(r), r.mode & 0o7777, r.ino])).toEqual(sample.map((e, i) => [e.name, e.kind, e.mode, i + 1]));
    expect(records[1]).toMatchObject({ rdevMajor: 5, rdevMinor: 1, uid: 0, gid: 0, mtime: 0 });
    expect(records[4]!.data).toEqual((sample[4] as { data: Uint8Array }).data);
    expect(records[5]!.data.length).toBe(0);
  });

  it('is byte for byte the same for the same entries', () => {
    expect(writeNewc(sample)).toEqual(writeNewc(sample.map((e) => ({ ...e }))));
  });

  it('refuses entries the kernel would mis-create', () => {
    expect(() => writeNewc([{ kind: 'file', name: 'lib/x', mode: 0o644, data: new Uint8Array(1) }])).toThrow(/before its directory 'lib'/);
    expect(() => writeNewc([{ kind: 'dir', name: 'a', mode: 0o755 }, { kind: 'dir', name: 'a', mode: 0o755 }])).toThrow(/twice/);
    expect(() => writeNewc([{ kind: 'dir', name: '/abs', mode: 0o755 }])).toThrow(CpioError);
    expect(() => writeNewc([{ kind: 'dir', name: 'a/../b', mode: 0o755 }])).toThrow(/bad archive path/);
    expect(() => writeNewc([{ kind: 'dir', name: 'a', mode: 0o40755 }])).toThrow(/beyond the permissions/);
  });

  it('reports a truncated or foreign archive', () => {
    const bytes = writeNewc(sample);
    expect(() => readNewc(bytes.subarray(0, bytes.length - 8))).toThrow(CpioError);
    expect(() => readNewc(text('not a cpio archive at all, not at all, not at all'))).toThrow(/without a trailer|no newc header/);
  });

  it.runIf(haveCpio)('GNU cpio lists and extracts it with the same names, modes and contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-cpio-'));
    dirs.push(dir);
    const archive = join(dir, 'a.cpio');
    writeFileSync(archive, writeNewc(sample.filter((e) => e.kind !== 'chardev')));
    const list = spawnSync('cpio', ['-t', '--quiet', '-F', archive], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual(['dev', 'init', 'lib', 'lib/a.ko', 'lib/empty']);
    const extract = spawnSync('cpio', ['-i', '-d', '--quiet', '--no-absolute-filenames', '-F', archive], { cwd: dir, encoding: 'utf8' });
    expect(extract.status, extract.stderr).toBe(0);
    expect(readFileSync(join(dir, 'init'), 'utf8')).toBe('#!hello\n');
    expect(readFileSync(join(dir, 'lib/a.ko'))).toEqual(Buffer.from((sample[4] as { data: Uint8Array }).data));
    expect(statSync(join(dir, 'init')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'lib/a.ko')).mode & 0o777).toBe(0o644);
  });
});
