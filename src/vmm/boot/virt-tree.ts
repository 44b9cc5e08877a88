import { childNode, fdtNode, prop, setProp, type FdtNode } from '../fdt/index.js';
import { apbClockNode, PHANDLE } from './device-nodes.js';
import type { BoardDevice } from './board.js';
import { seedBytes } from './seed.js';

/** PSCI 0.1 function IDs for old kernels, as QEMU lists them (the 0.2+ IDs are standard). */
const PSCI_0_1_IDS = { cpu_suspend: 0xc400_0001, cpu_off: 0x8400_0002, cpu_on: 0xc400_0003, migrate: 0xc400_0005 };

export interface MachineModel {
  readonly ramBase: number;
  readonly ramBytes: number;
  readonly devices: readonly BoardDevice[];
}

/** What /chosen tells the kernel. */
export interface ChosenOptions {
  readonly bootargs?: string;
  readonly initrd?: { readonly start: number; readonly end: number };
  /** Boot entropy (rng-seed, kaslr-seed) derived from this number; absent: left as the tree has it. */
  readonly seed?: bigint;
}

/** The path of the console node: the first PL011 in the registry. */
function stdoutPath(root: FdtNode): string | undefined {
  const uart = root.children.find((n) => n.name.startsWith('pl011@'));
  return uart && `/${uart.name}`;
}

/**
 * The device tree of the machine: /memory, /cpus, /psci, then every registry device's nodes in
 * registry order, the clock they share, /aliases and /chosen.
 */
export function buildVirtTree(model: MachineModel, chosen: ChosenOptions & { readonly seed: bigint }): FdtNode {
  const root = fdtNode('', [
    prop.strings('compatible', 'linux,dummy-virt'),
    prop.strings('model', 'linux,dummy-virt'),
    prop.cells('#address-cells', 2),
    prop.cells('#size-cells', 2),
    prop.cells('interrupt-parent', PHANDLE.gic),
    prop.empty('dma-coherent'),
  ]);
  root.children.push(
    fdtNode('psci', [prop.strings('compatible', 'arm,psci-1.0', 'arm,psci-0.2', 'arm,psci'), prop.strings('method', 'hvc'), ...Object.entries(PSCI_0_1_IDS).map(([name, id]) => prop.cells(name, id))]),
    fdtNode(`memory@${model.ramBase.toString(16)}`, [prop.strings('device_type', 'memory'), prop.u64('reg', model.ramBase, model.ramBytes)]),
    fdtNode('cpus', [prop.cells('#address-cells', 1), prop.cells('#size-cells', 0)], [
      fdtNode('cpu@0', [prop.strings('device_type', 'cpu'), prop.strings('compatible', 'arm,cortex-a57'), prop.cells('reg', 0), prop.strings('enable-method', 'psci'), prop.cells('phandle', PHANDLE.cpu0)]),
    ]),
  );
  for (const device of model.devices) root.children.push(...(device.deviceTree?.() ?? []));
  if (root.children.some((n) => n.props.some((p) => p.name === 'clocks'))) root.children.push(apbClockNode());
  const stdout = stdoutPath(root);
  if (stdout) root.children.push(fdtNode('aliases', [prop.strings('serial0', stdout)]));
  applyChosen(root, model, chosen);
  return root;
}

/**
 * Sets /memory's reg and the /chosen properties on a tree: the generated one, or a user's
 * --dtb (as QEMU does with -dtb: RAM size, bootargs and initrd come from the command line).
 */
export function applyChosen(root: FdtNode, model: Pick<MachineModel, 'ramBase' | 'ramBytes'>, chosen: ChosenOptions): void {
  const memory = root.children.find((n) => n.name === 'memory' || n.name.startsWith('memory@')) ?? childNode(root, `memory@${model.ramBase.toString(16)}`);
  setProp(memory, prop.strings('device_type', 'memory'));
  setProp(memory, prop.u64('reg', model.ramBase, model.ramBytes));
  const node = childNode(root, 'chosen');
  if (chosen.bootargs !== undefined && chosen.bootargs !== '') setProp(node, prop.strings('bootargs', chosen.bootargs));
  const stdout = stdoutPath(root);
  if (stdout && !node.props.some((p) => p.name === 'stdout-path')) setProp(node, prop.strings('stdout-path', stdout));
  if (chosen.initrd) {
    setProp(node, prop.u64('linux,initrd-start', chosen.initrd.start));
    setProp(node, prop.u64('linux,initrd-end', chosen.initrd.end));
  }
  if (chosen.seed !== undefined) {
    const entropy = seedBytes(chosen.seed, 40);
    setProp(node, prop.bytes('rng-seed', entropy.subarray(0, 32)));
    setProp(node, prop.bytes('kaslr-seed', entropy.subarray(32, 40)));
  }
}
