/**
 * The virtio-mmio transport, modern interface (virtio 1.2 §4.2, "Virtio Over MMIO", Version 2),
 * one 0x200-byte window per slot as on QEMU's virt board. A slot without a device reads as device
 * ID 0 ("no device", §4.2.3.1.1) with the usual magic, version and vendor.
 *
 * Untrusted driver behaviour and what the device does about it:
 * - FEATURES_OK with features the device did not offer or without VIRTIO_F_VERSION_1: FEATURES_OK
 *   is not set (§3.1.1 step 6: the driver re-reads the status and sees it refused);
 * - DriverFeatures changed after FEATURES_OK (§3.1.1: feature negotiation is over): ignored, and
 *   the device enters its error state;
 * - QueueReady with a bad size or misaligned rings (§2.7, §4.2.3.2), a malformed chain or ring
 *   (queue.ts): error state.
 * The error state is §2.1.2's: DEVICE_NEEDS_RESET is set, a configuration change notification is
 * sent if DRIVER_OK was set, and the device processes nothing more until the driver resets it.
 * Control registers take 32-bit accesses only (§4.2.2.2); other sizes read 0 and are ignored.
 */
import { expectState, StateError, type Shape, type Stateful } from '../../../common/persist.js';
import type { MmioHandler } from '../../../memory/index.js';
import type { DmaPath } from '../../dma-path.js';
import { F_VERSION_1, INT_CONFIG_CHANGE, INT_USED_BUFFER, MMIO, MMIO_MAGIC, MMIO_VENDOR, MMIO_VERSION, STATUS, bit } from './constants.js';
import type { VirtioDevice } from './device.js';
import { SplitQueue, VirtqueueError, type QueueState } from './queue.js';

export interface TransportState {
  readonly deviceId: number;
  readonly status: number;
  readonly deviceFeaturesSel: number;
  readonly driverFeaturesSel: number;
  /** DriverFeatures words 0 and 1 as written, and the features accepted at FEATURES_OK. */
  readonly driverFeatures: readonly [number, number];
  readonly negotiated: readonly [number, number];
  readonly queueSel: number;
  readonly shmSel: number;
  readonly interruptStatus: number;
  readonly queues: readonly QueueState[];
  readonly device: unknown;
}

export class VirtioMmioTransport implements MmioHandler, Stateful<TransportState> {
  readonly stateName: string;
  readonly stateVersion = 1;
  readonly queues: SplitQueue[];
  status = 0;
  interruptStatus = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures: [number, number] = [0, 0];
  private negotiated = 0n;
  private queueSel = 0;
  private shmSel = 0;
  /** Why the device last entered its error state (for tests and the VMM's log). */
  lastError: string | null = null;

  constructor(
    readonly slot: number,
    readonly device: VirtioDevice | null,
    private readonly dma: DmaPath,
    /** Drives the transport's interrupt line (an SPI). */
    private readonly irq: (level: boolean) => void,
    /** Reports a guest error (the device entered DEVICE_NEEDS_RESET). */
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.stateName = `virtio-mmio${slot}`;
    this.queues = (device?.queueSizes ?? []).map((max) => new SplitQueue(max, dma));
    if (device) device.onHostEvent = (queue) => this.serve(queue);
  }

  get offered(): bigint {
    return this.device ? this.device.features | bit(F_VERSION_1) : 0n;
  }

  get features(): bigint {
    return this.negotiated;
  }

  /** Device reset (§2.4): status 0, features, queues and interrupt state cleared. */
  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = this.driverFeaturesSel = 0;
    this.driverFeatures = [0, 0];
    this.negotiated = 0n;
    this.queueSel = this.shmSel = 0;
    for (const q of this.queues) q.reset();
    this.device?.reset();
    this.setInterrupt(0);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset >= MMIO.CONFIG) return this.device ? this.device.readConfig(offset - MMIO.CONFIG, size) >>> 0 : 0;
    if (size !== 4) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MMIO.MAGIC_VALUE:
        return MMIO_MAGIC;
      case MMIO.VERSION:
        return MMIO_VERSION;
      case MMIO.DEVICE_ID:
        return this.device?.deviceId ?? 0;
      case MMIO.VENDOR_ID:
        return MMIO_VENDOR;
    }
    if (!this.device) return 0;
    switch (offset) {
      case MMIO.DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case MMIO.QUEUE_NUM_MAX:
        return q?.maxSize ?? 0;
      case MMIO.QUEUE_READY:
        return q?.ready ? 1 : 0;
      case MMIO.INTERRUPT_STATUS:
        return this.interruptStatus;
      case MMIO.STATUS:
        return this.status;
      case MMIO.SHM_LEN_LOW:
      case MMIO.SHM_LEN_HIGH:
      case MMIO.SHM_BASE_LOW:
      case MMIO.SHM_BASE_HIGH:
        return 0xffff_ffff; // no shared memory regions: length (and base) read as -1
      case MMIO.CONFIG_GENERATION:
        return 0; // the configuration never changes while the driver runs
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.device) return;
    if (offset >= MMIO.CONFIG) {
      this.device.writeConfig(offset - MMIO.CONFIG, size, value);
      return;
    }
    if (size !== 4) return;
    value >>>= 0;
    const q = this.queues[this.queueSel];
    const idle = q !== undefined && !q.ready;
    switch (offset) {
      case MMIO.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = value;
        return;
      case MMIO.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = value;
        return;
      case MMIO.DRIVER_FEATURES:
        this.writeDriverFeatures(value);
        return;
      case MMIO.QUEUE_SEL:
        this.queueSel = value;
        return;
      case MMIO.QUEUE_NUM:
        if (idle) q.size = value;
        return;
      case MMIO.QUEUE_READY:
        if (q) this.setQueueReady(q, (value & 1) === 1);
        return;
      case MMIO.QUEUE_DESC_LOW:
      case MMIO.QUEUE_DESC_HIGH:
        if (idle) q.desc[offset === MMIO.QUEUE_DESC_LOW ? 0 : 1] = value;
        return;
      case MMIO.QUEUE_DRIVER_LOW:
      case MMIO.QUEUE_DRIVER_HIGH:
        if (idle) q.driver[offset === MMIO.QUEUE_DRIVER_LOW ? 0 : 1] = value;
        return;
      case MMIO.QUEUE_DEVICE_LOW:
      case MMIO.QUEUE_DEVICE_HIGH:
        if (idle) q.device[offset === MMIO.QUEUE_DEVICE_LOW ? 0 : 1] = value;
        return;
      case MMIO.QUEUE_NOTIFY:
        this.serve(value);
        return;
      case MMIO.INTERRUPT_ACK:
        this.setInterrupt(this.interruptStatus & ~value);
        return;
      case MMIO.STATUS:
        this.writeStatus(value & 0xff);
        return;
      case MMIO.SHM_SEL:
        this.shmSel = value;
        return;
    }
  }

  private writeDriverFeatures(value: number): void {
    const sel = this.driverFeaturesSel;
    if ((this.status & STATUS.FEATURES_OK) !== 0) {
      const current = sel <= 1 ? this.driverFeatures[sel]! : 0;
      if (value !== current) this.fail('the driver changed its features after FEATURES_OK');
      return;
    }
    if (sel <= 1) this.driverFeatures[sel] = value;
    else if (value !== 0) this.driverFeatures = [this.driverFeatures[0], this.driverFeatures[1] | 0x8000_0000]; // unoffered high bits: refused at FEATURES_OK
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    let next = value | (old & STATUS.DEVICE_NEEDS_RESET);
    if ((value & STATUS.FEATURES_OK) !== 0 && (old & STATUS.FEATURES_OK) === 0) {
      const wanted = (BigInt(this.driverFeatures[1] >>> 0) << 32n) | BigInt(this.driverFeatures[0] >>> 0);
      if ((wanted & ~this.offered) !== 0n || (wanted & bit(F_VERSION_1)) === 0n) next &= ~STATUS.FEATURES_OK;
      else this.negotiated = wanted;
    }
    if ((next & STATUS.DRIVER_OK) !== 0 && (next & STATUS.FEATURES_OK) === 0) next &= ~STATUS.DRIVER_OK;
    this.status = next;
    if ((next & STATUS.DRIVER_OK) !== 0 && (old & STATUS.DRIVER_OK) === 0) {
      for (let i = 0; i < this.queues.length; i++) this.serve(i);
    }
  }

  private setQueueReady(q: SplitQueue, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    const problem = q.configError();
    if (problem) {
      this.fail(`queue ${this.queueSel}: ${problem}`);
      return;
    }
    q.ready = true;
  }

  /** Serves a queue after a notification or a host event, when the device is live. */
  serve(index: number): void {
    const q = this.queues[index];
    if (!q || !this.device || !q.ready) return;
    if ((this.status & (STATUS.DRIVER_OK | STATUS.DEVICE_NEEDS_RESET)) !== STATUS.DRIVER_OK) return;
    // The rings are checked before any request is acted on (queue.ts).
    const rings = q.ringsError();
    if (rings) {
      this.fail(`queue ${index}: ${rings}`);
      return;
    }
    const before = q.usedIdx;
    try {
      this.device.process(index, q, this.dma, this.negotiated);
    } catch (error) {
      if (!(error instanceof VirtqueueError)) throw error;
      this.fail(`queue ${index}: ${error.message}`);
    }
    if (q.usedIdx !== before && !this.suppressed(q)) this.setInterrupt(this.interruptStatus | INT_USED_BUFFER);
  }

  private suppressed(q: SplitQueue): boolean {
    try {
      return q.interruptSuppressed();
    } catch (error) {
      if (!(error instanceof VirtqueueError)) throw error;
      this.fail(error.message);
      return false;
    }
  }

  /** §2.1.2: the device's error state. */
  private fail(message: string): void {
    this.lastError = message;
    this.onError(`virtio-mmio slot ${this.slot} (${this.device?.kind ?? 'empty'}): ${message}; device needs reset`);
    if ((this.status & STATUS.DEVICE_NEEDS_RESET) !== 0) return;
    this.status |= STATUS.DEVICE_NEEDS_RESET;
    if ((this.status & STATUS.DRIVER_OK) !== 0) this.setInterrupt(this.interruptStatus | INT_CONFIG_CHANGE);
  }

  private setInterrupt(value: number): void {
    const was = this.interruptStatus !== 0;
    this.interruptStatus = value & (INT_USED_BUFFER | INT_CONFIG_CHANGE);
    const now = this.interruptStatus !== 0;
    if (now !== was) this.irq(now);
  }

  // ---- save / restore ----

  save(): TransportState {
    return {
      deviceId: this.device?.deviceId ?? 0,
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: [...this.driverFeatures],
      negotiated: [Number(this.negotiated & 0xffff_ffffn), Number(this.negotiated >> 32n)],
      queueSel: this.queueSel,
      shmSel: this.shmSel,
      interruptStatus: this.interruptStatus,
      queues: this.queues.map((q) => q.save()),
      device: this.device?.saveDevice() ?? {},
    };
  }

  stateShape(): Shape {
    const pair: Shape = { arrayOf: 'integer', max: 2 };
    const queue: Shape = { fields: { size: 'integer', ready: 'boolean', desc: pair, driver: pair, device: pair, lastAvail: 'integer', usedIdx: 'integer' } };
    return {
      fields: {
        deviceId: 'integer', status: 'integer', deviceFeaturesSel: 'integer', driverFeaturesSel: 'integer', driverFeatures: pair, negotiated: pair,
        queueSel: 'integer', shmSel: 'integer', interruptStatus: 'integer', queues: { arrayOf: queue, max: 8 },
        device: this.device?.deviceShape ?? { fields: {} },
      },
    };
  }

  check(untrusted: unknown, version: number): TransportState {
    const p = this.stateName;
    expectState.integer(version, `${p}.version`, this.stateVersion, this.stateVersion);
    const o = expectState.object(untrusted, p);
    const u32 = (v: unknown, where: string): number => expectState.integer(v, `${p}.${where}`, 0, 0xffff_ffff);
    const deviceId = expectState.integer(o.deviceId, `${p}.deviceId`, 0, 0xffff);
    if (deviceId !== (this.device?.deviceId ?? 0)) throw new StateError(`${p}.deviceId`, `slot holds device ${this.device?.deviceId ?? 0}, state is for ${deviceId}`);
    const pair = (v: unknown, where: string): [number, number] => {
      const a = expectState.array(v, `${p}.${where}`, 2);
      if (a.length !== 2) throw new StateError(`${p}.${where}`, 'expected two words');
      return [u32(a[0], `${where}[0]`), u32(a[1], `${where}[1]`)];
    };
    const negotiated = pair(o.negotiated, 'negotiated');
    const negotiatedBits = (BigInt(negotiated[1]) << 32n) | BigInt(negotiated[0]);
    if ((negotiatedBits & ~this.offered) !== 0n) throw new StateError(`${p}.negotiated`, 'features the device does not offer');
    const rawQueues = expectState.array(o.queues, `${p}.queues`, this.queues.length);
    if (rawQueues.length !== this.queues.length) throw new StateError(`${p}.queues`, `expected ${this.queues.length} queues`);
    const queues = rawQueues.map((raw, i) => this.checkQueue(raw, `${p}.queues[${i}]`, this.queues[i]!));
    return {
      deviceId,
      status: expectState.integer(o.status, `${p}.status`, 0, 0xff),
      deviceFeaturesSel: u32(o.deviceFeaturesSel, 'deviceFeaturesSel'),
      driverFeaturesSel: u32(o.driverFeaturesSel, 'driverFeaturesSel'),
      driverFeatures: pair(o.driverFeatures, 'driverFeatures'),
      negotiated,
      queueSel: u32(o.queueSel, 'queueSel'),
      shmSel: u32(o.shmSel, 'shmSel'),
      interruptStatus: expectState.integer(o.interruptStatus, `${p}.interruptStatus`, 0, INT_USED_BUFFER | INT_CONFIG_CHANGE),
      queues,
      device: this.device ? this.device.checkDevice(o.device, `${p}.device`) : expectState.object(o.device, `${p}.device`),
    };
  }

  private checkQueue(raw: unknown, path: string, queue: SplitQueue): QueueState {
    const o = expectState.object(raw, path);
    const word = (v: unknown, where: string): number => expectState.integer(v, `${path}.${where}`, 0, 0xffff_ffff);
    const pair = (v: unknown, where: string): [number, number] => {
      const a = expectState.array(v, `${path}.${where}`, 2);
      if (a.length !== 2) throw new StateError(`${path}.${where}`, 'expected two words');
      return [word(a[0], `${where}[0]`), word(a[1], `${where}[1]`)];
    };
    const state: QueueState = {
      size: word(o.size, 'size'),
      ready: expectState.boolean(o.ready, `${path}.ready`),
      desc: pair(o.desc, 'desc'),
      driver: pair(o.driver, 'driver'),
      device: pair(o.device, 'device'),
      lastAvail: expectState.integer(o.lastAvail, `${path}.lastAvail`, 0, 0xffff),
      usedIdx: expectState.integer(o.usedIdx, `${path}.usedIdx`, 0, 0xffff),
    };
    if (state.ready) {
      const probe = new SplitQueue(queue.maxSize, this.dma);
      probe.load(state);
      const problem = probe.configError();
      if (problem) throw new StateError(path, `ready queue with an invalid configuration: ${problem}`);
    }
    return state;
  }

  load(state: TransportState): void {
    this.status = state.status;
    this.deviceFeaturesSel = state.deviceFeaturesSel;
    this.driverFeaturesSel = state.driverFeaturesSel;
    this.driverFeatures = [state.driverFeatures[0], state.driverFeatures[1]];
    this.negotiated = (BigInt(state.negotiated[1]) << 32n) | BigInt(state.negotiated[0]);
    this.queueSel = state.queueSel;
    this.shmSel = state.shmSel;
    state.queues.forEach((q, i) => this.queues[i]!.load(q));
    this.device?.loadDevice(state.device);
    const was = this.interruptStatus !== 0;
    this.interruptStatus = state.interruptStatus;
    if ((this.interruptStatus !== 0) !== was) this.irq(this.interruptStatus !== 0);
  }
}
