import { type Cpu, ATTR_TAGGED, isDeviceAttr, PERM_ALL, PERM_R0, PERM_R1, PERM_W0, PERM_W1, PERM_X0, PERM_X1, translate, type WalkResult } from '../../cpu/index.js';

/** A run of virtual pages with the same attributes, mapped to contiguous physical memory. */
export interface GuestMapping {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  /** Physical address of `start`. */
  readonly pa: number;
  /** PERM_* bits of mmu/translate.ts. */
  readonly perms: number;
  /** Normal-Tagged (MAIR 0xF0) onto RAM that holds allocation tags: tag checks apply. */
  readonly tagged: boolean;
  readonly device: boolean;
  /** The physical pages are RAM (not MMIO or a hole). */
  readonly ram: boolean;
}

export interface MappingLimits {
  /** Page-table walks before giving up (the guest's tables are untrusted). */
  readonly maxWalks?: number;
  readonly maxMappings?: number;
}

const U64 = 1n << 64n;
const walk: WalkResult = { pagePa: 0, attr: 0, perms: 0, level: 0, sh: 0 };

/**
 * Enumerates the current stage-1 mappings by walking addresses, not tables: each successful
 * translation reports the level of its block or page, each translation fault the level of the
 * invalid descriptor, so the walk skips whole unmapped or uniformly mapped blocks. Bounded by
 * `maxWalks` translations (a guest mapping 4 KiB pages everywhere would otherwise take long);
 * `truncated` says when a bound was hit. With the MMU off, RAM is flat-mapped and, as the
 * architecture says for data accesses, Device (never tag-checked).
 */
export function guestMappings(cpu: Cpu, limits: MappingLimits = {}): { mappings: GuestMapping[]; truncated: boolean } {
  const maxWalks = limits.maxWalks ?? 1 << 16;
  const maxMappings = limits.maxMappings ?? 4096;
  const regime = { ...cpu.regime, tcrHi: cpu.regime.tcrHi & ~(1 << 7) }; // HA off: never write the access flag
  if (!regime.mmuOn) {
    const mappings = cpu.space.ramRegions.map((r) => ({ start: BigInt(r.base), end: BigInt(r.end), pa: r.base, perms: PERM_ALL, tagged: false, device: true, ram: true }));
    return { mappings, truncated: false };
  }
  const out: GuestMapping[] = [];
  let walks = 0;
  let truncated = false;
  const halves: [bigint, bigint, number][] = [];
  const t0 = Math.min(Math.max(regime.tcrLo & 0x3f, 16), 39);
  const t1 = Math.min(Math.max((regime.tcrLo >>> 16) & 0x3f, 16), 39);
  if (((regime.tcrLo >>> 7) & 1) === 0) halves.push([0n, 1n << BigInt(64 - t0), t0]);
  if (((regime.tcrLo >>> 23) & 1) === 0) halves.push([U64 - (1n << BigInt(64 - t1)), U64, t1]);
  for (const [start, end, t] of halves) {
    const vaBits = 64 - t;
    const startLevel = 4 - Math.ceil((vaBits - 12) / 9);
    let va = start;
    while (va < end) {
      if (walks++ >= maxWalks || out.length >= maxMappings) {
        truncated = true;
        break;
      }
      const fsc = translate(regime, cpu.space, Number(BigInt.asIntN(32, va)), Number(BigInt.asIntN(32, va >> 32n)), false, walk);
      const level = fsc < 0 ? walk.level : Math.max(fsc & 3, startLevel);
      const size = 1n << BigInt(12 + 9 * (3 - level));
      const next = va - (va % size) + size;
      const stop = next < end ? next : end;
      if (fsc < 0) {
        const region = cpu.space.findRam(walk.pagePa);
        const pa = walk.pagePa + Number(va % 4096n);
        const mapping: GuestMapping = {
          start: va, end: stop, pa, perms: walk.perms, device: isDeviceAttr(walk.attr), ram: region !== undefined,
          tagged: walk.attr === ATTR_TAGGED && region?.tags != null,
        };
        append(out, mapping);
      }
      va = stop;
    }
  }
  return { mappings: out, truncated };
}

function append(out: GuestMapping[], m: GuestMapping): void {
  const last = out[out.length - 1];
  if (
    last && last.end === m.start && last.perms === m.perms && last.tagged === m.tagged && last.device === m.device && last.ram === m.ram &&
    BigInt(last.pa) + (last.end - last.start) === BigInt(m.pa)
  ) {
    out[out.length - 1] = { ...last, end: m.end };
  } else {
    out.push(m);
  }
}

function permString(perms: number): string {
  return `${perms & (PERM_R0 | PERM_R1) ? 'r' : '-'}${perms & (PERM_W0 | PERM_W1) ? 'w' : '-'}${perms & (PERM_X0 | PERM_X1) ? 'x' : '-'}p`;
}

function header(m: GuestMapping): string {
  const name = m.device ? '[io]' : m.ram ? '' : '[unbacked]';
  return `${m.start.toString(16)}-${m.end.toString(16)} ${permString(m.perms)} ${m.pa.toString(16).padStart(8, '0')} 00:00 0 ${name}`.trimEnd();
}

/** The mappings as Linux prints /proc/<pid>/maps (the offset column holds the physical address). */
export function mapsText(mappings: readonly GuestMapping[]): string {
  return mappings.map((m) => `${header(m)}\n`).join('');
}

/**
 * The mappings as Linux prints /proc/<pid>/smaps: gdb 13 decides that an address may carry memory
 * tags by finding it in a mapping whose VmFlags include `mt` (linux-tdep.c,
 * linux_address_in_memtag_page). Header lines start with lower-case hex, keyword lines with a
 * capital letter: gdb's parser relies on that.
 */
export function smapsText(mappings: readonly GuestMapping[]): string {
  let out = '';
  for (const m of mappings) {
    const kb = (m.end - m.start) / 1024n;
    const flags = ['rd', 'wr', 'ex'].filter((_, i) => m.perms & [PERM_R0 | PERM_R1, PERM_W0 | PERM_W1, PERM_X0 | PERM_X1][i]!);
    flags.push('mr', 'mw', 'me');
    if (m.device) flags.push('io');
    if (m.tagged) flags.push('mt');
    out += `${header(m)}\nSize: ${kb} kB\nKernelPageSize: 4 kB\nMMUPageSize: 4 kB\nRss: ${kb} kB\nAnonymous: ${m.ram && !m.device ? kb : 0n} kB\nVmFlags: ${flags.join(' ')}\n`;
  }
  return out;
}
