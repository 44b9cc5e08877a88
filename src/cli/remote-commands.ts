import cliProgress from 'cli-progress';
import { formatListenAddress, type ListenAddress } from '../node/listen-address.js';
import { MonitorClient, MonitorCommandError } from '../node/monitor/client.js';
import { readAuthTokenFile } from '../node/monitor/auth-token-file.js';
import { EXIT_STATUS } from '../node/run-guest.js';

/**
 * The CLI commands that drive a running `tagvisor run` through its JSON monitor:
 * `tagvisor migrate` and `tagvisor snapshot save|load`. Exit status 0 on success, 1 when the
 * operation failed, an unreachable monitor included (the VM, if any, is unaffected), 2 for bad
 * usage (commander's parse errors).
 */

async function connect(address: ListenAddress, authTokenFile?: string): Promise<MonitorClient | number> {
  let token: string | undefined;
  if (authTokenFile !== undefined) {
    const read = await readAuthTokenFile(authTokenFile);
    if (read.error !== undefined) {
      process.stderr.write(`tagvisor: ${read.error}\n`);
      return EXIT_STATUS.BAD_INPUT;
    }
    token = read.value;
  }
  try {
    return await MonitorClient.connect(address, undefined, token);
  } catch (error) {
    process.stderr.write(`tagvisor: cannot reach the monitor at ${formatListenAddress(address)}: ${unreachableText(error)}\n`);
    return OPERATION_FAILED;
  }
}

/** The exit status of a migrate or snapshot that did not happen. */
const OPERATION_FAILED = 1;

function unreachableText(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ECONNREFUSED':
      return 'connection refused (is `tagvisor run --monitor` running there?)';
    case 'ENOENT':
      return 'no such socket';
    default:
      return (error as Error).message;
  }
}

function failed(error: unknown): number {
  const message = error instanceof MonitorCommandError ? error.desc : error instanceof Error ? error.message : String(error);
  process.stderr.write(`tagvisor: ${message}\n`);
  return OPERATION_FAILED;
}

/** docs/migration-protocol.md §6: the source asked for commit and never heard back. */
const POSTMIGRATE_ADVICE =
  'the destination may have taken over, so the source VM stays paused (postmigrate): ' +
  'if the destination runs the guest, quit the source (monitor `quit`); if it does not, resume the source (monitor `cont`)';

/** docs/migration-protocol.md §9: the page connection was lost once the destination could run the guest. */
const POSTCOPY_ADVICE =
  'the source VM stays paused with its full state as it was when the guest moved: if the destination stopped ' +
  '("post-copy failed", exit status 74), resume the source (monitor `cont`) or save it (`tagvisor snapshot save`); ' +
  'if the destination runs the guest, quit the source (monitor `quit`)';

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export interface MigrateOptions {
  readonly monitor: ListenAddress;
  readonly to: string;
  readonly maxDowntime?: number;
  readonly maxRounds?: number;
  readonly stallTimeout?: number;
  /** Post-copy (docs/migration-protocol.md §9). */
  readonly postcopy?: boolean;
  /** The monitor's token (docs/monitor-api.md, "Who may connect"). */
  readonly authTokenFile?: string;
}

/** `tagvisor migrate --monitor <addr> --to tcp:<host>:<port>`: live migration with a progress bar. */
export async function migrateCommand(options: MigrateOptions): Promise<number> {
  const client = await connect(options.monitor, options.authTokenFile);
  if (typeof client === 'number') return client;
  const bar = new cliProgress.SingleBar(
    {
      format: 'round {round} |{bar}| {value}/{total} pages | {sent} | {rate}/s | remaining {remaining}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    client.onEvent = (event, data) => {
      if (event !== 'MIGRATION') return;
      const total = Number(data['total-pages'] ?? 0);
      const values = {
        round: data.round,
        sent: mib(Number(data['bytes-sent'] ?? 0)),
        rate: mib(Number(data['bandwidth-bytes-per-s'] ?? 0)),
        remaining: `${data['remaining-pages']} pages`,
      };
      if (!started && total > 0 && process.stderr.isTTY) {
        bar.start(total, 0, values);
        started = true;
      }
      if (started) bar.update(Math.min(total, Number(data['pages-sent'] ?? 0)), values);
      if (data.status === 'completed' || data.status === 'failed') resolve(data);
    };
    client.onClose = reject;
  });
  try {
    await client.execute('migrate', {
      uri: options.to,
      ...(options.maxDowntime !== undefined ? { 'max-downtime-ms': options.maxDowntime } : {}),
      ...(options.maxRounds !== undefined ? { 'max-rounds': options.maxRounds } : {}),
      ...(options.stallTimeout !== undefined ? { 'stall-timeout-ms': options.stallTimeout } : {}),
      ...(options.postcopy ? { postcopy: true } : {}),
    });
    const result = await done;
    if (started) bar.stop();
    if (result.status === 'failed' && result.postcopy && result.outcome === 'postmigrate') return failed(new Error(`post-copy migration failed: ${String(result.error)}; ${POSTCOPY_ADVICE}`));
    if (result.postcopy && result.status === 'completed') {
      process.stdout.write(
        `post-copy migration completed in ${Number(result['total-ms']) / 1000} s
` +
          `switch-over: ${result['downtime-ms']} ms (source paused to the guest running on the destination)
` +
          `pages: ${result['pages-sent']} sent, ${mib(Number(result['bytes-sent']))}
`,
      );
      return EXIT_STATUS.OK;
    }
    if (result.status === 'failed') return failed(new Error(`migration failed: ${String(result.error)}; ${result.outcome === 'postmigrate' ? POSTMIGRATE_ADVICE : 'the source VM keeps running'}`));
    process.stdout.write(
      `migration completed in ${Number(result['total-ms']) / 1000} s over ${result.round} rounds\n` +
        `downtime: ${result['downtime-ms']} ms\n` +
        `downtime at the destination: ${result['target-downtime-ms']} ms (maximum ${result['max-downtime-ms']} ms, expected ${result['expected-downtime-ms']} ms, vCPU throttled ${result['cpu-throttle-percentage']} %)\n` +
        (result['downtime-exceeded'] ? `downtime exceeded the maximum${result.forced ? ' (--max-rounds forced the stop-and-copy)' : ' (the estimate was wrong: the machine is busier than the last rounds measured)'}\n` : '') +
        `data: ${mib(Number(result['data-bytes']))} (${result['pages-sent']} pages)\n` +
        `tags: ${mib(Number(result['tag-bytes']))} (${result['tag-pages-sent']} pages)\n`,
    );
    return EXIT_STATUS.OK;
  } catch (error) {
    if (started) bar.stop();
    return failed(error);
  } finally {
    client.onClose = () => {};
    client.close();
  }
}

/** `tagvisor snapshot save|load --monitor <addr> <file>`: pauses around the operation if needed. */
export async function snapshotCommand(action: 'save' | 'load', file: string, monitor: ListenAddress, authTokenFile?: string): Promise<number> {
  const client = await connect(monitor, authTokenFile);
  if (typeof client === 'number') return client;
  try {
    const status = (await client.execute('query-status')) as { status?: string };
    const wasRunning = status.status === 'running';
    if (wasRunning) await client.execute('stop');
    try {
      const result = (await client.execute(action === 'save' ? 'snapshot-save' : 'snapshot-load', { file })) as { bytes?: number };
      process.stdout.write(action === 'save' ? `saved ${mib(result.bytes ?? 0)} to ${file}\n` : `restored ${file}\n`);
    } finally {
      if (wasRunning) await client.execute('cont');
    }
    return EXIT_STATUS.OK;
  } catch (error) {
    return failed(error);
  } finally {
    client.close();
  }
}
