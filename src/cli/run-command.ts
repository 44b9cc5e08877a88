import { readFile } from 'node:fs/promises';
import { EXIT_STATUS, runToCompletion } from '../node/run-guest.js';
import { ElfError, VirtMachine } from '../vmm/index.js';

export interface RunCommandOptions {
  readonly memory: number;
  readonly mte: boolean;
  readonly maxInsns?: number;
  readonly stats?: boolean;
}

/** `tagvisor run`: returns the process exit status. */
export async function runCommand(guestPath: string, options: RunCommandOptions): Promise<number> {
  let image: Uint8Array;
  try {
    image = await readFile(guestPath);
  } catch (error) {
    return fail(`${guestPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const machine = new VirtMachine({ memoryBytes: options.memory, mte: options.mte });
  try {
    machine.loadElf(image);
  } catch (error) {
    if (error instanceof ElfError) return fail(`${guestPath}: ${error.message}`);
    throw error;
  }
  machine.events.on('output', (bytes) => process.stdout.write(bytes));
  machine.events.on('console', (bytes) => process.stderr.write(bytes));
  machine.events.on('warning', (message) => process.stderr.write(`tagvisor: ${message}\n`));
  const outcome = await runToCompletion(machine, options.maxInsns === undefined ? {} : { maxInsns: options.maxInsns });
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
