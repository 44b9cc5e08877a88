import { Debugger } from '../vmm/debug/debugger.js';
import { Monitor } from '../vmm/monitor/monitor.js';
import type { VirtMachine } from '../vmm/index.js';
import { GdbServer } from './gdb/gdb-server.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import { MonitorServer } from './monitor/monitor-server.js';
import { registerMigrationCommands } from './migration-commands.js';

export interface FrontEndOptions {
  readonly gdb?: ListenAddress;
  /** Keep the machine paused until gdb connects and continues it. */
  readonly waitGdb?: boolean;
  readonly monitor?: ListenAddress;
  /** One-line diagnostics (the CLI prefixes "tagvisor: " and writes them to stderr). */
  readonly log: (message: string) => void;
  /** Trace every gdb packet through `log`. */
  readonly traceGdb?: boolean;
}

/** A front end could not start (e.g. its address is in use): a bad-usage error for the CLI. */
export class FrontEndError extends Error {
  override readonly name = 'FrontEndError';
}

/**
 * The network front ends of one run: the gdb stub and the JSON monitor. Started before the guest
 * runs, closed after it ends (replies and events already queued are flushed first).
 */
export class FrontEnds {
  private constructor(
    readonly gdb: GdbServer | null,
    readonly monitor: MonitorServer | null,
    private readonly monitorModel: Monitor | null,
  ) {}

  static async start(machine: VirtMachine, options: FrontEndOptions): Promise<FrontEnds> {
    let gdb: GdbServer | null = null;
    let monitorServer: MonitorServer | null = null;
    let monitor: Monitor | null = null;
    try {
      if (options.gdb) {
        const trace = options.traceGdb ? (direction: string, payload: string) => options.log(`gdb ${direction} ${payload.slice(0, 200)}`) : undefined;
        gdb = await GdbServer.listen(Debugger.of(machine), options.gdb, { log: options.log, ...(trace ? { trace } : {}) });
        if ((options.gdb.kind === 'tcp' && options.gdb.port === 0) || options.waitGdb) options.log(`gdb stub listening on ${formatListenAddress(gdb.address)}`);
      }
      if (options.monitor) {
        monitor = new Monitor(machine, { log: options.log });
        registerMigrationCommands(monitor);
        monitorServer = await MonitorServer.listen(monitor, options.monitor, options.log);
        if (options.monitor.kind === 'tcp' && options.monitor.port === 0) options.log(`monitor listening on ${formatListenAddress(monitorServer.address)}`);
      }
    } catch (error) {
      await gdb?.close();
      await monitorServer?.close();
      monitor?.dispose();
      const what = error as NodeJS.ErrnoException;
      throw new FrontEndError(`cannot listen: ${what.code === 'EADDRINUSE' ? 'address already in use' : what.message}`);
    }
    if (options.waitGdb) machine.pause();
    return new FrontEnds(gdb, monitorServer, monitor);
  }

  async close(): Promise<void> {
    await this.monitorModel?.idle();
    await Promise.all([this.gdb?.close(), this.monitor?.close()]);
    this.monitorModel?.dispose();
  }
}
