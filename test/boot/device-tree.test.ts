import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDeviceTree, VirtMachine } from '../../src/vmm/index.js';
import { findNode, parseFdt, type FdtNode } from '../../src/vmm/fdt/index.js';
import { qemuAvailable } from '../support/qemu.js';
import { noteMissingTool } from '../support/reference-tools.js';

const dtcWorks = spawnSync('dtc', ['--version'], { stdio: 'ignore' }).status === 0;
const haveDtc = noteMissingTool('dtc', dtcWorks);
if (!dtcWorks) console.log('test/boot/device-tree.test.ts: dtc (device-tree-compiler) is not installed: skipping the dtc decode');
const dir = mkdtempSync(join(tmpdir(), 'tagvisor-dtb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const machineDtb = (chosen: Parameters<typeof makeDeviceTree>[1] = {}, memoryBytes = 256 * 2 ** 20): Uint8Array => makeDeviceTree(new VirtMachine({ memoryBytes }).model(), chosen);

describe.runIf(haveDtc)('the generated device tree, decoded by dtc', () => {
  const decode = (blob: Uint8Array): { dts: string; warnings: string } => {
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', '-'], { input: blob, encoding: 'utf8' });
    expect(r.status).toBe(0);
    return { dts: r.stdout, warnings: r.stderr };
  };

  it('has the board as the machine model describes it, and dtc has nothing to warn about', () => {
    const { dts, warnings } = decode(machineDtb({ bootargs: 'console=ttyAMA0 panic=-1', initrd: { start: 0x4400_0000, end: 0x4400_1234 } }, 512 * 2 ** 20));
    expect(warnings).toBe('');
    const expectations = [
      /memory@40000000 \{\s+device_type = "memory";\s+reg = <0x00 0x40000000 0x00 0x20000000>;/,
      /cpu@0 \{\s+device_type = "cpu";\s+compatible = "arm,cortex-a57";\s+reg = <0x00>;\s+enable-method = "psci";/,
      /psci \{\s+compatible = "arm,psci-1.0\\0arm,psci-0.2\\0arm,psci";\s+method = "hvc";/,
      /intc@8000000 \{\s+compatible = "arm,gic-v3";\s+#interrupt-cells = <0x03>;\s+interrupt-controller;\s+reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x20000>;/,
      // secure phys 29, non-secure phys 30, virtual 27, hypervisor 26: PPIs 13, 14, 11, 10
      /timer \{\s+compatible = "arm,armv8-timer\\0arm,armv7-timer";\s+interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>;/,
      /pl011@9000000 \{\s+compatible = "arm,pl011\\0arm,primecell";\s+reg = <0x00 0x9000000 0x00 0x1000>;\s+interrupts = <0x00 0x01 0x04>;\s+clocks = <0x8000 0x8000>;\s+clock-names = "uartclk\\0apb_pclk";/,
      /apb-pclk \{\s+compatible = "fixed-clock";\s+#clock-cells = <0x00>;\s+clock-frequency = <0x16e3600>;/,
      /virtio_mmio@a000000 \{\s+compatible = "virtio,mmio";\s+reg = <0x00 0xa000000 0x00 0x200>;\s+interrupts = <0x00 0x10 0x01>;\s+dma-coherent;/,
      /virtio_mmio@a003e00 \{\s+compatible = "virtio,mmio";\s+reg = <0x00 0xa003e00 0x00 0x200>;\s+interrupts = <0x00 0x2f 0x01>;/,
      /aliases \{\s+serial0 = "\/pl011@9000000";/,
      /chosen \{\s+bootargs = "console=ttyAMA0 panic=-1";\s+stdout-path = "\/pl011@9000000";\s+linux,initrd-start = <0x00 0x44000000>;\s+linux,initrd-end = <0x00 0x44001234>;\s+rng-seed = <(0x[0-9a-f]+ ?){8}>;\s+kaslr-seed = <(0x[0-9a-f]+ ?){2}>;/,
    ];
    for (const pattern of expectations) expect(dts).toMatch(pattern);
    expect(dts.match(/virtio_mmio@/g)).toHaveLength(32);
  });

  it('the seed decides rng-seed and kaslr-seed: same seed, same bytes', () => {
    const seeds = (seed: bigint): string => /rng-seed = <[^>]+>;\s+kaslr-seed = <[^>]+>/.exec(decode(machineDtb({ seed })).dts)![0];
    expect(seeds(7n)).toBe(seeds(7n));
    expect(seeds(7n)).not.toBe(seeds(8n));
    expect(machineDtb()).toEqual(machineDtb({ seed: 0n }));
  });
});

describe.runIf(qemuAvailable())('against the tree QEMU generates for virt,mte=on,gic-version=3', () => {
  /** Nodes both boards have, with the properties QEMU gives them (ours may add some). */
  it('every shared node carries QEMU\'s properties with QEMU\'s values', () => {
    const qemuPath = join(dir, 'qemu.dtb');
    execFileSync('qemu-system-aarch64', ['-M', `virt,mte=on,gic-version=3,dumpdtb=${qemuPath}`, '-cpu', 'max', '-m', '256', '-nographic'], { stdio: 'ignore', timeout: 30_000 });
    const qemu = parseFdt(readFileSync(qemuPath)).root;
    const ours = parseFdt(machineDtb()).root;
    // Where Tagvisor differs on purpose: one redistributor frame (QEMU sizes the region for 123
    // CPUs), no ITS child; entropy differs by design.
    const differs = new Set(['/intc@8000000:reg', '/chosen:rng-seed', '/chosen:kaslr-seed']);
    const shared = ['/psci', '/memory@40000000', '/cpus/cpu@0', '/pl011@9000000', '/intc@8000000', '/timer', '/apb-pclk', '/aliases', '/chosen', ...Array.from({ length: 32 }, (_, n) => `/virtio_mmio@${(0xa000000 + n * 0x200).toString(16)}`)];
    const checked: string[] = [];
    for (const path of shared) {
      const theirs = findNode(qemu, path);
      const mine: FdtNode | undefined = findNode(ours, path);
      expect(theirs, path).toBeDefined();
      expect(mine, path).toBeDefined();
      for (const p of theirs!.props) {
        if (differs.has(`${path}:${p.name}`)) continue;
        const value = mine!.props.find((q) => q.name === p.name)?.value;
        expect(value && Buffer.from(value).toString('hex'), `${path}:${p.name}`).toBe(Buffer.from(p.value).toString('hex'));
        checked.push(`${path}:${p.name}`);
      }
    }
    expect(checked.length).toBeGreaterThan(150);
    for (const name of ['compatible', '#address-cells', '#size-cells', 'interrupt-parent']) {
      expect(Buffer.from(ours.props.find((p) => p.name === name)!.value)).toEqual(Buffer.from(qemu.props.find((p) => p.name === name)!.value));
    }
  });
});
