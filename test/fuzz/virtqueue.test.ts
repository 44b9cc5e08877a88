/**
 * Fuzz target: virtqueue layouts (ring placement and size, descriptor tables, available ring and
 * index) against virtio-blk, through the MMIO transport (docs/fuzzing.md, docs/devices.md). The
 * device must not throw, must write guest RAM only inside device-writable buffers and its used
 * ring, must not write the disk when it ends in DEVICE_NEEDS_RESET before completing anything,
 * and must either complete every available chain or enter DEVICE_NEEDS_RESET.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DESC_F_WRITE, F_VERSION_1, MemoryDisk, MMIO, STATUS, VirtioBlk } from '../../src/vmm/devices/virtio/index.js';
import { BUF, RAM_BASE, RAM_SIZE, TestGuest, type Desc } from '../devices/virtio-driver.js';
import { fuzz, FUZZ_TEST_TIMEOUT, fuzzOptions, WrongfulAcceptance, type FuzzTarget } from './harness.js';

interface Layout {
  size: number;
  desc: number;
  driver: number;
  device: number;
  table: Desc[];
  heads: number[];
  availIdx: number;
  start: number;
}

const DESC = RAM_BASE + 0x1_0000;
const AVAIL = RAM_BASE + 0x1_1000;
const USED = RAM_BASE + 0x1_2000;
const place = (normal: number) => fc.oneof({ weight: 6, arbitrary: fc.constant(normal) }, { weight: 1, arbitrary: fc.constantFrom(RAM_BASE + RAM_SIZE - 4, RAM_BASE + RAM_SIZE - 64, DESC, AVAIL, USED + 4, 0x0a00_0000, 0x1000) });
const addr = fc.oneof(fc.integer({ min: 0, max: 63 }).map((i) => BUF + i * 256), fc.constantFrom(0, 0x0a00_0000, RAM_BASE + RAM_SIZE - 8, DESC, AVAIL, USED, 2 ** 52), fc.integer({ min: RAM_BASE, max: RAM_BASE + RAM_SIZE - 1 }));
const len = fc.oneof(fc.constantFrom(0, 1, 16, 512, 513, 4096, 0xffff_ffff), fc.integer({ min: 0, max: 5000 }));

const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom(1, 2, 4, 8).chain((size) =>
  fc.record({
    size: fc.constant(size),
    desc: place(DESC),
    driver: place(AVAIL),
    device: place(USED),
    table: fc.array(fc.record({ addr, len, flags: fc.integer({ min: 0, max: 7 }), next: fc.integer({ min: 0, max: size + 1 }) }), { minLength: size, maxLength: size }),
    heads: fc.array(fc.integer({ min: 0, max: size + 1 }), { minLength: size, maxLength: size }),
    availIdx: fc.integer({ min: 0, max: size + 2 }),
    start: fc.constantFrom(0, 0xfffe, 0xffff, 0x7fff),
  }),
);

function setup(l: Layout): { g: TestGuest; disk: MemoryDisk } {
  const disk = new MemoryDisk(new Uint8Array(64 * 512).fill(0xd5));
  const g = new TestGuest(new VirtioBlk(disk));
  g.init(1n << F_VERSION_1, l.size);
  // Re-point the queue at the layout's rings (the helper's are fixed), then resume at `start`.
  g.setReg(MMIO.STATUS, 0);
  g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
  g.setFeatures(1n << F_VERSION_1);
  g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
  g.setReg(MMIO.QUEUE_SEL, 0);
  g.setReg(MMIO.QUEUE_NUM, l.size);
  g.setReg(MMIO.QUEUE_DESC_LOW, l.desc);
  g.setReg(MMIO.QUEUE_DRIVER_LOW, l.driver);
  g.setReg(MMIO.QUEUE_DEVICE_LOW, l.device);
  g.setReg(MMIO.QUEUE_READY, 1);
  g.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  const q = g.transport.queues[0]!;
  q.lastAvail = l.start;
  q.usedIdx = l.start;
  const inRam = (a: number, n: number) => a >= RAM_BASE && a + n <= RAM_BASE + RAM_SIZE;
  const put = (a: number, bytes: Uint8Array) => inRam(a, bytes.length) && g.memory.dma.write(a, bytes);
  l.table.forEach((d, i) => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint32(0, d.addr % 2 ** 32, true);
    v.setUint32(4, Math.floor(d.addr / 2 ** 32), true);
    v.setUint32(8, d.len >>> 0, true);
    v.setUint16(12, d.flags, true);
    v.setUint16(14, d.next, true);
    put(l.desc + 16 * i, b);
  });
  l.heads.forEach((h, i) => put(l.driver + 4 + 2 * ((l.start + i) % l.size), Uint8Array.of(h & 0xff, h >> 8)));
  const idx = (l.start + l.availIdx) & 0xffff;
  put(l.driver + 2, Uint8Array.of(idx & 0xff, idx >> 8));
  put(BUF, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)); // an OUT header at the usual place
  return { g, disk };
}

export const virtqueueTarget: FuzzTarget<Layout> = {
  name: 'virtqueue-layouts',
  input: layoutArb,
  run(l) {
    const { g, disk } = setup(l);
    if (g.needsReset) return 'refused';
    const before = g.ram();
    const diskBefore = disk.bytes.slice();
    g.setReg(MMIO.QUEUE_NOTIFY, 0);
    const after = g.ram();
    const q = g.transport.queues[0]!;
    const completed = (q.usedIdx - l.start) & 0xffff;
    // Where the device may write: its used ring, and the writable buffers of the table.
    const allowed: [number, number][] = [[l.device, 6 + 8 * l.size]];
    for (const d of l.table) if ((d.flags & DESC_F_WRITE) !== 0) allowed.push([d.addr, d.len]);
    for (let i = 0; i < after.length; i++) {
      if (after[i] === before[i]) continue;
      const at = RAM_BASE + i;
      if (!allowed.some(([a, n]) => at >= a && at < a + n)) throw new WrongfulAcceptance(`the device wrote 0x${at.toString(16)}, outside its used ring and writable buffers`);
    }
    if (g.needsReset) {
      if (completed === 0 && !disk.bytes.every((b, i) => b === diskBefore[i])) throw new WrongfulAcceptance('the disk was written by a notification that ended in DEVICE_NEEDS_RESET with nothing completed');
      return 'refused';
    }
    if (completed !== l.availIdx) throw new Error(`completed ${completed} of ${l.availIdx} chains without entering DEVICE_NEEDS_RESET`);
    return 'accepted';
  },
};

describe('fuzzing virtqueue layouts', () => {
  it('no crash, no stray write, every chain completed or the device needs reset', async () => {
    const report = await fuzz(virtqueueTarget, fuzzOptions(400));
    expect(report.firstProblem).toBeUndefined();
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.refusals).toBeGreaterThan(0);
  }, FUZZ_TEST_TIMEOUT);
});
