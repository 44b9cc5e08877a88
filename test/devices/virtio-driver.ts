/**
 * A virtio-mmio driver written in TypeScript for device tests: it lays out a split virtqueue in
 * guest RAM, negotiates, and submits chains, all through the transport's MMIO registers and the
 * guest's memory, exactly as guest code would. Hostile tests write raw descriptors and indices.
 */
import { GuestMemory, PageOwnership } from '../../src/memory/index.js';
import { BounceDma, DirectDma, type DmaPath } from '../../src/vmm/dma-path.js';
import { MMIO, STATUS, VirtioMmioTransport, type VirtioDevice } from '../../src/vmm/devices/virtio/index.js';

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 64 * 4096;
/** Ring layout of queue q: descriptors, avail ring, used ring, one page each. */
export const ringBase = (q: number): number => RAM_BASE + 0x1_0000 + q * 0x4000;
export const descAddr = (q: number): number => ringBase(q);
export const availAddr = (q: number): number => ringBase(q) + 0x1000;
export const usedAddr = (q: number): number => ringBase(q) + 0x2000;
/** Buffers for requests. */
export const BUF = RAM_BASE + 0x2_0000;

export interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

export class TestGuest {
  readonly memory = new GuestMemory();
  readonly pool: PageOwnership;
  readonly dma: DmaPath;
  readonly transport: VirtioMmioTransport;
  irqLevel = false;
  irqEdges = 0;
  errors: string[] = [];
  private availIdx: number[] = [];

  constructor(device: VirtioDevice, options: { mte?: boolean; bounce?: boolean } = {}) {
    this.memory.addRam(RAM_BASE, RAM_SIZE);
    if (options.mte) this.memory.enableMte();
    this.pool = new PageOwnership(this.memory.space);
    this.dma = options.bounce ? new BounceDma(this.memory, this.pool) : new DirectDma(this.memory);
    this.transport = new VirtioMmioTransport(31, device, this.dma, (level) => {
      if (level && !this.irqLevel) this.irqEdges++;
      this.irqLevel = level;
    }, (message) => this.errors.push(message));
  }

  reg(offset: number): number {
    return this.transport.read(offset, 4) >>> 0;
  }

  setReg(offset: number, value: number): void {
    this.transport.write(offset, 4, value >>> 0);
  }

  u16(addr: number): number {
    const b = new Uint8Array(2);
    this.memory.dma.read(addr, b);
    return b[0]! | (b[1]! << 8);
  }

  u32(addr: number): number {
    const b = new Uint8Array(4);
    this.memory.dma.read(addr, b);
    return new DataView(b.buffer).getUint32(0, true);
  }

  setU16(addr: number, value: number): void {
    this.memory.dma.write(addr, Uint8Array.of(value & 0xff, (value >> 8) & 0xff));
  }

  writeDesc(q: number, index: number, d: Desc): void {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint32(0, d.addr % 2 ** 32, true);
    v.setUint32(4, Math.floor(d.addr / 2 ** 32), true);
    v.setUint32(8, d.len >>> 0, true);
    v.setUint16(12, d.flags, true);
    v.setUint16(14, d.next, true);
    this.memory.dma.write(descAddr(q) + 16 * index, b);
  }

  /** §3.1.1 initialisation with `features` accepted; returns the final status. */
  init(features: bigint, queueSize = 16, queues = 1): number {
    this.setReg(MMIO.STATUS, 0);
    this.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE);
    this.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    this.setFeatures(features);
    this.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    if ((this.reg(MMIO.STATUS) & STATUS.FEATURES_OK) === 0) return this.reg(MMIO.STATUS);
    for (let q = 0; q < queues; q++) this.setupQueue(q, queueSize);
    this.setReg(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    return this.reg(MMIO.STATUS);
  }

  setFeatures(features: bigint): void {
    this.setReg(MMIO.DRIVER_FEATURES_SEL, 0);
    this.setReg(MMIO.DRIVER_FEATURES, Number(features & 0xffff_ffffn));
    this.setReg(MMIO.DRIVER_FEATURES_SEL, 1);
    this.setReg(MMIO.DRIVER_FEATURES, Number((features >> 32n) & 0xffff_ffffn));
  }

  setupQueue(q: number, size: number): void {
    this.memory.dma.write(ringBase(q), new Uint8Array(0x3000)); // a driver starts with empty rings
    this.setReg(MMIO.QUEUE_SEL, q);
    this.setReg(MMIO.QUEUE_NUM, size);
    for (const [lo, hi, addr] of [
      [MMIO.QUEUE_DESC_LOW, MMIO.QUEUE_DESC_HIGH, descAddr(q)],
      [MMIO.QUEUE_DRIVER_LOW, MMIO.QUEUE_DRIVER_HIGH, availAddr(q)],
      [MMIO.QUEUE_DEVICE_LOW, MMIO.QUEUE_DEVICE_HIGH, usedAddr(q)],
    ] as const) {
      this.setReg(lo, addr % 2 ** 32);
      this.setReg(hi, Math.floor(addr / 2 ** 32));
    }
    this.setReg(MMIO.QUEUE_READY, 1);
    this.availIdx[q] = 0;
  }

  /** Puts chain heads on the available ring (free-running index), then notifies. */
  submit(q: number, heads: number[], size = 16, notify = true): void {
    let idx = this.availIdx[q] ?? 0;
    for (const head of heads) {
      this.setU16(availAddr(q) + 4 + 2 * (idx % size), head);
      idx = (idx + 1) & 0xffff;
    }
    this.availIdx[q] = idx;
    this.setU16(availAddr(q) + 2, idx);
    if (notify) this.setReg(MMIO.QUEUE_NOTIFY, q);
  }

  usedIdx(q: number): number {
    return this.u16(usedAddr(q) + 2);
  }

  usedElem(q: number, n: number, size = 16): { id: number; len: number } {
    const at = usedAddr(q) + 4 + 8 * (n % size);
    return { id: this.u32(at), len: this.u32(at + 4) };
  }

  get needsReset(): boolean {
    return (this.reg(MMIO.STATUS) & STATUS.DEVICE_NEEDS_RESET) !== 0;
  }

  /** All guest RAM bytes (to prove what a device did not touch). */
  ram(): Uint8Array {
    const copy = new Uint8Array(RAM_SIZE);
    this.memory.dma.read(RAM_BASE, copy);
    return copy;
  }
}
