import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../src/memory/index.js';
import {
  BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_FLUSH, BLK_T_GET_ID, BLK_T_IN, BLK_T_OUT, DESC_F_NEXT, DESC_F_WRITE, F_VERSION_1, INT_USED_BUFFER, MemoryDisk, MMIO, STATUS, VirtioBlk,
} from '../../src/vmm/devices/virtio/index.js';
import { BUF, RAM_BASE, TestGuest } from './virtio-driver.js';

const HDR = BUF;
const DATA = BUF + 0x1000;
const STAT = BUF + 0x3000;

function disk(sectors = 64, readOnly = false): MemoryDisk {
  const bytes = new Uint8Array(sectors * 512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return new MemoryDisk(bytes, readOnly, 'disk-id-1');
}

/** One request: header, optional data descriptor, status. Returns the status byte and used length. */
function request(g: TestGuest, type: number, sector: number, dataLen: number, head = 0): { status: number; len: number } {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setUint32(8, sector % 2 ** 32, true);
  v.setUint32(12, Math.floor(sector / 2 ** 32), true);
  g.memory.dma.write(HDR, h);
  g.memory.dma.write(STAT, Uint8Array.of(0xaa));
  const deviceWrites = type !== BLK_T_OUT;
  let n = head;
  g.writeDesc(0, n, { addr: HDR, len: 16, flags: DESC_F_NEXT, next: n + 1 });
  n++;
  if (dataLen > 0) {
    g.writeDesc(0, n, { addr: DATA, len: dataLen, flags: DESC_F_NEXT | (deviceWrites ? DESC_F_WRITE : 0), next: n + 1 });
    n++;
  }
  g.writeDesc(0, n, { addr: STAT, len: 1, flags: DESC_F_WRITE, next: 0 });
  const before = g.usedIdx(0);
  g.submit(0, [head]);
  expect(g.usedIdx(0)).toBe((before + 1) & 0xffff);
  const status = new Uint8Array(1);
  g.memory.dma.read(STAT, status);
  return { status: status[0]!, len: g.usedElem(0, before).len };
}

function ready(options: { readOnly?: boolean; mte?: boolean; bounce?: boolean } = {}): { g: TestGuest; d: MemoryDisk } {
  const d = disk(64, options.readOnly);
  const g = new TestGuest(new VirtioBlk(d), options);
  if (options.bounce) g.pool.share(RAM_BASE, 64 * PAGE_SIZE);
  expect(g.init(1n << F_VERSION_1)).toBe(STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  return { g, d };
}

describe('virtio-blk requests (virtio 1.2 §5.2.6)', () => {
  it('reads sectors into guest memory and reports data + status written', () => {
    const { g, d } = ready();
    const r = request(g, BLK_T_IN, 3, 1024);
    expect(r).toEqual({ status: BLK_S_OK, len: 1025 });
    const got = new Uint8Array(1024);
    g.memory.dma.read(DATA, got);
    expect(got).toEqual(d.bytes.subarray(3 * 512, 5 * 512));
    expect(g.irqLevel).toBe(true);
    expect(g.reg(MMIO.INTERRUPT_STATUS)).toBe(INT_USED_BUFFER);
    g.setReg(MMIO.INTERRUPT_ACK, INT_USED_BUFFER);
    expect(g.irqLevel).toBe(false);
  });

  it('writes sectors, flushes, and returns the id', () => {
    const { g, d } = ready();
    const src = new Uint8Array(512).fill(0x5c);
    g.memory.dma.write(DATA, src);
    expect(request(g, BLK_T_OUT, 10, 512)).toEqual({ status: BLK_S_OK, len: 1 });
    expect(d.bytes.subarray(10 * 512, 11 * 512)).toEqual(src);
    expect(request(g, BLK_T_FLUSH, 0, 0)).toEqual({ status: BLK_S_OK, len: 1 });
    const id = request(g, BLK_T_GET_ID, 0, 20);
    expect(id.status).toBe(BLK_S_OK);
    const idBytes = new Uint8Array(20);
    g.memory.dma.read(DATA, idBytes);
    expect(new TextDecoder().decode(idBytes.subarray(0, 9))).toBe('disk-id-1');
    expect(idBytes[9]).toBe(0);
  });

  it('fails requests beyond the capacity or not in whole sectors with IOERR, unknown types with UNSUPP', () => {
    const { g, d } = ready();
    const before = d.bytes.slice();
    expect(request(g, BLK_T_IN, 64, 512).status).toBe(BLK_S_IOERR);
    expect(request(g, BLK_T_IN, 63, 1024).status).toBe(BLK_S_IOERR);
    expect(request(g, BLK_T_OUT, 2 ** 40, 512).status).toBe(BLK_S_IOERR);
    expect(request(g, BLK_T_IN, 0, 100).status).toBe(BLK_S_IOERR);
    expect(request(g, 99, 0, 512).status).toBe(BLK_S_UNSUPP);
    expect(d.bytes).toEqual(before);
    expect(g.needsReset).toBe(false);
  });

  it('a read-only disk advertises VIRTIO_BLK_F_RO and refuses writes with IOERR, writing nothing', () => {
    const { g, d } = ready({ readOnly: true });
    g.setReg(MMIO.DEVICE_FEATURES_SEL, 0);
    expect(g.reg(MMIO.DEVICE_FEATURES) & (1 << 5)).toBe(1 << 5);
    const before = d.bytes.slice();
    g.memory.dma.write(DATA, new Uint8Array(512).fill(1));
    expect(request(g, BLK_T_OUT, 0, 512)).toEqual({ status: BLK_S_IOERR, len: 1 });
    expect(d.bytes).toEqual(before);
    expect(request(g, BLK_T_IN, 0, 512).status).toBe(BLK_S_OK);
  });

  it('DMA leaves allocation tags alone and marks the written pages dirty', () => {
    const { g } = ready({ mte: true });
    const region = g.memory.space.ramRegions[0]!;
    g.memory.debug.writeTags(DATA, 2048, Uint8Array.of(0x3, 0x9));
    const tagsBefore = g.memory.debug.readTags(RAM_BASE, 64 * PAGE_SIZE);
    region.dirtyLogging = true;
    region.dataDirty.clear();
    region.tagDirty.clear();
    expect(request(g, BLK_T_IN, 0, 2048).status).toBe(BLK_S_OK);
    expect(g.memory.debug.readTags(RAM_BASE, 64 * PAGE_SIZE)).toEqual(tagsBefore);
    const dirty = region.dataDirty.takeAndClear().toBytes();
    const page = (DATA - RAM_BASE) / PAGE_SIZE;
    expect((dirty[page >> 3]! >> (page & 7)) & 1).toBe(1);
    expect(region.tagDirty.takeAndClear().toBytes().every((b) => b === 0)).toBe(true);
  });

  it('config space reports capacity, seg_max and blk_size', () => {
    const { g } = ready();
    expect(g.transport.read(MMIO.CONFIG, 4)).toBe(64);
    expect(g.transport.read(MMIO.CONFIG + 4, 4)).toBe(0);
    expect(g.transport.read(MMIO.CONFIG + 0x0c, 4)).toBe(254);
    expect(g.transport.read(MMIO.CONFIG + 0x14, 4)).toBe(512);
    expect(g.transport.read(MMIO.CONFIG + 0x14, 2)).toBe(512);
    expect(g.transport.read(MMIO.CONFIG + 0x400, 4)).toBe(0);
  });
});
