/** Running the built CLI (dist/: `npm run build` first) from the CLI tests. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MonitorClient } from '../../src/node/monitor/client.js';
import { CLI, listening, ROOT, start, type Proc } from '../migration/cli-support.js';

export { CLI, listening, ROOT, start, until, type Proc } from '../migration/cli-support.js';

export const guest = (name: string): string => join(ROOT, 'guests/build', `${name}.elf`);

/** Runs `tagvisor <args>` to the end. */
export function tagvisor(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const MONITOR_PORT = /monitor listening on tcp:127\.0\.0\.1:(\d+)/;
export const INCOMING_PORT = /incoming migration on 127\.0\.0\.1:(\d+)/;

/** `tagvisor run --monitor tcp:127.0.0.1:0 <args>` and a connected monitor client. */
export async function withMonitor(...args: string[]): Promise<{ proc: Proc; port: number; monitor: MonitorClient }> {
  const proc = start('run', '--monitor', 'tcp:127.0.0.1:0', ...args);
  const port = await listening(proc, MONITOR_PORT);
  const monitor = await MonitorClient.connect({ kind: 'tcp', host: '127.0.0.1', port });
  return { proc, port, monitor };
}

/** Waits for the next `name` event on a monitor connection. */
export function nextEvent(monitor: MonitorClient, name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const previous = monitor.onEvent;
    monitor.onEvent = (event, data) => {
      previous(event, data);
      if (event !== name) return;
      monitor.onEvent = previous;
      resolve(data);
    };
  });
}
