import { Debugger } from '../../debug/debugger.js';
import type { VirtMachine } from '../../machine.js';
import type { CommandRegistry } from '../registry.js';
import { viaDebugger } from './errors.js';

/** The machine's status as query-status reports it. */
export function machineStatus(machine: VirtMachine): Record<string, unknown> {
  const status: Record<string, unknown> = { status: machine.state, running: machine.state === 'running' };
  const stop = Debugger.of(machine).lastStop;
  if (machine.state === 'paused' && stop) status['stop-reason'] = stop.reason;
  if (machine.shutdown) status.shutdown = { ...machine.shutdown };
  status.instructions = machine.instructions;
  return status;
}

/** query-status, stop, cont, step, system_reset, quit. */
export function registerRunControlCommands(registry: CommandRegistry): void {
  registry.register({
    name: 'query-status',
    description: "The VM's run state.",
    states: 'any',
    args: {},
    returns: '{"status": "created|running|paused|shutdown", "running": bool, "stop-reason"?: "pause|step|breakpoint|watchpoint|postmigrate", "shutdown"?: {...}, "instructions": n}',
    run: ({ machine }) => machineStatus(machine),
  });
  registry.register({
    name: 'stop',
    description: 'Pause the VM (a no-op when it is already paused). Emits STOP.',
    states: ['running', 'paused'],
    args: {},
    returns: '{}',
    run: ({ debug }) => {
      debug.pause();
    },
  });
  registry.register({
    name: 'cont',
    description: 'Resume a paused VM (a no-op when it is running). Emits RESUME.',
    states: ['running', 'paused'],
    args: {},
    returns: '{}',
    run: ({ debug }) => viaDebugger(() => debug.resume()),
  });
  // Added with the live viewer's Step button (docs/web.md); the JSON monitor has it too.
  registry.register({
    name: 'step',
    description: 'Execute one instruction of a paused VM; it stays paused. Emits STOP with reason "step" (or the reason a breakpoint or watchpoint gives).',
    states: ['paused'],
    args: {},
    returns: '{}',
    run: ({ debug }) => viaDebugger(() => debug.step()),
  });
  registry.register({
    name: 'system_reset',
    description: 'Reset the VM: the vCPU restarts at the image entry, memory is reloaded and tags forgotten. A paused VM stays paused. Emits RESET.',
    states: ['running', 'paused'],
    args: {},
    returns: '{}',
    run: ({ machine }) => machine.reset(),
  });
  registry.register({
    name: 'quit',
    description: 'End the run (tagvisor exits with status 0) after replying. Emits SHUTDOWN.',
    states: 'any',
    args: {},
    returns: '{}',
    run: ({ machine, afterReply }) => {
      afterReply(() => machine.terminate('monitor'));
    },
  });
}
