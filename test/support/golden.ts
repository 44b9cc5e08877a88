/**
 * The truth every guest run is compared with: QEMU's golden transcripts (guests/expected), with
 * the lines where QEMU departs from the Arm architecture rewritten, and reviewed Tagvisor
 * transcripts for guests that differ from QEMU by design.
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
 * Guests whose whole transcript differs from QEMU's by design, compared with a reviewed
 * Tagvisor transcript (guests/expected/<name>.tagvisor.out) instead.
 */
const DESIGN_DIFFERENCES: Readonly<Record<string, string>> = {
  'mte-off-nomte':
    'A VM created without KVM_CAP_ARM_MTE hides MTE entirely, as KVM does: ID_AA64PFR1_EL1.MTE = 0 ' +
    'and every MTE instruction and register is UNDEFINED. QEMU\'s TCG board without tag memory ' +
    'instead keeps FEAT_MTE (MTE = 1: IRG/STG/LDG/TCO execute, with no tag storage), like a ' +
    'Cortex-A710 with BROADCASTMTE low. Both are valid Arm implementations; the product follows KVM.',
};

/** Guests named *-nomte run on a VM without MTE, on QEMU (mte=off) and on Tagvisor. */
export const hasMte = (guest: string): boolean => !guest.endsWith('-nomte');

export function expected(guest: string): { out: string; status: number } {
  const own = guest in DESIGN_DIFFERENCES;
  let out = readFileSync(join(GUESTS_DIR, 'expected', `${guest}.${own ? 'tagvisor.out' : 'out'}`), 'latin1');
  for (const deviation of QEMU_DEVIATIONS) {
    if (deviation.guest !== guest) continue;
    if (!out.includes(deviation.qemu)) throw new Error(`known QEMU deviation no longer present in ${guest}: ${deviation.qemu}`);
    out = out.replace(deviation.qemu, deviation.architecture);
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
