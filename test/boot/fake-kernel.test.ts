import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToCompletion } from '../../src/node/run-guest.js';
import { prepareKernelBoot, VirtMachine, type KernelBootOptions } from '../../src/vmm/index.js';
import { assemblerAvailable } from '../support/asm.js';
import { qemuAvailable, runQemu } from '../support/qemu.js';
import { noteMissingTool } from '../support/reference-tools.js';
import { fakeKernel } from './fake-kernel.js';

const haveAs = noteMissingTool('assembler', assemblerAvailable());
const dir = mkdtempSync(join(tmpdir(), 'tagvisor-fake-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BOOTARGS = 'console=ttyAMA0 root=/dev/vda quiet';
const INITRD = new TextEncoder().encode('initrd!!and the rest of an initramfs');

/** Boots the fake kernel in-process: its UART output, exit status and the DTB it was given. */
async function bootOnTagvisor(kernel: Uint8Array, options: KernelBootOptions): Promise<{ stdout: string; status: number; dtb: Uint8Array }> {
  const machine = new VirtMachine({ memoryBytes: 256 * 2 ** 20 });
  const prepared = await prepareKernelBoot(machine.model(), kernel, options);
  machine.loadBootImage(prepared.image);
  const out: Uint8Array[] = [];
  machine.events.on('output', (bytes) => out.push(bytes.slice()));
  const outcome = await runToCompletion(machine, { maxInsns: 1_000_000 });
  return { stdout: Buffer.concat(out).toString('latin1'), status: outcome.status, dtb: prepared.dtb! };
}

describe.runIf(haveAs)('a fake arm64 Image boots with the Linux boot protocol', () => {
  it('gets x0 = the DTB, x1..x3 = 0, EL1, MMU off, DAIF masked, bootargs and the initrd', async () => {
    const { stdout, status } = await bootOnTagvisor(fakeKernel(), { bootargs: BOOTARGS, initrd: INITRD });
    expect(status).toBe(0);
    expect(stdout).toBe(
      [
        'x0=0000000040001000',
        'x1|x2|x3=0000000000000000',
        'CurrentEL=0000000000000004',
        'SCTLR_EL1.M=0000000000000000',
        'DAIF=00000000000003c0',
        'DTB magic=00000000d00dfeed',
        `bootargs=${BOOTARGS}`,
        // "initrd!!" read as a big-endian 64-bit number
        `initrd[0..8]=${Buffer.from(INITRD.subarray(0, 8)).toString('hex')}`,
        '',
      ].join('\n'),
    );
  });

  it('boots the same from a gzip-compressed Image', async () => {
    const plain = await bootOnTagvisor(fakeKernel(), { bootargs: BOOTARGS });
    const compressed = new Uint8Array(await new Response(new Blob([fakeKernel().slice()]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    const gz = await bootOnTagvisor(compressed, { bootargs: BOOTARGS });
    expect(gz.stdout).toBe(plain.stdout);
  });

  it.runIf(qemuAvailable())('prints what QEMU prints for the same Image, Tagvisor DTB, command line and initrd', async () => {
    const kernel = fakeKernel();
    const tagvisor = await bootOnTagvisor(kernel, { bootargs: BOOTARGS, initrd: INITRD });
    const paths = { kernel: join(dir, 'Image'), dtb: join(dir, 'tagvisor.dtb'), initrd: join(dir, 'initrd') };
    writeFileSync(paths.kernel, kernel);
    writeFileSync(paths.dtb, tagvisor.dtb);
    writeFileSync(paths.initrd, INITRD);
    const qemu = await runQemu(paths.kernel, { extraArgs: ['-dtb', paths.dtb, '-append', BOOTARGS, '-initrd', paths.initrd] });
    expect(qemu.timedOut).toBe(false);
    expect(qemu.status).toBe(0);
    // QEMU places the DTB elsewhere (after its initrd): every other line must match.
    const withoutX0 = (text: string): string => text.replace(/^x0=[0-9a-f]{16}$/m, 'x0=<dtb>');
    expect(withoutX0(qemu.stdout.toString('latin1'))).toBe(withoutX0(tagvisor.stdout));
  });
});
