import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFdt } from '../../src/vmm/fdt/index.js';
import { assemblerAvailable } from '../support/asm.js';
import { noteMissingTool } from '../support/reference-tools.js';
import { fakeKernel } from './fake-kernel.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tagvisor-boot-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the built CLI (npm test builds first). */
function tagvisor(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const file = (name: string, bytes: Uint8Array | string): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** A bad input: exit status 2 and one line on stderr that matches `message`. */
function refused(run: ReturnType<typeof tagvisor>, message: RegExp): void {
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
}

describe('tagvisor run --dump-dtb', () => {
  it('writes the generated tree with the command line and seed, exits 0 without running anything', () => {
    const out = join(dir, 'dump.dtb');
    const run = tagvisor('run', '-m', '128M', '--append', 'console=ttyAMA0', '--seed', '0x2a', '--dump-dtb', out);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    const root = parseFdt(readFileSync(out)).root;
    const chosen = root.children.find((n) => n.name === 'chosen')!;
    expect(Buffer.from(chosen.props.find((p) => p.name === 'bootargs')!.value).toString()).toBe('console=ttyAMA0\0');
    const again = join(dir, 'again.dtb');
    tagvisor('run', '-m', '128M', '--append', 'console=ttyAMA0', '--seed', '42', '--dump-dtb', again);
    expect(readFileSync(again)).toEqual(readFileSync(out));
  });

  it('refuses it together with a bare guest, and into a missing folder', () => {
    refused(tagvisor('run', '--dump-dtb', join(dir, 'x.dtb'), join(ROOT, 'guests/build/demo.elf')), /--dump-dtb goes with --kernel or alone/);
    refused(tagvisor('run', '--dump-dtb', join(dir, 'no/such/dir.dtb')), /--dump-dtb .*: no such directory/);
  });
});

describe('tagvisor run --kernel: hostile or impossible input is one line, exit 2', () => {
  const kernel = assemblerAvailable() ? file('Image', fakeKernel()) : '';

  it('refuses Linux options without --kernel', () => {
    refused(tagvisor('run', '--append', 'x', join(ROOT, 'guests/build/demo.elf')), /--append need --kernel/);
    refused(tagvisor('run', '--seed', 'nope', '--dump-dtb', join(dir, 'x.dtb')), /'nope' is not a seed/);
  });

  it('refuses a truncated Image, a file that is no kernel, a directory', () => {
    refused(tagvisor('run', '--kernel', file('short', new Uint8Array(10))), /short: truncated kernel Image: 10 bytes/);
    refused(tagvisor('run', '--kernel', file('zeros', new Uint8Array(4096))), /zeros: neither an arm64 kernel Image .* nor an ELF file/);
    mkdirSync(join(dir, 'folder'), { recursive: true });
    refused(tagvisor('run', '--kernel', join(dir, 'folder')), /--kernel .*folder: not a regular file/);
    refused(tagvisor('run', '--kernel', join(dir, 'missing')), /--kernel .*missing: no such file/);
  });

  it.runIf(noteMissingTool('assembler', assemblerAvailable()))('refuses a bad --dtb, an initrd that does not fit, an initrd for an ELF', () => {
    refused(tagvisor('run', '--kernel', kernel, '--dtb', file('bad.dtb', new Uint8Array(64))), /^tagvisor: --dtb: not a device tree blob \(magic 0x00000000/);
    const blob = new Uint8Array(64);
    new DataView(blob.buffer).setUint32(0, 0xd00dfeed);
    new DataView(blob.buffer).setUint32(4, 4096);
    new DataView(blob.buffer).setUint32(20, 17);
    refused(tagvisor('run', '--kernel', kernel, '--dtb', file('cut.dtb', blob)), /--dtb: totalsize 4096 exceeds the file size 64/);
    refused(tagvisor('run', '-m', '4M', '--kernel', kernel, '--initrd', file('big-initrd', new Uint8Array(3 * 2 ** 20))), /-m 4M cannot hold the kernel .* and the initrd \(3M\): give at least -m 6M/);
    refused(tagvisor('run', '-m', '2M', '--kernel', kernel, '--initrd', file('huge-initrd', new Uint8Array(3 * 2 ** 20))), /--initrd .*: 3145728 bytes is larger than guest RAM/);
    refused(tagvisor('run', '--kernel', join(ROOT, 'guests/build/psci-off.elf'), '--initrd', kernel), /--initrd needs an arm64 Image kernel/);
  });
});

describe.runIf(assemblerAvailable())('tagvisor run --kernel boots', () => {
  it('an Image with --initrd and --append, exit 0 at SYSTEM_OFF', () => {
    const run = tagvisor('run', '--kernel', file('ok.Image', fakeKernel()), '--initrd', file('initrd', 'ABCDEFGH'), '--append', 'root=/dev/vda');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^x0=0000000040001000$/m);
    expect(run.stdout).toMatch(/^bootargs=root=\/dev\/vda$/m);
    expect(run.stdout).toMatch(/^initrd\[0\.\.8\]=4142434445464748$/m);
  });

  it('SYSTEM_RESET reboots (the guest runs again) unless --no-reboot, which exits 0', () => {
    const reset = file('reset.Image', fakeKernel({ end: 'reset' }));
    const looping = tagvisor('run', '--max-insns', '300000', '--kernel', reset);
    expect(looping.status).toBe(124);
    expect(looping.stdout.match(/DTB magic=/g)!.length).toBeGreaterThan(1);
    const once = tagvisor('run', '--no-reboot', '--stats', '--kernel', reset);
    expect(once.status).toBe(0);
    expect(once.stdout.match(/DTB magic=/g)).toHaveLength(1);
    expect(once.stderr).toMatch(/^exit: PSCI SYSTEM_RESET \(--no-reboot\)$/m);
  });

  it('an ELF guest as QEMU boots one: the same output as run <guest.elf>, x0 = 0', () => {
    const elf = join(ROOT, 'guests/build/exit-code.elf');
    const bare = tagvisor('run', elf);
    const viaKernel = tagvisor('run', '--kernel', elf);
    expect(viaKernel.stdout).toBe(bare.stdout);
    expect(viaKernel.status).toBe(bare.status);
  });
});
