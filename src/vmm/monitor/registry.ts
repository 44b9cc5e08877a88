import type { Debugger } from '../debug/debugger.js';
import type { VirtMachine } from '../machine.js';
import { checkArguments, type ArgSpec, type ArgValue } from './arguments.js';
import type { MonitorEventHub } from './events.js';
import { MonitorError } from './protocol.js';

/** What a command handler may use. */
export interface CommandContext {
  readonly machine: VirtMachine;
  readonly debug: Debugger;
  readonly events: MonitorEventHub;
  /** Runs `action` once the reply to this command has been written (e.g. quit's shutdown). */
  readonly afterReply: (action: () => void) => void;
}

/** The context a monitor front end provides; sessions add `afterReply` per command. */
export type MonitorContext = Omit<CommandContext, 'afterReply'>;

/**
 * One monitor command. `states` lists the machine states (VirtMachine.state; other modules may
 * add states such as an incoming migration) in which it may run, or 'any'; elsewhere it is
 * refused with InvalidState before its handler is called. A handler returns the "return" value
 * (undefined means {}), may be async, and reports failures by throwing MonitorError (other
 * errors become GenericError).
 */
export interface CommandDef {
  readonly name: string;
  readonly description: string;
  readonly states: readonly string[] | 'any';
  readonly args: ArgSpec;
  /** What the reply's "return" holds, for docs and query-commands. */
  readonly returns: string;
  run(context: CommandContext, args: Record<string, ArgValue>): unknown;
}

/**
 * The monitor's command registry. The built-in commands register themselves
 * (commands/index.ts); other modules (snapshots, migration) register theirs the same way, before
 * or after the monitor starts: sessions look commands up at execution time.
 */
export class CommandRegistry {
  private readonly commands = new Map<string, CommandDef>();

  register(def: CommandDef): void {
    if (!/^[a-z][a-z0-9_-]*$/.test(def.name)) throw new Error(`bad command name '${def.name}'`);
    if (this.commands.has(def.name)) throw new Error(`monitor command '${def.name}' is already registered`);
    this.commands.set(def.name, def);
  }

  get(name: string): CommandDef | undefined {
    return this.commands.get(name);
  }

  list(): CommandDef[] {
    return [...this.commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Checks state and arguments, then runs the command. Throws MonitorError for a refusal;
   * other errors come from the handler itself.
   */
  async execute(context: CommandContext, name: string, rawArgs: unknown): Promise<unknown> {
    const def = this.commands.get(name);
    if (!def) throw new MonitorError('CommandNotFound', `The command ${name} has not been found`);
    const state = context.machine.state;
    if (def.states !== 'any' && !def.states.includes(state)) {
      throw new MonitorError('InvalidState', `'${name}' is not allowed while the VM is ${state} (allowed: ${def.states.join(', ')})`);
    }
    const args = checkArguments(def.args, rawArgs);
    const result: unknown = await def.run(context, args);
    return result === undefined ? {} : result;
  }
}
