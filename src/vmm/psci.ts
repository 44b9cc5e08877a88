import type { Vcpu } from '../hv/index.js';

/** PSCI function IDs (Arm DEN 0022) that QEMU's virt board implements. */
export const PSCI = {
  VERSION: 0x8400_0000,
  CPU_SUSPEND: 0x8400_0001,
  CPU_SUSPEND64: 0xc400_0001,
  CPU_OFF: 0x8400_0002,
  CPU_ON: 0x8400_0003,
  CPU_ON64: 0xc400_0003,
  AFFINITY_INFO: 0x8400_0004,
  AFFINITY_INFO64: 0xc400_0004,
  MIGRATE_INFO_TYPE: 0x8400_0006,
  SYSTEM_OFF: 0x8400_0008,
  SYSTEM_RESET: 0x8400_0009,
  FEATURES: 0x8400_000a,
} as const;

const RET_SUCCESS = 0n;
const RET_NOT_SUPPORTED = -1n;
const RET_INVALID_PARAMETERS = -2n;
const RET_ALREADY_ON = -4n;
/** PSCI 1.1, what QEMU reports. */
const VERSION_1_1 = 0x1_0001n;
/** MIGRATE_INFO_TYPE: no Trusted OS that needs migrating. */
const TOS_NOT_PRESENT = 2n;

const SUPPORTED = new Set<number>(Object.values(PSCI));

/** What the VMM must do after a PSCI call. */
export type PsciOutcome = 'continue' | 'system-off' | 'system-reset' | 'cpu-off';

/**
 * Handles an HVC as a PSCI call (the virt board's conduit): reads x0..x3, writes the result to
 * x0. Unknown function IDs return NOT_SUPPORTED, as QEMU does. Single-CPU machine: CPU 0 is the
 * only affinity that exists.
 */
export function handlePsci(vcpu: Vcpu): PsciOutcome {
  const fn = Number(vcpu.getX(0) & 0xffff_ffffn);
  const arg1 = vcpu.getX(1);
  const ret = (value: bigint): PsciOutcome => {
    vcpu.setX(0, BigInt.asUintN(64, value));
    return 'continue';
  };
  switch (fn) {
    case PSCI.VERSION:
      return ret(VERSION_1_1);
    case PSCI.FEATURES:
      return ret(SUPPORTED.has(Number(arg1 & 0xffff_ffffn)) && arg1 <= 0xffff_ffffn ? RET_SUCCESS : RET_NOT_SUPPORTED);
    case PSCI.MIGRATE_INFO_TYPE:
      return ret(TOS_NOT_PRESENT);
    case PSCI.CPU_ON:
    case PSCI.CPU_ON64:
      return ret((arg1 & 0xff_00ff_ffffn) === 0n ? RET_ALREADY_ON : RET_INVALID_PARAMETERS);
    case PSCI.AFFINITY_INFO:
    case PSCI.AFFINITY_INFO64:
      return ret((arg1 & 0xff_00ff_ffffn) === 0n && vcpu.getX(2) === 0n ? 0n : RET_INVALID_PARAMETERS);
    case PSCI.CPU_SUSPEND:
    case PSCI.CPU_SUSPEND64:
      return ret(RET_SUCCESS);
    case PSCI.CPU_OFF:
      return 'cpu-off';
    case PSCI.SYSTEM_OFF:
      return 'system-off';
    case PSCI.SYSTEM_RESET:
      return 'system-reset';
    default:
      return ret(RET_NOT_SUPPORTED);
  }
}
