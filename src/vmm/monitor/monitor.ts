import { Debugger } from '../debug/debugger.js';
import type { VirtMachine } from '../machine.js';
import { registerBuiltinCommands } from './commands/index.js';
import { MonitorEventHub } from './events.js';
import { CommandRegistry, type MonitorContext } from './registry.js';
import { MonitorSession, type MonitorSessionOptions, type MonitorTransport } from './session.js';

/**
 * The JSON monitor of one machine (docs/monitor-api.md): a command registry with the built-in
 * commands, the event hub, and one MonitorSession per connection. Browser-safe: the sockets are
 * src/node/monitor's. Other modules add commands with `monitor.registry.register(...)` and events
 * with `monitor.events.emit(...)`.
 */
export class Monitor {
  readonly registry = new CommandRegistry();
  readonly events: MonitorEventHub;
  /** What commands run with: public so the live viewer (src/web/host/live-host.ts) executes them through `registry` too. */
  readonly context: MonitorContext;
  private readonly sessions = new Set<MonitorSession>();

  constructor(
    readonly machine: VirtMachine,
    private readonly options: MonitorSessionOptions = {},
  ) {
    this.events = new MonitorEventHub(machine, options.now);
    this.context = { machine, debug: Debugger.of(machine), events: this.events };
    registerBuiltinCommands(this.registry);
  }

  /** A new client: the session sends the greeting at once. Call `disconnect` when it goes. */
  connect(transport: MonitorTransport): MonitorSession {
    const session = new MonitorSession(this.registry, this.context, transport, this.options);
    this.sessions.add(session);
    return session;
  }

  disconnect(session: MonitorSession): void {
    session.close();
    this.sessions.delete(session);
  }

  /** Settles once every session has replied to everything it received. */
  async idle(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.idle()));
  }

  dispose(): void {
    for (const session of this.sessions) session.close();
    this.sessions.clear();
    this.events.dispose();
  }
}
