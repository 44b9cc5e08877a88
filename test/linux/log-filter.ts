/**
 * What of a Linux console log the boot test compares between Tagvisor and QEMU (docs/linux.md,
 * "Comparing with QEMU", justifies every rule here). A log is split into:
 *
 * - `lines`: everything else, in order, after time-valued fields are masked: these must be
 *   identical on both;
 * - `unordered`: lines printed by asynchronous work whose position depends on timing: compared
 *   as sorted lists;
 * - `features`: the CPU features the kernel detected: Tagvisor's must be a subset of QEMU's;
 * - `machine`: lines that describe a difference between Tagvisor's CPU or GIC and QEMU's
 *   `-cpu max` (each rule names it), kept apart and reported, not compared.
 *
 * A line that reports a late interrupt (`hrtimer: interrupt took N ns`) is dropped.
 */

/** A line that differs between the two machines for a documented reason, on one side only. */
export interface MachineRule {
  readonly pattern: RegExp;
  readonly reason: string;
}

/** The kernel's printk time prefix: `[    1.234567] `. */
const TIMESTAMP = /^\[\s*\d+\.\d+\] /;

/** Fields whose values are elapsed times: masked in place, the rest of the line is compared. */
const TIME_FIELDS: readonly [RegExp, string][] = [
  [/initialised in \d+ms$/, 'initialised in <ms>ms'],
  [/audit\(\d+\.\d+:(\d+)\)/, 'audit(<time>:$1)'],
];

/** Printed by asynchronous work (an async initcall, the audit thread): the position varies. */
const UNORDERED: readonly RegExp[] = [
  /^Trying to unpack rootfs image as initramfs\.\.\.$/,
  /^Freeing initrd memory: \d+K$/,
  /^audit: type=2000 /,
];

/**
 * Reports of a late interrupt: the kernel prints one when an hrtimer interrupt ran longer than it
 * should, which on QEMU (the host's clock) happens when the host is busy. Dropped on both sides.
 */
const HOST_DELAY: readonly RegExp[] = [/^hrtimer: interrupt took \d+ ns$/];

const FEATURE = /^CPU features: detected: (.*)$/;

/** Lines that follow from what Tagvisor's CPU and GIC implement and QEMU's -cpu max has. */
export const MACHINE_RULES: readonly MachineRule[] = [
  { pattern: /^SVE: /, reason: 'QEMU -cpu max has SVE; Tagvisor has no SVE' },
  { pattern: /^(Floating-point|Advanced SIMD) is not implemented$/, reason: 'Tagvisor has no FP/SIMD yet' },
  { pattern: /^Registered setend emulation handler$|^setend instruction emulation is not supported on this system$/, reason: 'QEMU -cpu max runs AArch32 at EL0; Tagvisor is AArch64 only' },
  { pattern: /^ITS: No ITS available, not enabling LPIs$/, reason: "QEMU's GICv3 reports LPI support (GICD_TYPER.LPIS) even without an ITS; Tagvisor's has no LPIs" },
  { pattern: /^cacheinfo: Unable to detect cache hierarchy for CPU \d+$/, reason: 'Tagvisor reports no caches in CLIDR_EL1; QEMU -cpu max reports a hierarchy' },
];

/** The MIDR in the first line identifies the CPU model (QEMU max: 0x000f0510): masked. */
const MIDR = /^(Booting Linux on physical CPU 0x[0-9a-f]+) \[0x[0-9a-f]{8}\]$/;

/**
 * The figures of the `Memory:` line that depend on where the loader put the DTB and initrd
 * (QEMU and Tagvisor place them differently): masked; the kernel's own sizes stay compared.
 */
const MEMORY = /^Memory: \d+K\/(\d+K) available \((.*), \d+K reserved, (\d+K cma-reserved)\)$/;

export interface ComparableLog {
  readonly lines: string[];
  readonly unordered: string[];
  readonly features: string[];
  readonly machine: string[];
}

/** Splits a console log (either machine's) into what is compared and how. */
export function comparableLog(text: string): ComparableLog {
  const log: ComparableLog = { lines: [], unordered: [], features: [], machine: [] };
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    let line = raw.replace(TIMESTAMP, '');
    if (line === '' || HOST_DELAY.some((p) => p.test(line))) continue;
    for (const [pattern, replacement] of TIME_FIELDS) line = line.replace(pattern, replacement);
    const feature = FEATURE.exec(line);
    if (feature) log.features.push(feature[1]!);
    else if (UNORDERED.some((p) => p.test(line))) log.unordered.push(line);
    else if (MACHINE_RULES.some((r) => r.pattern.test(line))) log.machine.push(line);
    else log.lines.push(line.replace(MIDR, '$1 [<midr>]').replace(MEMORY, 'Memory: <n>K/$1 available ($2, <n>K reserved, $3)'));
  }
  log.unordered.sort();
  return log;
}
