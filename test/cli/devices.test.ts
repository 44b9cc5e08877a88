import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const guest = (name: string) => join(ROOT, 'guests/build', `${name}.elf`);
const dirs: string[] = [];

function tagvisor(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Fresh disks for the virtio-blk guests (guests/devices.sh). */
function disks(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-cli-'));
  dirs.push(dir);
  expect(spawnSync('sh', [join(ROOT, 'guests/devices.sh'), 'virtio-blk', dir]).status).toBe(0);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('tagvisor run --drive / --dma (docs/devices.md)', () => {
  it.each([
    ['direct', 'virtio-blk'],
    ['bounce', 'virtio-blk-bounce'],
  ])('--dma %s runs %s as QEMU does', (dma, name) => {
    const dir = disks();
    const run = tagvisor(
      'run', '--dma', dma,
      '--drive', `file=${join(dir, 'disk0.img')},serial=tagvisor-disk0`,
      '--drive', `${join(dir, 'disk1.img')},readonly=on,serial=tagvisor-disk1`,
      guest(name),
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(readFileSync(join(ROOT, 'guests/expected', `${name}.out`), 'latin1'));
    expect(run.status).toBe(0);
  });

  it('a driver that ignores the bounce pool gets a device that needs reset, and a warning', () => {
    const dir = disks();
    const run = tagvisor('run', '--dma', 'bounce', '--max-insns', '30000000', '--drive', join(dir, 'disk0.img'), '--drive', `${join(dir, 'disk1.img')},readonly=on`, guest('virtio-blk'));
    expect(run.stderr).toMatch(/not in the shared bounce pool; device needs reset/);
    expect(run.stdout).toMatch(/disk0: status 4f/); // DEVICE_NEEDS_RESET | DRIVER_OK | FEATURES_OK | DRIVER | ACKNOWLEDGE
  });

  it('--virtio-console: stdin reaches the guest, its output comes out on stdout in program order', () => {
    const result = spawnSync(process.execPath, [CLI, 'run', '--virtio-console', guest('virtio-console')], { encoding: 'latin1', timeout: 60_000, input: 'hello from the host\n' });
    const uart = readFileSync(join(ROOT, 'guests/expected/virtio-console.out'), 'latin1');
    const [before, after] = uart.split(/(?=transmitted:)/);
    expect(result.stdout).toBe(`${before}hello from the guest over virtio-console\n${after}`);
    expect(result.status).toBe(0);
  });

  it.each([
    [['--dma', 'sideways'], /--dma.*expected 'direct' or 'bounce'/],
    [['--drive', '/nonexistent/disk.img'], /^tagvisor: --drive: \/nonexistent\/disk.img: no such file or directory\n$/],
    // The reason in words, not Node's "ENOTDIR: not a directory, open '...'" (fileErrorText).
    [['--drive', '/etc/passwd/disk.img'], /^tagvisor: --drive: \/etc\/passwd\/disk.img: a component of the path is not a directory\n$/],
    [['--drive', 'file=/tmp,serial=x'], /^tagvisor: --drive: \/tmp: (is a directory|not a regular file)\n$/],
    [['--drive', 'format=raw'], /^tagvisor: --drive: unknown drive option 'format'/],
    [['--drive', 'readonly=maybe'], /readonly must be 'on' or 'off'/],
  ])('bad %j: one line, exit 2', (args, message) => {
    const run = tagvisor('run', ...args, guest('psci-off'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
