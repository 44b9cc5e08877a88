/**
 * The truth every guest run is compared with: QEMU's golden transcripts (guests/expected), with
 * the lines where QEMU departs from the Arm architecture, and the lines where the two machines
 * differ by design, rewritten; each rewrite says why.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const GUESTS_DIR = join(import.meta.dirname, '../../guests');

/**
 * Lines where QEMU departs from the Arm architecture. Each entry rewrites QEMU's line into the
 * architecturally correct one before comparing; the reason cites the architecture.
 */
const QEMU_DEVIATIONS: readonly { guest: string; qemu: string; architecture: string; why: string }[] = [
  {
    guest: 'mte-check',
    qemu: 'dc zva tag 5 (g0 = 3): ESR=96000011',
    architecture: 'dc zva tag 5 (g0 = 3): ESR=96000051',
    why:
      'DC ZVA is a store: its tag check uses an access descriptor with write = TRUE (Arm ARM, ' +
      'AArch64.DC ZVA / CreateAccDescDCZero), so ESR_EL1.WnR is 1. QEMU 10 reports WnR = 0.',
  },
  {
    guest: 'isa-branch-sys',
    qemu: 'msr daifset (UMA=0): ESR=620793e4',
    architecture: 'msr daifset (UMA=0): ESR=620cd3e4',
    why:
      'A trapped MSR DAIFSet (op1 = 3, op2 = 6) reports the instruction\'s Op1 in ISS[16:14] and ' +
      'Op2 in ISS[19:17] (ESR_ELx, EC 0x18). QEMU 10 swaps them (op1 = 6, op2 = 3).',
  },
];

/**
 * Lines where Tagvisor's machine differs from QEMU's by design, both being valid Arm
 * implementations. Each entry rewrites QEMU's line into Tagvisor's; `why` cites the architecture.
 *
 * mte-off-nomte runs on a VM without MTE (QEMU `-M virt,mte=off`, `tagvisor --mte off`). Tagvisor
 * hides MTE entirely, as KVM does for a VM created without KVM_CAP_ARM_MTE: no FEAT_MTE. QEMU's TCG
 * board without tag memory keeps FEAT_MTE alone (ID_AA64PFR1_EL1.MTE = 0b0001, "instructions only":
 * like a Cortex-A710 with BROADCASTMTE low) and drops FEAT_MTE2. Every FEAT_MTE2 instruction and
 * register (LDGM, STGM, STZGM, GCR_EL1, RGSR_EL1, TFSR_EL1) is UNDEFINED on both, and GMID_EL1 traps
 * the same way on both (EC 0x18, FEAT_IDST), so those lines are QEMU's as they are.
 */
const FEAT_MTE_UNDEFINED =
  'is a FEAT_MTE instruction: its decode begins "if !IsFeatureImplemented(FEAT_MTE) then UNDEFINED" ' +
  '(Arm ARM, C6.2). QEMU implements FEAT_MTE, so it executes (with no tag storage: tags read as 0, ' +
  'writes of tags are ignored); Tagvisor does not, so it is UNDEFINED: EC 0x00, IL 1 (ESR 0x02000000). ' +
  'SPSR_EL1.NZCV holds the flags the previous line\'s printf left.';
const SAME_UNDEFINED_OTHER_FLAGS =
  'is UNDEFINED on both (FEAT_MTE2 is not implemented on either); SPSR_EL1 saves PSTATE.NZCV as it ' +
  'was, which the printf of the previous line set: that line differs (above), so the flags do.';

const MACHINE_DIFFERENCES: readonly { guest: string; qemu: string; tagvisor: string; why: string }[] = [
  {
    guest: 'mte-off-nomte',
    qemu: 'mte-off-nomte: ID_AA64PFR1_EL1.MTE = 1, rt_have_mte = 0',
    tagvisor: 'mte-off-nomte: ID_AA64PFR1_EL1.MTE = 0, rt_have_mte = 0',
    why:
      'ID_AA64PFR1_EL1.MTE (bits 11:8): 0b0000 = FEAT_MTE not implemented (Tagvisor, as KVM without ' +
      'KVM_CAP_ARM_MTE), 0b0001 = FEAT_MTE only, the EL0 instructions without tag storage (QEMU with ' +
      'mte=off). rt_have_mte (MTE >= 2) is 0 on both.',
  },
  ...['irg', 'addg', 'gmi', 'subp', 'stg', 'stzg', 'st2g', 'stgp', 'ldg', 'dc gva', 'dc gzva'].map((label) => ({
    guest: 'mte-off-nomte',
    qemu: `${label}: no fault`,
    tagvisor: `${label}: ESR=02000000 SPSR=800003c5`,
    why: `${label.toUpperCase()} ${FEAT_MTE_UNDEFINED}`,
  })),
  ...['msr tco, #1', 'mrs tco'].map((label) => ({
    guest: 'mte-off-nomte',
    qemu: `${label}: no fault`,
    tagvisor: `${label}: ESR=02000000 SPSR=800003c5`,
    why:
      `${label.toUpperCase()}: the TCO register "is present only when FEAT_MTE is implemented. Otherwise, ` +
      'direct accesses to TCO are UNDEFINED" (Arm ARM, TCO; MSR (immediate) decodes TCO only with ' +
      'FEAT_MTE): UNDEFINED on Tagvisor, an access on QEMU. SPSR_EL1.NZCV as above.',
  })),
  ...['ldgm', 'mrs gcr_el1'].map((label) => ({
    guest: 'mte-off-nomte',
    qemu: `${label}: ESR=02000000 SPSR=200003c5`,
    tagvisor: `${label}: ESR=02000000 SPSR=800003c5`,
    why: `${label.toUpperCase()} ${SAME_UNDEFINED_OTHER_FLAGS}`,
  })),
];

/** Guests named *-nomte run on a VM without MTE, on QEMU (mte=off) and on Tagvisor. */
export const hasMte = (guest: string): boolean => !guest.endsWith('-nomte');

/** Replaces `from`, which must occur exactly once in `out`, by `to`. */
function rewriteOnce(out: string, guest: string, from: string, to: string): string {
  const at = out.indexOf(from);
  if (at < 0) throw new Error(`known difference no longer in QEMU's transcript of ${guest}: ${from}`);
  if (out.indexOf(from, at + 1) >= 0) throw new Error(`known difference is ambiguous in QEMU's transcript of ${guest}: ${from}`);
  return out.slice(0, at) + to + out.slice(at + from.length);
}

/** The documented rewrites of `guest`'s QEMU transcript, one per line with its reason (for failure messages). */
export function documentedDifferences(guest: string): string {
  const lines = [
    ...QEMU_DEVIATIONS.filter((d) => d.guest === guest).map((d) => `QEMU "${d.qemu}" -> "${d.architecture}": ${d.why}`),
    ...MACHINE_DIFFERENCES.filter((d) => d.guest === guest).map((d) => `QEMU "${d.qemu}" -> Tagvisor "${d.tagvisor}": ${d.why}`),
  ];
  return lines.length === 0 ? 'none' : lines.join('\n');
}

/**
 * What Tagvisor must print for `guest`: QEMU's golden transcript (guests/expected) with each
 * documented line rewritten, and QEMU's exit status.
 */
export function expected(guest: string): { out: string; status: number } {
  let out = readFileSync(join(GUESTS_DIR, 'expected', `${guest}.out`), 'latin1');
  for (const deviation of QEMU_DEVIATIONS) {
    if (deviation.guest === guest) out = rewriteOnce(out, guest, deviation.qemu, deviation.architecture);
  }
  for (const difference of MACHINE_DIFFERENCES) {
    if (difference.guest === guest) out = rewriteOnce(out, guest, difference.qemu, difference.tagvisor);
  }
  const status = Number(readFileSync(join(GUESTS_DIR, 'expected', `${guest}.status`), 'latin1').trim());
  return { out, status };
}

/** Every built guest image, by name. */
export function allGuests(): string[] {
  return readdirSync(join(GUESTS_DIR, 'build'))
    .filter((file) => file.endsWith('.elf'))
    .map((file) => file.slice(0, -4))
    .sort();
}
