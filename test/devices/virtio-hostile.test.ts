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

/** Sets queue 0 up by hand at the given ring addresses (the driver helper's layout is fixed). */
function configureQueue(g: TestGuest, rings: { desc: number; driver: number; device: number }, size = 16): void {
  g.setReg(MMIO.STATUS, 0);
  g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
  g.setFeatures(1n << F_VERSION_1);
  g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
  g.setReg(MMIO.QUEUE_SEL, 0);
  g.setReg(MMIO.QUEUE_NUM, size);
  g.setReg(MMIO.QUEUE_DESC_LOW, rings.desc);
  g.setReg(MMIO.QUEUE_DRIVER_LOW, rings.driver);
  g.setReg(MMIO.QUEUE_DEVICE_LOW, rings.device);
  g.setReg(MMIO.QUEUE_READY, 1);
  g.setReg(MMIO.STATUS, OK_STATUS);
}

/** A write request: header (OUT, sector 0), 512 bytes of 0x77, status byte, at descriptor 0..2 of table `desc`. */
function writeRequest(g: TestGuest, desc: number, data = BUF + 0x1000): void {
  header(g, 1);
  g.memory.dma.write(data, new Uint8Array(512).fill(0x77));
  const put = (index: number, d: { addr: number; len: number; flags: number; next: number }) => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint32(0, d.addr, true);
    v.setUint32(8, d.len, true);
    v.setUint16(12, d.flags, true);
    v.setUint16(14, d.next, true);
    g.memory.dma.write(desc + 16 * index, b);
  };
  put(0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
  put(1, { addr: data, len: 512, flags: DESC_F_NEXT, next: 2 });
  put(2, { addr: BUF + 0x3000, len: 1, flags: DESC_F_WRITE, next: 0 });
}

describe('ring layouts checked before any request is acted on (docs/devices.md)', () => {
  const DESC = RAM_BASE + 0x1_0000;
  const AVAIL = RAM_BASE + 0x1_1000;
  const submitHead0 = (g: TestGuest, avail: number) => {
    g.setU16(avail + 4, 0);
    g.setU16(avail + 2, 1);
  };

  it.each([
    ['a used ring 4 bytes before the end of RAM', { desc: DESC, driver: AVAIL, device: RAM_BASE + RAM_SIZE - 4 }],
    ['a used ring overlapping the descriptor table', { desc: DESC, driver: AVAIL, device: DESC + 0x40 }],
    ['an available ring overlapping the used ring', { desc: DESC, driver: RAM_BASE + 0x1_2000, device: RAM_BASE + 0x1_2000 + 8 }],
    ['a descriptor table running off the end of RAM', { desc: RAM_BASE + RAM_SIZE - 16 * 8, driver: AVAIL, device: RAM_BASE + 0x1_2000 }],
  ])('%s: DEVICE_NEEDS_RESET, the disk is not written', (_name, rings) => {
    const { g, disk } = blkGuest();
    configureQueue(g, rings);
    writeRequest(g, rings.desc);
    submitHead0(g, rings.driver);
    const diskBefore = disk.bytes.slice();
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expect(disk.bytes).toEqual(diskBefore);
    expectErrorState(g, before);
    expect(g.transport.lastError).toMatch(/device area|overlap|descriptor table/);
  });

  it('the same request with sane rings writes the disk (the cases above fail for their rings alone)', () => {
    const { g, disk } = blkGuest();
    const rings = { desc: DESC, driver: AVAIL, device: RAM_BASE + 0x1_2000 };
    configureQueue(g, rings);
    writeRequest(g, rings.desc);
    submitHead0(g, rings.driver);
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expect(g.needsReset).toBe(false);
    expect(disk.bytes.subarray(0, 512)).toEqual(new Uint8Array(512).fill(0x77));
  });
});

describe('hostile buffers (docs/devices.md)', () => {
  it('a device-writable descriptor aimed at MMIO: error state, the device register is never touched', () => {
    const { g } = blkGuest();
    const touched: string[] = [];
    g.memory.space.addMmio(0x0a00_0000, 0x1000, 'probe', {
      read: (offset) => (touched.push(`read ${offset}`), 0),
      write: (offset) => void touched.push(`write ${offset}`),
    });
    g.init(1n << F_VERSION_1);
    header(g, 0);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: 0x0a00_0000, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0], 16, false);
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
    expect(touched).toEqual([]);
  });

  it('a device-writable buffer over the used ring: error state, ring untouched', () => {
    const { g, disk } = blkGuest();
    g.init(1n << F_VERSION_1);
    header(g, 0);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: usedAddr(0), len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0], 16, false);
    const diskBefore = disk.bytes.slice();
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
    expect(g.transport.lastError).toMatch(/overlaps the device area/);
    expect(disk.bytes).toEqual(diskBefore);
  });

  it('a device-readable buffer over a ring is allowed (the device only reads it)', () => {
    const { g, disk } = blkGuest();
    g.init(1n << F_VERSION_1);
    header(g, 1);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: usedAddr(0), len: 512, flags: DESC_F_NEXT, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0]);
    expect(g.needsReset).toBe(false);
    expect(g.u16(BUF + 0x300) & 0xff).toBe(0);
    expect(disk.bytes[0]).toBe(0); // the used ring's first byte (flags = 0) went to the disk
  });

  it('a zero-length buffer: error state, nothing moved', () => {
    const { g, disk } = blkGuest();
    g.init(1n << F_VERSION_1);
    header(g, 0);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x100, len: 0, flags: DESC_F_NEXT | DESC_F_WRITE, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    g.submit(0, [0], 16, false);
    const diskBefore = disk.bytes.slice();
    const before = g.ram();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expectErrorState(g, before);
    expect(g.transport.lastError).toMatch(/zero-length/);
    expect(disk.bytes).toEqual(diskBefore);
  });

  it.each([
    ['the sector after the last', 64, 0],
    ['a request that runs past the end', 63, 0],
    ['sector 2^53 - 1', 2 ** 21 - 1, 0xffff_ffff],
    ['sector 2^64 - 1 (overflows any arithmetic)', 0xffff_ffff, 0xffff_ffff],
  ])('sector overflow, %s: VIRTIO_BLK_S_IOERR, no data moved, the device stays usable', (_name, sectorHiOrLo, lo) => {
    const { g, disk } = blkGuest();
    g.init(1n << F_VERSION_1);
    const h = new Uint8Array(16);
    const v = new DataView(h.buffer);
    v.setUint32(0, 1, true); // OUT
    if (sectorHiOrLo <= 64) v.setUint32(8, sectorHiOrLo, true);
    else {
      v.setUint32(8, lo, true);
      v.setUint32(12, sectorHiOrLo, true);
    }
    g.memory.dma.write(BUF, h);
    g.writeDesc(0, 0, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 1 });
    g.writeDesc(0, 1, { addr: BUF + 0x1000, len: 1024, flags: DESC_F_NEXT, next: 2 });
    g.writeDesc(0, 2, { addr: BUF + 0x300, len: 1, flags: DESC_F_WRITE, next: 0 });
    const diskBefore = disk.bytes.slice();
    g.submit(0, [0]);
    expect(g.needsReset).toBe(false);
    expect(g.u16(BUF + 0x300) & 0xff).toBe(1); // VIRTIO_BLK_S_IOERR
    expect(disk.bytes).toEqual(diskBefore);
  });

  it('the available index wraps around 65535 -> 0: every request is served once, in order', () => {
    const { g, disk } = blkGuest();
    g.init(1n << F_VERSION_1);
    const q = g.transport.queues[0]!;
    q.lastAvail = 0xfffe;
    q.usedIdx = 0xfffe;
    header(g, 0);
    for (let i = 0; i < 4; i++) {
      g.writeDesc(0, 3 * i, { addr: BUF, len: 16, flags: DESC_F_NEXT, next: 3 * i + 1 });
      g.writeDesc(0, 3 * i + 1, { addr: BUF + 0x1000 + 512 * i, len: 512, flags: DESC_F_NEXT | DESC_F_WRITE, next: 3 * i + 2 });
      g.writeDesc(0, 3 * i + 2, { addr: BUF + 0x300 + i, len: 1, flags: DESC_F_WRITE, next: 0 });
    }
    // Entries 0xfffe, 0xffff, 0, 1 of the free-running index, at ring slots idx % 16.
    [0xfffe, 0xffff, 0, 1].forEach((idx, i) => g.setU16(0x4000_0000 + 0x1_1000 + 4 + 2 * (idx % 16), 3 * i));
    g.setU16(0x4000_0000 + 0x1_1000 + 2, 2);
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    expect(g.needsReset).toBe(false);
    expect(g.usedIdx(0)).toBe(2);
    expect([0xfffe, 0xffff, 0, 1].map((n) => g.usedElem(0, n).id)).toEqual([0, 3, 6, 9]);
    const got = new Uint8Array(512);
    g.memory.dma.read(BUF + 0x1000 + 512 * 3, got);
    expect(got).toEqual(disk.bytes.subarray(0, 512));
  });
});
