/**
 * What a machine host (the playground's Web Worker, or the live viewer's WebSocket bridge to a VM
 * running in Node: host/live-host.ts, wire.ts) and the viewer UI say to each other. Plain data only (structured-clone
 * and JSON friendly, typed arrays for bulk tags), so any transport can carry it.
 *
 * Vocabulary follows the JSON monitor (docs/monitor-api.md): states, stop reasons, shutdown
 * reasons and tag-check-fault fields have the same names and meanings.
 */

export type MachineStateName = 'created' | 'running' | 'paused' | 'shutdown';
export type StopReasonName = 'pause' | 'step' | 'breakpoint' | 'watchpoint' | 'postmigrate';

/** Summary byte of one page of RAM in the tag map (see `summaryOf`). */
export const PAGE_TAG_MASK = 0x0f;
/** The page's granules carry more than one tag; the low nibble is the most common one. */
export const PAGE_MIXED = 0x10;
/** The page was never used as tagged memory (its tags read 0 and will be zeroed on first use). */
export const PAGE_NEVER = 0x20;
/** The page holds no tags at all (the VM has MTE off). */
export const PAGE_UNTAGGED = 0x40;

/** Granule tag value meaning "no tag data" in granule arrays (never-tagged or untagged pages). */
export const GRANULE_NONE = 0xff;

export const PAGE_BYTES = 4096;
export const GRANULE_BYTES = 16;
export const GRANULES_PER_PAGE = PAGE_BYTES / GRANULE_BYTES;

/** One tag-check fault, as the monitor's TAG_CHECK_FAULT event describes it, plus its PA. */
export interface FaultRecord {
  /** Sequence number since the machine was loaded (1-based; gaps are rate-limited faults). */
  readonly seq: number;
  /** Guest instructions executed when the fault was reported (approximate within a slice). */
  readonly instructions: number;
  /** "0x..." 64-bit values. */
  readonly pc: string;
  /** The tagged virtual address of the first failing granule. */
  readonly addr: string;
  /** Guest physical address of that byte, when the VA was mapped at the time; else null. */
  readonly pa: number | null;
  readonly logicalTag: number;
  readonly allocationTag: number;
  readonly size: number;
  readonly write: boolean;
  readonly sync: boolean;
  readonly el: number;
}

export type TcfName = 'none' | 'sync' | 'async' | 'asymmetric';

/** vCPU state for the register view (the monitor's query-cpus plus query-mte). */
export interface CpuSnapshot {
  readonly el: number;
  readonly spsel: number;
  readonly pc: string;
  /** Every register the debugger model knows, by gdb name, as "0x..." strings. */
  readonly registers: Readonly<Record<string, string>>;
  readonly mte: {
    readonly enabled: boolean;
    readonly tco: boolean;
    readonly el0: { readonly tagAccess: boolean; readonly tcf: TcfName };
    readonly el1: { readonly tagAccess: boolean; readonly tcf: TcfName };
    readonly gcrExclude: number;
    readonly tfsrEl1: number;
    readonly tfsre0El1: number;
  };
}

export interface LoadCommand {
  readonly type: 'load';
  readonly name: string;
  readonly bytes: ArrayBuffer;
  readonly memoryBytes: number;
  readonly mte: boolean;
  /** Words to write into guest RAM before the first instruction (benchmarks' switches). */
  readonly pokes?: readonly { readonly gpa: number; readonly value: number }[];
  /** Start paused instead of running. */
  readonly paused?: boolean;
}

/** UI -> host. `id` (live viewer): the host answers with a `reply` carrying it. */
export type HostCommand =
  | LoadCommand
  | { readonly type: 'pause'; readonly id?: number }
  | { readonly type: 'resume'; readonly id?: number }
  | { readonly type: 'step'; readonly id?: number }
  | { readonly type: 'reset'; readonly id?: number }
  /** Pages whose per-granule tags the UI shows (the zoomed-in map window); count 0: none. */
  | { readonly type: 'granule-window'; readonly firstPage: number; readonly pageCount: number }
  /**
   * Live viewer only: a JSON monitor command (docs/monitor-api.md), run through the monitor's
   * command registry with its state and argument checks; answered by `reply`. Read-only commands
   * are always allowed, those that change the VM only on a server started with --web-control.
   */
  | { readonly type: 'execute'; readonly id?: number; readonly execute: string; readonly arguments?: Readonly<Record<string, unknown>> };

export interface MachineStatus {
  readonly state: MachineStateName;
  readonly stopReason: StopReasonName | null;
  /** How the guest ended, in the monitor's words: "guest-exit 0", "guest-shutdown"... */
  readonly shutdown: string | null;
  readonly instructions: number;
  /** Milliseconds spent executing guest code (for guest MIPS). */
  readonly runMs: number;
}

/** Host -> UI. */
export type HostMessage =
  | {
      readonly type: 'loaded';
      readonly name: string;
      readonly entry: string;
      readonly ramBase: number;
      readonly pages: number;
      readonly mte: boolean;
    }
  | ({ readonly type: 'status' } & MachineStatus)
  /** The guest was reset (system_reset, PSCI SYSTEM_RESET): it restarts, its tags are forgotten. */
  | { readonly type: 'reset' }
  | { readonly type: 'output'; readonly stream: 'uart' | 'console'; readonly text: string }
  /** Faults since the last message; `suppressed` counts those over the rate limit. */
  | { readonly type: 'faults'; readonly faults: readonly FaultRecord[]; readonly suppressed: number }
  | { readonly type: 'cpu'; readonly cpu: CpuSnapshot }
  /** New summaries of some pages (page indices from the RAM base), or of all when `full`. */
  | { readonly type: 'page-tags'; readonly full: boolean; readonly pages: Uint32Array; readonly values: Uint8Array }
  /** Per-granule tags of some pages: 256 per page in `pages` order, GRANULE_NONE when untagged. */
  | { readonly type: 'granule-tags'; readonly pages: Uint32Array; readonly tags: Uint8Array }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'warning'; readonly message: string }
  // ---- Live viewer (`tagvisor run --web`) only; the playground neither sends nor expects these. ----
  /** Sent once after `loaded`: what this connection may do. */
  | ({ readonly type: 'session' } & LiveSessionInfo)
  /** Memory activity since the previous sample (a few per second while anything happens). */
  | ({ readonly type: 'activity' } & ActivitySample)
  /** A migration's progress: the monitor's MIGRATION event / query-migrate object, as is. */
  | { readonly type: 'migration'; readonly progress: MigrationProgressData }
  /** The answer to a command that carried an `id`. */
  | { readonly type: 'reply'; readonly id: number; readonly command: string; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly command: string; readonly ok: false; readonly error: { readonly class: string; readonly desc: string } }
  /** The connection to the host ended (dispatched by the connection itself; `reason` says why). */
  | { readonly type: 'disconnected'; readonly reason: string };

/** What a live-viewer connection may do (docs/web.md, "The live viewer"). */
export interface LiveSessionInfo {
  /** Commands that change the VM (pause, continue, step, reset, write-memory, write-tags) are allowed. */
  readonly control: boolean;
  /** The monitor commands `execute` accepts on this connection. */
  readonly commands: readonly string[];
  readonly version: string;
}

/** Access classes of the memory layer's activity counters (src/memory/activity.ts), in order. */
export const ACTIVITY_CLASS_NAMES = ['guest', 'dma', 'debug', 'migration'] as const;

/**
 * One sample of memory activity. Arrays are per access class, in ACTIVITY_CLASS_NAMES order;
 * counts are page-writes (a write touching n pages counts n) and page reads since the previous
 * sample of this connection (see src/memory/activity.ts for what each class counts).
 */
export interface ActivitySample {
  /** Host milliseconds since the viewer's server started. */
  readonly atMs: number;
  readonly intervalMs: number;
  readonly data: readonly number[];
  readonly tags: readonly number[];
  readonly reads: readonly number[];
  /** Distinct pages whose tags or tag state changed since the previous sample (exact). */
  readonly tagChangedPages: number;
  /** Pages that hold tags now (used as tagged memory since the last reset). */
  readonly taggedPages: number;
}

/** The monitor's migration progress object (docs/monitor-api.md, query-migrate). */
export interface MigrationProgressData {
  readonly status: 'none' | 'setup' | 'active' | 'device' | 'completed' | 'failed';
  readonly round?: number;
  readonly 'total-pages'?: number;
  readonly 'pages-sent'?: number;
  readonly 'tag-pages-sent'?: number;
  readonly 'bytes-sent'?: number;
  readonly 'data-bytes'?: number;
  readonly 'tag-bytes'?: number;
  readonly 'remaining-pages'?: number;
  readonly 'bandwidth-bytes-per-s'?: number;
  readonly 'total-ms'?: number;
  readonly 'downtime-ms'?: number;
  readonly error?: string;
}

export type HostMessageType = HostMessage['type'];
export type HostMessageOf<T extends HostMessageType> = Extract<HostMessage, { type: T }>;

const counts = new Uint16Array(16);

/** The summary byte from tag counts: the uniform tag, or the most common one with PAGE_MIXED. */
function fromCounts(): number {
  let best = 0;
  for (let tag = 1; tag < 16; tag++) if (counts[tag]! > counts[best]!) best = tag;
  return counts[best] === GRANULES_PER_PAGE ? best : best | PAGE_MIXED;
}

/**
 * The summary byte of a page from its 256 granule tags: the uniform tag, or the most common one
 * with PAGE_MIXED (ties go to the lower tag).
 */
export function summaryOf(tags: ArrayLike<number>, offset = 0): number {
  counts.fill(0);
  for (let i = 0; i < GRANULES_PER_PAGE; i++) counts[tags[offset + i]! & 0xf]!++;
  return fromCounts();
}

export function hex64(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}
