import { Debugger } from '../vmm/debug/debugger.js';
import { Monitor } from '../vmm/monitor/monitor.js';
import type { VirtMachine } from '../vmm/index.js';
import { GdbServer } from './gdb/gdb-server.js';
import { exposureRefusal, formatListenAddress, isLoopback, type ListenAddress } from './listen-address.js';
import { MonitorServer } from './monitor/monitor-server.js';
import { registerMigrationCommands } from './migration-commands.js';
import { WebAssetsError, WebServer } from './web/web-server.js';
import { shutdownText } from '../web/host/machine-host.js';

export interface FrontEndOptions {
  readonly gdb?: ListenAddress;
  /** Keep the machine paused until gdb connects and continues it. */
  readonly waitGdb?: boolean;
  readonly monitor?: ListenAddress;
  /** One-line diagnostics (the CLI prefixes "tagvisor: " and writes them to stderr). */
  readonly log: (message: string) => void;
  /** Trace every gdb packet through `log`. */
  readonly traceGdb?: boolean;
  /** The live viewer (docs/web.md): where it listens, whether it may change the VM, the guest's name. */
  readonly web?: ListenAddress;
  readonly webControl?: boolean;
  readonly webName?: string;
  /** Clients of the monitor and the viewer must present this token (docs/monitor-api.md). */
  readonly authToken?: string;
  /** Allow non-loopback addresses without a token (and for gdb at all). */
  readonly insecure?: boolean;
  /** snapshot-save / snapshot-load only inside this directory. */
  readonly snapshotDir?: string;
}

/** A front end could not start (e.g. its address is in use): a bad-usage error for the CLI. */
export class FrontEndError extends Error {
  override readonly name = 'FrontEndError';
}

/**
 * The network front ends of one run: the gdb stub, the JSON monitor and the live web viewer. Started before the guest
 * runs, closed after it ends (replies and events already queued are flushed first).
 */
export class FrontEnds {
  private constructor(
    readonly gdb: GdbServer | null,
    readonly monitor: MonitorServer | null,
    private readonly monitorModel: Monitor | null,
    readonly web: WebServer | null = null,
  ) {}

  static async start(machine: VirtMachine, options: FrontEndOptions): Promise<FrontEnds> {
    let gdb: GdbServer | null = null;
    let monitorServer: MonitorServer | null = null;
    let monitor: Monitor | null = null;
    let web: WebServer | null = null;
    const exposed = exposureRefusal(options, options.insecure ?? false, options.authToken !== undefined);
    if (exposed) throw new FrontEndError(exposed);
    for (const [option, address] of [['--gdb', options.gdb], ['--monitor', options.monitor], ['--web', options.web]] as const) {
      const open = address !== undefined && !isLoopback(address) && (option === '--gdb' || options.authToken === undefined);
      if (open) options.log(`warning: ${option} ${formatListenAddress(address)} lets anyone who can reach it control the VM (--insecure)`);
    }
    // Which option's server is starting, so a failure names it (--gdb, --monitor, --web).
    let starting = '';
    try {
      if (options.gdb) {
        starting = `--gdb ${formatListenAddress(options.gdb)}`;
        const trace = options.traceGdb ? (direction: string, payload: string) => options.log(`gdb ${direction} ${payload.slice(0, 200)}`) : undefined;
        gdb = await GdbServer.listen(Debugger.of(machine), options.gdb, { log: options.log, ...(trace ? { trace } : {}) });
        if ((options.gdb.kind === 'tcp' && options.gdb.port === 0) || options.waitGdb) options.log(`gdb stub listening on ${formatListenAddress(gdb.address)}`);
      }
      // The live viewer shares the monitor's model (its events and command registry), so both see
      // one event stream and a migration started on either is reported on both.
      if (options.monitor || options.web) {
        monitor = new Monitor(machine, { log: options.log, ...(options.authToken !== undefined ? { authToken: options.authToken } : {}) });
        registerMigrationCommands(monitor, options.snapshotDir === undefined ? {} : { snapshotDir: options.snapshotDir });
      }
      if (options.monitor) {
        starting = `--monitor ${formatListenAddress(options.monitor)}`;
        monitorServer = await MonitorServer.listen(monitor!, options.monitor, options.log);
        if (options.monitor.kind === 'tcp' && options.monitor.port === 0) options.log(`monitor listening on ${formatListenAddress(monitorServer.address)}`);
      }
      if (options.web) {
        starting = `--web ${formatListenAddress(options.web)}`;
        web = await WebServer.listen(monitor!, options.web, { name: options.webName ?? 'guest', control: options.webControl ?? false, log: options.log, ...(options.authToken !== undefined ? { authToken: options.authToken } : {}) });
        const { host, port } = web.address;
        options.log(`web viewer on http://${host.includes(':') ? `[${host}]` : host}:${port}/ (${options.webControl ? 'control enabled' : 'read-only'})`);
      }
    } catch (error) {
      await gdb?.close();
      await monitorServer?.close();
      await web?.close();
      monitor?.dispose();
      if (error instanceof WebAssetsError) throw new FrontEndError(error.message);
      throw new FrontEndError(`${starting}: ${listenErrorText(error)}`);
    }
    if (options.waitGdb) machine.pause();
    return new FrontEnds(gdb, monitorServer, monitor, web);
  }

  async close(): Promise<void> {
    await this.monitorModel?.idle();
    const machine = this.monitorModel?.machine;
    const reason = machine?.shutdown ? `the VM has ended (${shutdownText(machine.shutdown)}); tagvisor exited` : 'tagvisor exited';
    await Promise.all([this.gdb?.close(), this.monitor?.close(), this.web?.close(reason)]);
    this.monitorModel?.dispose();
  }
}

/** Why a server could not listen, in one line (the caller names the option and address). */
export function listenErrorText(error: unknown): string {
  const what = error as NodeJS.ErrnoException;
  switch (what.code) {
    case 'EADDRINUSE':
      return 'address already in use (another process is listening there)';
    case 'EACCES':
      return 'permission denied';
    case 'EADDRNOTAVAIL':
      return 'no such local address';
    default:
      return what.message;
  }
}
