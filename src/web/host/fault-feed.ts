import type { TagFaultInfo } from '../../cpu/index.js';
import { TAG_FAULT_EVENTS_PER_SECOND } from '../../vmm/monitor/events.js';
import type { FaultRecord } from '../protocol.js';

const hexPair = (lo: number, hi: number): string => `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Tag-check faults as the viewer lists them. A guest can fault millions of times a second, so,
 * like the monitor's TAG_CHECK_FAULT event, at most TAG_FAULT_EVENTS_PER_SECOND are recorded;
 * the rest are counted. Each record carries the guest physical address of the faulting granule,
 * translated when the fault happens (the map centres on it).
 */
export class FaultFeed {
  private pending: FaultRecord[] = [];
  private suppressed = 0;
  private seq = 0;
  private windowStart = -Infinity;
  private inWindow = 0;

  constructor(
    /** The PA of a VA in the vCPU's current regime, or null when unmapped (no side effects). */
    private readonly translate: (va: bigint) => number | null,
    private readonly instructions: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Total faults seen (recorded or not). */
  get count(): number {
    return this.seq;
  }

  record(info: TagFaultInfo): void {
    this.seq++;
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= TAG_FAULT_EVENTS_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    const va = (BigInt(info.addrHi >>> 0) << 32n) | BigInt(info.addrLo >>> 0);
    this.pending.push({
      seq: this.seq,
      instructions: this.instructions(),
      pc: hexPair(info.pcLo, info.pcHi),
      addr: hexPair(info.addrLo, info.addrHi),
      pa: this.translate(va),
      logicalTag: info.logicalTag,
      allocationTag: info.allocationTag,
      size: info.size,
      write: info.write,
      sync: info.sync,
      el: info.el,
    });
  }

  /** Faults since the last take, or null when there are none. */
  take(): { faults: FaultRecord[]; suppressed: number } | null {
    if (this.pending.length === 0 && this.suppressed === 0) return null;
    const out = { faults: this.pending, suppressed: this.suppressed };
    this.pending = [];
    this.suppressed = 0;
    return out;
  }

  reset(): void {
    this.pending = [];
    this.suppressed = 0;
    this.seq = 0;
    this.windowStart = -Infinity;
  }
}
