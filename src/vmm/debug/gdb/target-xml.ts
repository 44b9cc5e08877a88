import type { RegisterInfo } from '../registers.js';

/**
 * The target description gdb reads with qXfer:features:read:target.xml (GDB manual, "Target
 * Descriptions"). What gdb 13 needs from it to enable its aarch64 `memory-tag` commands:
 *
 * - `<osabi>GNU/Linux</osabi>`: gdb installs the memory-tagging gdbarch methods only in
 *   aarch64_linux_init_abi (aarch64-linux-tdep.c), i.e. for the GNU/Linux OS ABI;
 * - the `org.gnu.gdb.aarch64.mte` feature with register `tag_ctl` (what makes tdep->has_mte()).
 *
 * Registers are numbered in document order, which is RegisterFile's order: x0..x30 = 0..30,
 * sp = 31, pc = 32, cpsr = 33 (gdb's aarch64 core numbering), then tag_ctl, then system registers.
 * There is no org.gnu.gdb.aarch64.fpu feature: the CPU implements no FP/SIMD, and gdb 13 treats
 * that feature as optional.
 */
const FEATURE_NAMES: Record<RegisterInfo['feature'], string> = {
  core: 'org.gnu.gdb.aarch64.core',
  mte: 'org.gnu.gdb.aarch64.mte',
  system: 'org.tagvisor.aarch64.system',
};

const CPSR_FIELDS: [string, number, number][] = [
  ['SP', 0, 0], ['EL', 2, 3], ['nRW', 4, 4], ['F', 6, 6], ['I', 7, 7], ['A', 8, 8], ['D', 9, 9], ['SSBS', 12, 12],
  ['IL', 20, 20], ['SS', 21, 21], ['PAN', 22, 22], ['UAO', 23, 23], ['DIT', 24, 24], ['TCO', 25, 25],
  ['V', 28, 28], ['C', 29, 29], ['Z', 30, 30], ['N', 31, 31],
];

export function targetXml(registers: readonly RegisterInfo[]): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', '<target version="1.0">', '  <architecture>aarch64</architecture>', '  <osabi>GNU/Linux</osabi>'];
  for (const feature of ['core', 'mte', 'system'] as const) {
    const regs = registers.filter((r) => r.feature === feature);
    if (regs.length === 0) continue;
    lines.push(`  <feature name="${FEATURE_NAMES[feature]}">`);
    if (feature === 'core') {
      lines.push('    <flags id="cpsr_flags" size="4">');
      for (const [name, start, end] of CPSR_FIELDS) lines.push(`      <field name="${name}" start="${start}" end="${end}"/>`);
      lines.push('    </flags>');
    }
    for (const reg of regs) {
      const group = feature === 'core' ? '' : ' group="system"';
      const saveRestore = feature === 'core' ? '' : ' save-restore="no"';
      lines.push(`    <reg name="${reg.name}" bitsize="${reg.bits}" type="${reg.type}" regnum="${registers.indexOf(reg)}"${group}${saveRestore}/>`);
    }
    lines.push('  </feature>');
  }
  lines.push('</target>');
  return `${lines.join('\n')}\n`;
}
