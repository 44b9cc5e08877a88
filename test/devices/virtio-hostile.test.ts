/**
 * Hostile drivers: malformed chains and rings, broken negotiation. The device must enter its
 * error state (virtio 1.2 §2.1.2: DEVICE_NEEDS_RESET, plus a configuration change notification
 * once DRIVER_OK is set), touch nothing outside the guest's buffers, and recover on reset.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../src/memory/index.js';
import {
  DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, F_VERSION_1, INT_CONFIG_CHANGE, MemoryDisk, MMIO, STATUS, VirtioBlk, VirtioConsole,
} from '../../src/vmm/devices/virtio/index.js';
import { BUF, RAM_BASE, RAM_SIZE, TestGuest, usedAddr } from './virtio-driver.js';

const OK_STATUS = STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK;

function blkGuest(options: { bounce?: boolean } = {}): { g: TestGuest; disk: MemoryDisk } {
  const disk = new MemoryDisk(new Uint8Array(64 * 512).fill(0xd5));
  const g = new TestGuest(new VirtioBlk(disk), options);
  return { g, disk };
}

function header(g: TestGuest, type: number): void {
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(0, type, true);
  g.memory.dma.write(BUF, h);
}

/** Expects the error state, and that RAM changed nowhere but where `allowed` says. */
function expectErrorState(g: TestGuest, before: Uint8Array, allowed: (offset: number) => boolean = () => false): void {
  expect(g.needsReset).toBe(true);
  expect(g.reg(MMIO.INTERRUPT_STATUS) & INT_CONFIG_CHANGE).toBe(INT_CONFIG_CHANGE);
  expect(g.irqLevel).toBe(true);
  const after = g.ram();
  for (let i = 0; i < after.length; i++) if (after[i] !== before[i] && !allowed(i)) throw new Error(`byte ${i} (${(RAM_BASE + i).toString(16)}) changed`);
}

describe('hostile descriptor chains (§2.7.5, §2.7.6)', () => {
  const cases: [string, (g: TestGuest) => void][] = [
    ['a chain that loops', (g) => {
      g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
      g.writeDesc(0, 1, { addr: BUF + 0x100, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 0 });
    }],
    ['a self-loop', (g) => g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 0 })],
    ['next outside the table', (g) => g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 16 })],
    ['a buffer outside RAM', (g) => {
      g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
      g.writeDesc(0, 1, { addr: 0x1000, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
      g.writeDesc(0, 2, { addr: BUF + 0x200, len: 1, flags: DESC_F_WRITE, next: 0 });
    }],
    ['a buffer running off the end of RAM', (g) => {
      g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
      g.writeDesc(0, 1, { addr: RAM_BASE + RAM_SIZE - 512, len: 1024, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
      g.writeDesc(0, 2, { addr: BUF + 0x200, len: 1, flags: DESC_F_WRITE, next: 0 });
    }],
    ['an absurd length', (g) => {
      g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
      g.writeDesc(0, 1, { addr: BUF + 0x100, len: 0xffff_ffff, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
      g.writeDesc(0, 2, { addr: BUF + 0x200, len: 1, flags: DESC_F_WRITE, next: 0 });
    }],
    ['an address above the physical address space', (g) => g.writeDesc(0, 0, { addr: 2 ** 60, len: 16, flags: 0, next: 0 })],
    ['more than 2^32 bytes in total', (g) => {
      for (let i = 0; i < 3; i++) g.writeDesc(0, i, { addr: RAM_BASE, len: 0x7000_0000, flags: DESC_F_NEXT, next: i + 1 });
      g.writeDesc(0, 3, { addr: BUF, len: 1, flags: DESC_F_WRITE, next: 0 });
    }],
    ['an indirect descriptor without VIRTIO_F_INDIRECT_DESC', (g) => g.writeDesc(0, 0, { addr: BUF, len: 64, flags: DESC_F_INDIRECT, next: 0 })],
    ['a device-readable buffer after a device-writable one', (g) => {
      g.writeDesc(0, 0, { addr: BUF + 0x200, len: 1, flags: DESC_F_WRITE | DESC_F_NEXT, next: 1 });
      g.writeDesc(0, 1, { addr: BUF, len: 16, flags: 0, next: 0 });
    }],
    ['a request with no status byte', (g) => g.writeDesc(0, 0, { addr: BUF, len: 16, flags: 0, next: 0 })],
  ];

  it.each(cases)('%s: DEVICE_NEEDS_RESET, no data moved', (_name, build) => {
    const { g, disk } = blkGuest();
    expect(g.init(1n << F_VERSION_1)).toBe(OK_STATUS);
    header(g, 0);
    build(g);
    const diskBefore = disk.bytes.slice();
    g.submit(0, [0], 16, false);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
    expect(g.usedIdx(0)).toBe(0);
    expect(disk.bytes).toEqual(diskBefore);
    expect(g.errors.length).toBeGreaterThan(0);
    // Nothing more is processed until the driver resets the device; then it works again.
    g.submit(0, [0]);
    expect(g.usedIdx(0)).toBe(0);
    g.setReg(MMIO.STATUS, 0);
    expect(g.reg(MMIO.STATUS)).toBe(0);
    expect(g.irqLevel).toBe(false);
    expect(g.init(1n << F_VERSION_1)).toBe(OK_STATUS);
  });

  it('a head index outside the table', () => {
    const { g } = blkGuest();
    g.init(1n << F_VERSION_1);
    g.submit(0, [200], 16, false);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
  });

  it('an available index that jumps past the queue size', () => {
    const { g } = blkGuest();
    g.init(1n << F_VERSION_1);
    g.setU16(0x4000_0000 + 0x1_1000 + 2, 17);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
  });

  it('rings outside RAM', () => {
    const { g } = blkGuest();
    g.init(1n << F_VERSION_1);
    g.setReg(MMIO.STATUS, 0);
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    g.setFeatures(1n << F_VERSION_1);
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    g.setReg(MMIO.QUEUE_SEL, 0);
    g.setReg(MMIO.QUEUE_NUM, 16);
    g.setReg(MMIO.QUEUE_DRIVER_LOW, 0x1000); // not RAM
    g.setReg(MMIO.QUEUE_READY, 1);
    g.setReg(MMIO.STATUS, OK_STATUS);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
  });

  it('a notification for a queue that does not exist is ignored', () => {
    const { g } = blkGuest();
    g.init(1n << F_VERSION_1);
    g.setReg(MMIO.QUEUE_NOTIFY, 7);
    g.setReg(MMIO.QUEUE_NOTIFY, 0xffff_ffff);
    expect(g.needsReset).toBe(false);
  });
});

describe('hostile negotiation and queue setup (§3.1.1, §4.2.3.2)', () => {
  it('refuses FEATURES_OK for unoffered features or without VIRTIO_F_VERSION_1', () => {
    const { g } = blkGuest();
    expect(g.init((1n << F_VERSION_1) | (1n << 50n)) & STATUS.FEATURES_OK).toBe(0);
    expect(g.init(1n << 9n) & STATUS.FEATURES_OK).toBe(0);
    expect(g.init((1n << F_VERSION_1) | (1n << 9n))).toBe(OK_STATUS);
    expect(g.transport.features).toBe((1n << F_VERSION_1) | (1n << 9n));
  });

  it('a driver that changes features after FEATURES_OK puts the device in its error state', () => {
    const { g } = blkGuest();
    g.init((1n << F_VERSION_1) | (1n << 9n));
    g.setReg(MMIO.DRIVER_FEATURES_SEL, 0);
    g.setReg(MMIO.DRIVER_FEATURES, 1 << 9); // the same value again is harmless
    expect(g.needsReset).toBe(false);
    g.setReg(MMIO.DRIVER_FEATURES, (1 << 9) | (1 << 6));
    expect(g.needsReset).toBe(true);
    expect(g.transport.features).toBe((1n << F_VERSION_1) | (1n << 9n));
    expect(g.reg(MMIO.INTERRUPT_STATUS) & INT_CONFIG_CHANGE).toBe(INT_CONFIG_CHANGE);
  });

  it.each([0, 3, 512, 0x1_0000])('QueueReady with queue size %d is refused', (size) => {
    const { g } = blkGuest();
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    g.setFeatures(1n << F_VERSION_1);
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    g.setReg(MMIO.QUEUE_NUM, size);
    g.setReg(MMIO.QUEUE_DESC_LOW, BUF);
    g.setReg(MMIO.QUEUE_READY, 1);
    expect(g.reg(MMIO.QUEUE_READY)).toBe(0);
    expect(g.needsReset).toBe(true);
  });

  it('misaligned rings are refused', () => {
    const { g } = blkGuest();
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    g.setReg(MMIO.QUEUE_NUM, 16);
    g.setReg(MMIO.QUEUE_DESC_LOW, BUF + 8);
    g.setReg(MMIO.QUEUE_READY, 1);
    expect(g.reg(MMIO.QUEUE_READY)).toBe(0);
    expect(g.needsReset).toBe(true);
  });

  it('queue registers cannot change under a ready queue; DRIVER_OK needs FEATURES_OK', () => {
    const { g } = blkGuest();
    g.init(1n << F_VERSION_1);
    g.setReg(MMIO.QUEUE_SEL, 0);
    g.setReg(MMIO.QUEUE_NUM, 4);
    g.setReg(MMIO.QUEUE_DESC_LOW, 0);
    expect(g.transport.queues[0]!.size).toBe(16);
    g.setReg(MMIO.STATUS, 0);
    g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.DRIVER_OK);
    expect(g.reg(MMIO.STATUS) & STATUS.DRIVER_OK).toBe(0);
  });

  it('non-32-bit accesses to control registers read 0 and are ignored', () => {
    const { g } = blkGuest();
    expect(g.transport.read(MMIO.MAGIC_VALUE, 2)).toBe(0);
    g.transport.write(MMIO.STATUS, 1, 1);
    expect(g.reg(MMIO.STATUS)).toBe(0);
  });
});

describe('the bounce DMA path', () => {
  it('refuses rings and buffers outside the shared pool, and works inside it', () => {
    const { g, disk } = blkGuest({ bounce: true });
    // Only the ring pages are shared: the data buffer is private.
    g.pool.share(RAM_BASE + 0x1_0000, 4 * PAGE_SIZE);
    expect(g.init(1n << F_VERSION_1)).toBe(OK_STATUS);
    header(g, 0);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x1000, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x3000, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0], 16, false);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
    expect(g.transport.lastError).toMatch(/bounce pool/);
    // Share the buffers too: the same request now succeeds.
    g.pool.share(BUF, 4 * PAGE_SIZE);
    g.setReg(MMIO.STATUS, 0);
    expect(g.init(1n << F_VERSION_1)).toBe(OK_STATUS);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x1000, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x3000, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0]);
    expect(g.needsReset).toBe(false);
    const got = new Uint8Array(512);
    g.memory.dma.read(BUF + 0x1000, got);
    expect(got).toEqual(disk.bytes.subarray(0, 512));
  });

  it('refuses a used ring outside the pool without writing it', () => {
    const { g } = blkGuest({ bounce: true });
    g.pool.share(RAM_BASE + 0x1_0000, 2 * PAGE_SIZE); // descriptors and avail ring, not the used ring
    g.pool.share(BUF, 4 * PAGE_SIZE);
    g.init(1n << F_VERSION_1);
    header(g, 0);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x3000, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0]);
    expect(g.needsReset).toBe(true);
    expect(g.u16(usedAddr(0) + 2)).toBe(0);
  });
});

describe('virtio-console', () => {
  it('sends transmitq bytes to the host and host input to receive buffers', () => {
    const out: number[] = [];
    const console = new VirtioConsole((bytes) => out.push(...bytes));
    const g = new TestGuest(console);
    expect(g.init(1n << F_VERSION_1, 16, 2)).toBe(OK_STATUS);
    g.memory.dma.write(BUF, new TextEncoder().encode('hello'));
    g.writeDesc(1, 0, { addr: BUF, len: 5, flags: 0, next: 0 });
    g.submit(1, [0]);
    expect(String.fromCharCode(...out)).toBe('hello');
    expect(g.usedIdx(1)).toBe(1);
    // Input before any receive buffer waits; then fills buffers in order.
    console.input(new TextEncoder().encode('abcdefgh'));
    expect(g.usedIdx(0)).toBe(0);
    g.writeDesc(0, 0, { addr: BUF + 0x100, len: 3, flags: DESC_F_WRITE, next: 0 });
    g.writeDesc(0, 1, { addr: BUF + 0x200, len: 16, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0, 1]);
    expect(g.usedIdx(0)).toBe(2);
    expect(g.usedElem(0, 0)).toEqual({ id: 0, len: 3 });
    expect(g.usedElem(0, 1)).toEqual({ id: 1, len: 5 });
    const got = new Uint8Array(5);
    g.memory.dma.read(BUF + 0x200, got);
    expect(new TextDecoder().decode(got)).toBe('defgh');
    // Input while a buffer is available is delivered at once (with an interrupt).
    g.setReg(MMIO.INTERRUPT_ACK, 3);
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 16, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [2]);
    console.input(Uint8Array.of(0x21));
    expect(g.usedIdx(0)).toBe(3);
    expect(g.irqLevel).toBe(true);
  });
});
