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
 * sp = 31, pc = 32, cpsr = 33 (gdb's aarch64 core numbering), then tag_ctl, then system registers,
 * then the org.gnu.gdb.aarch64.fpu feature (v0..v31 of the union type gdb's own aarch64-fpu.xml
 * describes, so `p $v0.b.u` and `info registers vector` work; fpsr, fpcr). gdb finds registers by
 * name in a feature, so the fpu feature may come last.
 */
const FEATURE_NAMES: Record<RegisterInfo['feature'], string> = {
  core: 'org.gnu.gdb.aarch64.core',
  mte: 'org.gnu.gdb.aarch64.mte',
  system: 'org.tagvisor.aarch64.system',
  fpu: 'org.gnu.gdb.aarch64.fpu',
};

/** The vector types of a V register: one union with D, S, H, B and Q views of every lane type. */
const FPU_TYPES = [
  '<vector id="v2d" type="ieee_double" count="2"/>', '<vector id="v2u" type="uint64" count="2"/>', '<vector id="v2i" type="int64" count="2"/>',
  '<vector id="v4f" type="ieee_single" count="4"/>', '<vector id="v4u" type="uint32" count="4"/>', '<vector id="v4i" type="int32" count="4"/>',
  '<vector id="v8f" type="ieee_half" count="8"/>', '<vector id="v8u" type="uint16" count="8"/>', '<vector id="v8i" type="int16" count="8"/>',
  '<vector id="v8bf16" type="bfloat16" count="8"/>', '<vector id="v16u" type="uint8" count="16"/>', '<vector id="v16i" type="int8" count="16"/>',
  '<vector id="v1u" type="uint128" count="1"/>', '<vector id="v1i" type="int128" count="1"/>',
  '<union id="vnd"><field name="f" type="v2d"/><field name="u" type="v2u"/><field name="s" type="v2i"/></union>',
  '<union id="vns"><field name="f" type="v4f"/><field name="u" type="v4u"/><field name="s" type="v4i"/></union>',
  '<union id="vnh"><field name="bf" type="v8bf16"/><field name="f" type="v8f"/><field name="u" type="v8u"/><field name="s" type="v8i"/></union>',
  '<union id="vnb"><field name="u" type="v16u"/><field name="s" type="v16i"/></union>',
  '<union id="vnq"><field name="u" type="v1u"/><field name="s" type="v1i"/></union>',
  '<union id="aarch64v"><field name="d" type="vnd"/><field name="s" type="vns"/><field name="h" type="vnh"/><field name="b" type="vnb"/><field name="q" type="vnq"/></union>',
];

const CPSR_FIELDS: [string, number, number][] = [
  ['SP', 0, 0], ['EL', 2, 3], ['nRW', 4, 4], ['F', 6, 6], ['I', 7, 7], ['A', 8, 8], ['D', 9, 9], ['SSBS', 12, 12],
  ['IL', 20, 20], ['SS', 21, 21], ['PAN', 22, 22], ['UAO', 23, 23], ['DIT', 24, 24], ['TCO', 25, 25],
  ['V', 28, 28], ['C', 29, 29], ['Z', 30, 30], ['N', 31, 31],
];

export function targetXml(registers: readonly RegisterInfo[]): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', '<target version="1.0">', '  <architecture>aarch64</architecture>', '  <osabi>GNU/Linux</osabi>'];
  for (const feature of ['core', 'mte', 'system', 'fpu'] as const) {
    const regs = registers.filter((r) => r.feature === feature);
    if (regs.length === 0) continue;
    lines.push(`  <feature name="${FEATURE_NAMES[feature]}">`);
    if (feature === 'core') {
      lines.push('    <flags id="cpsr_flags" size="4">');
      for (const [name, start, end] of CPSR_FIELDS) lines.push(`      <field name="${name}" start="${start}" end="${end}"/>`);
      lines.push('    </flags>');
    }
    if (feature === 'fpu') for (const type of FPU_TYPES) lines.push(`    ${type}`);
    for (const reg of regs) {
      const group = feature === 'core' || feature === 'fpu' ? '' : ' group="system"';
      const saveRestore = feature === 'core' || feature === 'fpu' ? '' : ' save-restore="no"';
      lines.push(`    <reg name="${reg.name}" bitsize="${reg.bits}" type="${reg.type}" regnum="${registers.indexOf(reg)}"${group}${saveRestore}/>`);
    }
    lines.push('  </feature>');
  }
  lines.push('</target>');
  return `${lines.join('\n')}\n`;
}
