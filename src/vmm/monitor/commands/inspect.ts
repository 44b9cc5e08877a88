import { Sys } from '../../../cpu/index.js';
import type { CommandRegistry } from '../registry.js';
import { viaDebugger } from './errors.js';

const TCF_NAMES = ['none', 'sync', 'async', 'asymmetric'];

/** query-mte and query-cpus. */
export function registerInspectCommands(registry: CommandRegistry): void {
  registry.register({
    name: 'query-mte',
    description: 'MTE state: whether the VM has MTE, the tag-check mode per EL, TCO, tag-check fault counts and pages holding tags.',
    states: ['running', 'paused', 'shutdown'],
    args: {},
    returns: '{"enabled": bool, "el0": {...}, "el1": {...}, "tco": bool, "gcr-exclude": n, "rgsr": "0x...", "tfsr-el1": n, "tfsre0-el1": n, "faults": {...}, "tagged-pages": n, "missing-pages": n}',
    run: ({ machine, events, debug }) => {
      const cpu = machine.vcpu.cpu;
      const el = (n: number) => ({ 'tag-access': cpu.tagAccessEnabled(n), tcf: TCF_NAMES[cpu.tagCheckMode(n)] });
      // Post-copy: pages not received yet (their tags unknown here); the delivered ones settle and count now.
      const missingPages = machine.vm.memory.missingPages();
      let taggedPages = 0;
      for (const region of machine.vm.memory.space.ramRegions) {
        if (region.tags) taggedPages += region.tags.initialised.reduce((sum, flag) => sum + flag, 0);
      }
      const faults = { total: cpu.tagFaultCount, 'sync-since-monitor-start': events.faults.sync, 'async-since-monitor-start': events.faults.async };
      // The MTE controls are system registers: a protected VM hides them (docs/protected-vm.md).
      if (!debug.inspection.permits('read of the MTE system registers')) return { enabled: machine.mte, faults, 'tagged-pages': taggedPages, 'missing-pages': missingPages };
      return {
        enabled: machine.mte,
        el0: el(0),
        el1: el(1),
        tco: cpu.tco === 1,
        'gcr-exclude': cpu.sysLo(Sys.GCR_EL1) & 0xffff,
        rgsr: BigInt(cpu.sysLo(Sys.RGSR_EL1) >>> 0),
        'tfsr-el1': cpu.sysLo(Sys.TFSR_EL1) & 3,
        'tfsre0-el1': cpu.sysLo(Sys.TFSRE0_EL1) & 3,
        faults,
        'tagged-pages': taggedPages,
        'missing-pages': missingPages,
      };
    },
  });
  registry.register({
    name: 'query-cpus',
    description: 'The vCPUs and their registers (general, pc, cpsr, system; tag_ctl with MTE).',
    states: ['running', 'paused', 'shutdown'],
    args: {},
    returns: '[{"cpu-index": 0, "el": n, "pc": "0x...", "registers": {"x0": "0x...", ...}}]',
    run: ({ machine, debug }) => {
      const registers = viaDebugger(() => debug.registers.snapshot());
      return [{ 'cpu-index': machine.vcpu.id, el: machine.vcpu.cpu.el, pc: registers.pc, registers }];
    },
  });
}
