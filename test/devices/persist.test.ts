/**
 * Save/restore of the interrupt controller, the timers, the virtio transports and devices and
 * the shared pages (src/common/persist.ts): a saved state restores exactly, malformed state is
 * refused by `check` without changing anything, and guests snapshotted mid-run (interrupts
 * pending, timers armed, requests done) finish exactly as if never interrupted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateError, type Stateful } from '../../src/common/persist.js';
import { sysKey } from '../../src/cpu/sysregs.js';
import { KVM_CAP_ARM_MTE, Vm } from '../../src/hv/index.js';
import { DESC_F_NEXT, DESC_F_WRITE, F_VERSION_1, MemoryDisk, VirtioBlk, VirtioConsole } from '../../src/vmm/devices/virtio/index.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { loadSnapshot, saveSnapshot } from '../../src/vmm/migration/index.js';
import { BUF, TestGuest } from './virtio-driver.js';

const GUESTS = join(import.meta.dirname, '../../guests');

/** check() must throw StateError for every mutation and leave the component's state as it was. */
function expectRefused<S>(component: Stateful<S>, good: unknown, mutations: ((s: Record<string, unknown>) => unknown)[]): void {
  const before = component.save();
  for (const mutate of mutations) {
    const bad = mutate(structuredClone(good) as Record<string, unknown>);
    expect(() => component.check(bad, component.stateVersion)).toThrow(StateError);
    expect(component.save()).toEqual(before);
  }
  expect(() => component.check(good, component.stateVersion + 1)).toThrow(StateError);
  expect(() => component.check(null, component.stateVersion)).toThrow(StateError);
}

function restoreInto<S>(from: Stateful<S>, to: Stateful<S>): void {
  const saved = structuredClone(from.save());
  to.load(to.check(saved, from.stateVersion));
  expect(to.save()).toEqual(from.save());
}

function vmWithGic(): Vm {
  const vm = new Vm();
  vm.enableCap({ cap: KVM_CAP_ARM_MTE });
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x4000_0000, memorySize: 1 << 20 });
  vm.createVcpu(0);
  vm.createDevice('arm-vgic-v3');
  return vm;
}

describe('the vGIC state', () => {
  function configured(): Vm {
    const vm = vmWithGic();
    const mmio = (addr: number) => vm.memory.space.findMmio(addr)!;
    const gicd = mmio(0x0800_0000);
    gicd.handler.write(0, 4, 3);
    gicd.handler.write(0x84, 4, 0xff00); // SPIs 40..47 group 1
    gicd.handler.write(0x104, 4, 0xff00);
    gicd.handler.write(0x400 + 41, 1, 0x60);
    gicd.handler.write(0x6000 + 8 * 42, 4, 0x8000_0000);
    vm.irqLine(41, true);
    return vm;
  }

  it('restores exactly, including the interrupt it was signalling', () => {
    const source = configured();
    const target = vmWithGic();
    restoreInto(source.irqchip!, target.irqchip!);
    expect(target.irqchip!.state.hppiIrq).toBe(41);
  });

  it('refuses malformed state without changing anything', () => {
    const vm = configured();
    const gic = vm.irqchip!;
    const good = gic.save();
    expectRefused(gic, good, [
      (s) => ({ ...s, group: new Uint8Array(10) }),
      (s) => ({ ...s, enabled: new Uint8Array(288).fill(2) }),
      (s) => ({ ...s, edge: new Uint8Array(288) }), // SGIs must be edge-triggered
      (s) => ({ ...s, route: new Uint8Array(8 * 288).fill(0xff) }),
      (s) => ({ ...s, gicdCtlr: 0 }),
      (s) => ({ ...s, cpuInterface: { ...(s.cpuInterface as object), pmr: 0xff } }),
      (s) => ({ ...s, cpuInterface: { ...(s.cpuInterface as object), bpr1: 0 } }),
      (s) => ({ ...s, cpuInterface: 'x' }),
      (s) => ({ ...s, processorSleep: true }),
    ]);
  });
});

describe('the arch timer state', () => {
  it('restores exactly and refuses malformed state', () => {
    const source = new VirtMachine({ memoryBytes: 1 << 20 });
    const { cpu, sysregs, timer } = source.vcpu;
    sysregs.write(cpu, sysKey(3, 3, 14, 3, 2), 1234, 5); // CNTV_CVAL_EL0
    sysregs.write(cpu, sysKey(3, 3, 14, 3, 1), 1, 0); // CNTV_CTL_EL0 = ENABLE
    sysregs.write(cpu, sysKey(3, 3, 14, 2, 1), 3, 0); // CNTP_CTL_EL0 = ENABLE | IMASK
    const target = new VirtMachine({ memoryBytes: 1 << 20 });
    restoreInto(timer, target.vcpu.timer);
    expect(target.vcpu.timer.save().virt).toEqual({ ctl: 1, cvalLo: 1234, cvalHi: 5 });
    expectRefused(timer, timer.save(), [
      (s) => ({ ...s, virt: { ctl: 8, cvalLo: 0, cvalHi: 0 } }),
      (s) => ({ ...s, phys: { ctl: 0, cvalLo: -1, cvalHi: 0 } }),
      (s) => ({ ...s, phys: { ctl: 0, cvalLo: 0, cvalHi: 2 ** 32 } }),
      (s) => ({ virt: s.virt }),
    ]);
  });
});

describe('virtio transport and device state', () => {
  function busyBlk(): TestGuest {
    const g = new TestGuest(new VirtioBlk(new MemoryDisk(new Uint8Array(8192))));
    g.init((1n << F_VERSION_1) | (1n << 9n));
    g.memory.dma.write(BUF, new Uint8Array(16));
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x100, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0, 0, 0]);
    return g;
  }

  it('restores exactly (queue indices, negotiated features, pending interrupt)', () => {
    const source = busyBlk();
    const target = new TestGuest(new VirtioBlk(new MemoryDisk(new Uint8Array(8192))));
    restoreInto(source.transport, target.transport);
    expect(target.irqLevel).toBe(true);
    expect(target.transport.queues[0]!.lastAvail).toBe(3);
  });

  it('refuses malformed state without changing anything', () => {
    const g = busyBlk();
    const good = g.transport.save();
    const queue = (s: Record<string, unknown>, patch: object) => ({ ...s, queues: [{ ...(s.queues as object[])[0], ...patch }] });
    expectRefused(g.transport, good, [
      (s) => ({ ...s, deviceId: 3 }),
      (s) => ({ ...s, status: 256 }),
      (s) => ({ ...s, negotiated: [0, 1 << 20] }), // a feature the device does not offer
      (s) => ({ ...s, queues: [] }),
      (s) => queue(s, { size: 3 }),
      (s) => queue(s, { size: 1024 }),
      (s) => queue(s, { desc: [8, 0] }),
      (s) => queue(s, { driver: [0, 2 ** 21] }),
      (s) => queue(s, { lastAvail: 70000 }),
      (s) => queue(s, { ready: 1 }),
      (s) => ({ ...s, interruptStatus: 4 }),
      (s) => ({ ...s, device: { capacity: 99, readOnly: false } }), // another disk
    ]);
  });

  it('carries undelivered console input', () => {
    const source = new VirtioConsole(() => {});
    const g = new TestGuest(source);
    g.init(1n << F_VERSION_1, 16, 2);
    source.input(Uint8Array.of(1, 2, 3));
    const target = new TestGuest(new VirtioConsole(() => {}));
    restoreInto(g.transport, target.transport);
    expectRefused(g.transport, g.transport.save(), [(s) => ({ ...s, device: { pendingInput: new Uint8Array(70000) } })]);
  });
});

describe('the shared pages (bounce pool)', () => {
  it('restores exactly and refuses malformed state', () => {
    const source = new VirtMachine({ memoryBytes: 1 << 20, dma: 'bounce' });
    const pages = (1 << 20) / 0x1000;
    const sharedPages = [0, 3, 4, 7, 8, 100, pages - 1];
    for (const page of sharedPages) source.devices.pool.share(0x4000_0000 + page * 0x1000, 0x1000);
    const target = new VirtMachine({ memoryBytes: 1 << 20, dma: 'bounce' });
    target.devices.pool.share(0x4000_0000 + 50 * 0x1000, 0x3000); // unshared by the restore
    restoreInto(source.devices.sharedPages, target.devices.sharedPages);
    const sharedAfter = Array.from({ length: pages }, (_, page) => page).filter((page) => target.devices.pool.isShared(0x4000_0000 + page * 0x1000));
    expect(sharedAfter).toEqual(sharedPages);
    expectRefused(source.devices.sharedPages, source.devices.sharedPages.save(), [
      (s) => ({ ...s, regions: [] }),
      () => ({ regions: [{ base: 0, shared: new Uint8Array(32) }] }),
      () => ({ regions: [{ base: 0x4000_0000, shared: new Uint8Array(31) }] }),
    ]);
  });
});

describe('guests snapshotted mid-run finish exactly as without the snapshot', () => {
  function disks(): MemoryDisk[] {
    const d0 = new Uint8Array(64 * 1024);
    d0.set(new TextEncoder().encode('TAGVISOR DISK 0\n'));
    d0.set(new TextEncoder().encode('SECTOR ONE'), 512);
    const d1 = new Uint8Array(16 * 1024);
    d1.set(new TextEncoder().encode('TAGVISOR DISK 1 (READ-ONLY)\n'));
    return [new MemoryDisk(d0, false, 'tagvisor-disk0'), new MemoryDisk(d1, true, 'tagvisor-disk1')];
  }

  function machine(guest: string, drives: MemoryDisk[], out: Uint8Array[]): VirtMachine {
    const m = new VirtMachine({ memoryBytes: 64 * 2 ** 20, drives, dma: guest.endsWith('-bounce') ? 'bounce' : 'direct' });
    m.events.on('output', (bytes) => out.push(bytes.slice()));
    return m;
  }

  function finish(m: VirtMachine): void {
    for (let i = 0; m.state === 'running' && i < 200; i++) m.runSlice(1_000_000);
  }

  it('irq-timer snapshotted while each timer is armed and the guest waits in WFI', () => {
    const guest = 'irq-timer';
    const image = readFileSync(join(GUESTS, 'build', `${guest}.elf`));
    const expected = readFileSync(join(GUESTS, 'expected', `${guest}.out`), 'latin1');
    const reference = machine(guest, [], []);
    reference.loadElf(image);
    finish(reference);
    // Find instruction counts at which a timer is armed with its deadline still ahead.
    const probe = machine(guest, [], []);
    probe.loadElf(image);
    const armed: number[] = [];
    let wasArmed = false;
    while (probe.state === 'running' && armed.length < 4) {
      probe.runSlice(3);
      const { virt, phys } = probe.vcpu.timer.save();
      const now = probe.vcpu.cpu.counter();
      const ahead = (t: { ctl: number; cvalLo: number; cvalHi: number }) => t.ctl === 1 && t.cvalHi * 2 ** 32 + t.cvalLo > now;
      const isArmed = ahead(virt) || ahead(phys);
      if (isArmed && !wasArmed) armed.push(probe.instructions);
      wasArmed = isArmed;
    }
    expect(armed.length).toBeGreaterThanOrEqual(3);
    for (const at of armed) {
      const out: Uint8Array[] = [];
      const source = machine(guest, [], out);
      source.loadElf(image);
      source.runSlice(at);
      source.pause();
      const target = machine(guest, [], out);
      loadSnapshot(target, Buffer.concat(saveSnapshot(source)));
      target.resume();
      finish(target);
      expect(Buffer.concat(out).toString('latin1'), `snapshot at ${at}`).toBe(expected);
      expect(target.instructions, `instructions after a snapshot at ${at}`).toBe(reference.instructions);
      expect(target.vcpu.cpu.counter(), `counter after a snapshot at ${at}`).toBe(reference.vcpu.cpu.counter());
    }
  });

  it.each(['irq-timer', 'irq-gic', 'virtio-blk', 'virtio-blk-bounce'])('%s at 6 points', (guest) => {
    const image = readFileSync(join(GUESTS, 'build', `${guest}.elf`));
    const expected = readFileSync(join(GUESTS, 'expected', `${guest}.out`), 'latin1');
    const reference = machine(guest, disks(), []);
    reference.loadElf(image);
    finish(reference);
    const total = reference.instructions;
    for (let k = 1; k <= 6; k++) {
      const out: Uint8Array[] = [];
      const sourceDisks = disks();
      const source = machine(guest, sourceDisks, out);
      source.loadElf(image);
      source.runSlice(Math.floor((total * k) / 7));
      source.pause();
      const snapshot = Buffer.concat(saveSnapshot(source));
      // The disks are host state: the target gets copies as they were at the snapshot.
      const targetDisks = sourceDisks.map((d) => new MemoryDisk(d.bytes.slice(), d.readOnly, d.id));
      const target = machine(guest, targetDisks, out);
      loadSnapshot(target, snapshot);
      target.resume();
      finish(target);
      expect(Buffer.concat(out).toString('latin1'), `snapshot at ${k}/7`).toBe(expected);
      expect(target.shutdown?.kind).toBe('semihosting-exit');
      // Deterministic time: the restored guest takes its interrupts at the same instructions.
      expect(target.instructions, `instructions after a snapshot at ${k}/7`).toBe(total);
    }
  });
});
