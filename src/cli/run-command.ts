import { readFile } from 'node:fs/promises';
import { EXIT_STATUS, runToCompletion } from '../node/run-guest.js';
import { FrontEndError, FrontEnds } from '../node/front-ends.js';
import type { ListenAddress } from '../node/listen-address.js';
import { ElfError, VirtMachine } from '../vmm/index.js';
import { DriveError, FileDisk } from '../node/file-disk.js';
import { attachStdin } from '../node/console-input.js';

export interface RunCommandOptions {
  readonly memory: number;
  readonly mte: boolean;
  readonly maxInsns?: number;
  readonly stats?: boolean;
  /** gdb stub and JSON monitor (docs/gdb.md, docs/monitor-api.md). */
  readonly gdb?: ListenAddress;
  readonly waitGdb?: boolean;
  readonly monitor?: ListenAddress;
  /** virtio-blk drives, the DMA path and the virtio console (docs/devices.md). */
  readonly drive?: readonly string[];
  readonly dma?: 'direct' | 'bounce';
  readonly virtioConsole?: boolean;
}

/** `tagvisor run`: returns the process exit status. */
export async function runCommand(guestPath: string, options: RunCommandOptions): Promise<number> {
  if (options.waitGdb && !options.gdb) return fail('--wait-gdb needs --gdb tcp:<host>:<port>');
  let image: Uint8Array;
  try {
    image = await readFile(guestPath);
  } catch (error) {
    return fail(`${guestPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const drives: FileDisk[] = [];
  try {
    for (const spec of options.drive ?? []) drives.push(FileDisk.open(spec));
  } catch (error) {
    for (const drive of drives) drive.close();
    if (error instanceof DriveError) return fail(`--drive: ${error.message}`);
    throw error;
  }
  try {
    return await runMachine(guestPath, image, options, drives);
  } finally {
    for (const drive of drives) drive.close();
  }
}

async function runMachine(guestPath: string, image: Uint8Array, options: RunCommandOptions, drives: FileDisk[]): Promise<number> {
  const consoleSink = options.virtioConsole ? (bytes: Uint8Array) => void process.stdout.write(bytes) : undefined;
  const machine = new VirtMachine({ memoryBytes: options.memory, mte: options.mte, drives, dma: options.dma ?? 'direct', ...(consoleSink ? { console: consoleSink } : {}) });
  try {
    machine.loadElf(image);
  } catch (error) {
    if (error instanceof ElfError) return fail(`${guestPath}: ${error.message}`);
    throw error;
  }
  const detachStdin = machine.devices.console ? attachStdin(machine) : () => {};
  machine.events.on('output', (bytes) => process.stdout.write(bytes));
  machine.events.on('console', (bytes) => process.stderr.write(bytes));
  machine.events.on('warning', (message) => process.stderr.write(`tagvisor: ${message}\n`));
  let frontEnds: FrontEnds;
  try {
    const log = (message: string): void => void process.stderr.write(`tagvisor: ${message}\n`);
    frontEnds = await FrontEnds.start(machine, { ...options, log, traceGdb: process.env.TAGVISOR_GDB_TRACE === '1' });
  } catch (error) {
    if (error instanceof FrontEndError) return fail(error.message);
    throw error;
  }
  let outcome;
  try {
    outcome = await runToCompletion(machine, options.maxInsns === undefined ? {} : { maxInsns: options.maxInsns });
  } finally {
    detachStdin();
    await frontEnds.close();
  }
  if (outcome.status === EXIT_STATUS.INSN_LIMIT) process.stderr.write(`tagvisor: stopped: ${outcome.why}\n`);
  if (options.stats) {
    const mips = outcome.seconds > 0 ? outcome.instructions / outcome.seconds / 1e6 : 0;
    process.stderr.write(
      `instructions: ${outcome.instructions}\nseconds: ${outcome.seconds.toFixed(3)}\nmips: ${mips.toFixed(1)}\n` +
        `tag_check_faults: ${machine.vcpu.cpu.tagFaultCount}\nexit: ${outcome.why}\n`,
    );
  }
  return outcome.status;
}

function fail(message: string): number {
  process.stderr.write(`tagvisor: ${message}\n`);
  return EXIT_STATUS.BAD_INPUT;
}
