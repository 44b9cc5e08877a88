import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { VirtMachine } from '../vmm/index.js';

/** Exit statuses of `tagvisor run` (DESIGN.md §7). */
export const EXIT_STATUS = {
  OK: 0,
  BAD_INPUT: 2,
  INTERNAL: 70,
  INSN_LIMIT: 124,
  /** gdb's `kill` ended the run (128 + SIGKILL, as for a killed process). The monitor's `quit` exits 0. */
  KILLED_BY_GDB: 137,
} as const;

export interface RunOptions {
  /** Stop after this many guest instructions (exit status 124). */
  readonly maxInsns?: number;
  /** Instructions per slice between event-loop turns. */
  readonly sliceSize?: number;
}

export interface RunOutcome {
  readonly status: number;
  readonly instructions: number;
  readonly seconds: number;
  readonly why: string;
}

/**
 * Drives a machine to shutdown (or the instruction limit), yielding to Node's event loop between
 * slices so sockets (monitor, gdb) stay served.
 */
export async function runToCompletion(machine: VirtMachine, options: RunOptions = {}): Promise<RunOutcome> {
  const limit = options.maxInsns ?? Infinity;
  const slice = options.sliceSize ?? 4_000_000;
  const started = performance.now();
  while (machine.state === 'running' || machine.state === 'paused') {
    if (machine.state === 'paused') {
      await untilResumed(machine);
      continue;
    }
    const left = limit - machine.instructions;
    if (left <= 0) break;
    machine.runSlice(Math.min(slice, left, machine.sliceLimit));
    if (machine.state === 'running') await (machine.waitingForHost ? untilWoken(machine) : yieldToEventLoop());
  }
  const seconds = (performance.now() - started) / 1000;
  const shutdown = machine.shutdown;
  if (!shutdown) return { status: EXIT_STATUS.INSN_LIMIT, instructions: machine.instructions, seconds, why: `instruction limit (${limit}) reached` };
  switch (shutdown.kind) {
    case 'semihosting-exit':
      return { status: shutdown.code & 0xff, instructions: machine.instructions, seconds, why: `semihosting exit ${shutdown.code}` };
    case 'system-off':
      return { status: EXIT_STATUS.OK, instructions: machine.instructions, seconds, why: 'PSCI SYSTEM_OFF' };
    case 'system-reset':
      return { status: EXIT_STATUS.OK, instructions: machine.instructions, seconds, why: 'PSCI SYSTEM_RESET (--no-reboot)' };
    case 'cpu-off':
      return { status: EXIT_STATUS.OK, instructions: machine.instructions, seconds, why: 'PSCI CPU_OFF of the last vCPU' };
    case 'migrated':
      return { status: EXIT_STATUS.OK, instructions: machine.instructions, seconds, why: 'migrated to the destination' };
    case 'terminated':
      return shutdown.by === 'gdb'
        ? { status: EXIT_STATUS.KILLED_BY_GDB, instructions: machine.instructions, seconds, why: 'killed from gdb' }
        : { status: EXIT_STATUS.OK, instructions: machine.instructions, seconds, why: 'quit from the monitor' };
  }
}

/**
 * A guest idles in WFI waiting for host input (virtio-console): resolves on the machine's 'wake'
 * event or after 20 ms (a spurious wake-up, which the guest tolerates), so other front ends and
 * the instruction limit are still served.
 */
function untilWoken(machine: VirtMachine): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, 20);
    const off = machine.events.on('wake', done);
    function done(): void {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

/** Resolves when a paused machine resumes or shuts down (a front end decides which). */
function untilResumed(machine: VirtMachine): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      offResume();
      offShutdown();
      resolve();
    };
    const offResume = machine.events.on('resume', done);
    const offShutdown = machine.events.on('shutdown', done);
  });
}
