import { readFileSync } from 'node:fs';
import { runToCompletion } from '../../src/node/run-guest.js';
import { VirtMachine } from '../../src/vmm/index.js';

export interface GuestResult {
  readonly stdout: string;
  readonly console: string;
  readonly status: number;
  readonly instructions: number;
}

/** Runs a guest image on Tagvisor in-process, like `tagvisor run`, capturing UART and console. */
export async function runGuest(elfPath: string, options: { memoryMiB?: number; mte?: boolean; maxInsns?: number } = {}): Promise<GuestResult> {
  const machine = new VirtMachine({ memoryBytes: (options.memoryMiB ?? 256) * 2 ** 20, mte: options.mte ?? true });
  machine.loadElf(readFileSync(elfPath));
  const out: Uint8Array[] = [];
  const consoleOut: Uint8Array[] = [];
  machine.events.on('output', (bytes) => out.push(bytes.slice()));
  machine.events.on('console', (bytes) => consoleOut.push(bytes.slice()));
  const outcome = await runToCompletion(machine, { maxInsns: options.maxInsns ?? 200_000_000 });
  return {
    stdout: Buffer.concat(out).toString('latin1'),
    console: Buffer.concat(consoleOut).toString('latin1'),
    status: outcome.status,
    instructions: outcome.instructions,
  };
}
