import type { CommandRegistry } from '../registry.js';
import { registerInspectCommands } from './inspect.js';
import { registerMemoryCommands } from './memory.js';
import { registerRunControlCommands } from './run-control.js';

export { MAX_MONITOR_TRANSFER } from './memory.js';
export { machineStatus } from './run-control.js';

/** Registers every built-in command (qmp_capabilities is the session's own). */
export function registerBuiltinCommands(registry: CommandRegistry): void {
  registry.register({
    name: 'query-commands',
    description: 'Every command this monitor accepts, with the VM states it is allowed in.',
    states: 'any',
    args: {},
    returns: '[{"name": "...", "states": [...] | "any", "args": [...]}]',
    run: () => [
      { name: 'qmp_capabilities', states: 'any', args: [] },
      ...registry.list().map((c) => ({ name: c.name, states: c.states, args: Object.keys(c.args) })),
    ],
  });
  registerRunControlCommands(registry);
  registerInspectCommands(registry);
  registerMemoryCommands(registry);
}
