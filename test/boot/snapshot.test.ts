import { describe, expect, it } from 'vitest';
import { runToCompletion } from '../../src/node/run-guest.js';
import { prepareKernelBoot, VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, saveSnapshot } from '../../src/vmm/migration/index.js';
import { assemblerAvailable } from '../support/asm.js';
import { fakeKernel } from './fake-kernel.js';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function capture(machine: VirtMachine): () => string {
  const out: Uint8Array[] = [];
  machine.events.on('output', (bytes) => out.push(bytes.slice()));
  return () => Buffer.concat(out).toString('latin1');
}

describe.runIf(assemblerAvailable())('a kernel boot in a snapshot', () => {
  it('continues after a restore, and a reboot of the restored VM boots the kernel again', async () => {
    const kernel = fakeKernel({ end: 'reset' });
    const source = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
    source.loadBootImage((await prepareKernelBoot(source.model(), kernel, { bootargs: 'snap' })).image);
    const before = capture(source);
    await runToCompletion(source, { maxInsns: 300 }); // part-way through its report
    source.pause();
    expect(before()).toMatch(/^x0=/); // the snapshot is taken mid-report
    expect(before()).not.toContain('bootargs=');
    const snapshot = concat(saveSnapshot(source));

    const target = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
    loadSnapshot(target, snapshot);
    target.resume();
    const after = capture(target);
    await runToCompletion(target, { maxInsns: 300_000 });
    const report = before() + after();
    // The first report completes across the restore, then SYSTEM_RESET reboots into a second one.
    expect(report.match(/x0=0000000040001000\n/g)!.length).toBeGreaterThan(1);
    expect(report).toMatch(/^x0=0000000040001000\n(.|\n)*bootargs=snap\n(.|\n)*x0=0000000040001000\n/);
  });

  it('a boot image too big to carry (over 12 MiB): the restored guest runs, and its reboot stops the run with a warning', async () => {
    const source = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
    source.loadBootImage((await prepareKernelBoot(source.model(), fakeKernel({ end: 'reset' }), { initrd: new Uint8Array(13 * 2 ** 20).fill(0x41) })).image);
    source.pause();
    const target = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
    loadSnapshot(target, concat(saveSnapshot(source)));
    expect(target.image).toBeNull();
    target.resume();
    const output = capture(target);
    const warnings: string[] = [];
    target.events.on('warning', (w) => warnings.push(w));
    const outcome = await runToCompletion(target, { maxInsns: 300_000 });
    expect(output()).toMatch(/initrd\[0\.\.8\]=4141414141414141\n$/);
    expect(outcome.status).toBe(0);
    expect(target.shutdown).toEqual({ kind: 'system-reset' });
    expect(warnings).toEqual([expect.stringMatching(/boot image was not carried/)]);
  });
});
