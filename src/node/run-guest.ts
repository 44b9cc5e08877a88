import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Shutdown, VirtMachine } from '../vmm/index.js';

/** Exit statuses of `tagvisor run` (README.md: the exit-status table). */
export const EXIT_STATUS = {
  OK: 0,
  BAD_INPUT: 2,
  INTERNAL: 70,
  INSN_LIMIT: 124,
  /** gdb's `kill` ended the run (128 + SIGKILL, as for a killed process). The monitor's `quit` exits 0. */
  KILLED_BY_GDB: 137,
} as const;

export interface RunOptions {
  /** Stop after this many guest instructions run by this call (exit status 124). */
  readonly maxInsns?: number;
  /** Instructions per slice between event-loop turns. */
  readonly sliceSize?: number;
  /**
   * When the guest ends (semihosting exit, PSCI SYSTEM_OFF or CPU_OFF), keep the machine for the
   * front ends until the monitor's `quit` or gdb's `kill` (QEMU's -no-shutdown); `onGuestEnd`
   * hears of the end. The outcome is still the guest's.
   */
  readonly noShutdown?: boolean;
  readonly onGuestEnd?: (why: string) => void;
}

export interface RunOutcome {
  readonly status: number;
  /** Guest instructions this call ran (not those a restored snapshot or migration ran before). */
  readonly instructions: number;
  /** Seconds the guest ran (time spent paused is not counted). */
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
  // machine.instructions includes what ran before a restore or migration: count our own,
  // including what a debugger's single steps ran between our slices.
  const startedAt = machine.instructionsHere;
  const executedNow = (): number => machine.instructionsHere - startedAt;
  let pausedMs = 0;
  const started = performance.now();
  let guestEnd: Shutdown | null = null;
  // This loop yields between slices: the JIT's background compiles get delivered (Cpu.backgroundCompile).
  machine.vcpu.cpu.backgroundCompile = true;
  for (;;) {
    while (machine.state === 'running' || machine.state === 'paused') {
      if (machine.state === 'paused') {
        const pausedAt = performance.now();
        await untilResumed(machine);
        pausedMs += performance.now() - pausedAt;
        continue;
      }
      const left = limit - executedNow();
      if (left <= 0) break;
      machine.runSlice(Math.min(slice, left, machine.sliceLimit));
      const throttled = machine.throttleDelayMs(); // a migration's auto-converge holds the vCPU back
      if (machine.state === 'running') await (machine.waitingForHost ? untilWoken(machine) : throttled > 0 ? sleep(throttled) : yieldToEventLoop());
    }
    const shutdown = machine.shutdown;
    if (!options.noShutdown || !shutdown || !endedByGuest(shutdown)) break;
    // The guest ended but the VM stays up (--no-shutdown) until a front end ends it, or loads
    // a snapshot and continues it (which may end again).
    guestEnd = shutdown;
    options.onGuestEnd?.(outcomeOf(shutdown).why);
    const endedAt = performance.now();
    await untilStateChanges(machine);
    pausedMs += performance.now() - endedAt;
  }
  const seconds = (performance.now() - started - pausedMs) / 1000;
  const executed = executedNow();
  const shutdown = machine.shutdown;
  if (!shutdown) return { status: EXIT_STATUS.INSN_LIMIT, instructions: executed, seconds, why: `instruction limit (${limit}) reached` };
  const outcome = outcomeOf(guestEnd && shutdown.kind === 'terminated' ? guestEnd : shutdown);
  return { ...outcome, instructions: executed, seconds };
}

/** The guest itself ended the run (exit, power-off...), rather than a front end or a migration. */
function endedByGuest(shutdown: Shutdown): boolean {
  return shutdown.kind !== 'terminated' && shutdown.kind !== 'migrated';
}

function outcomeOf(shutdown: Shutdown): { status: number; why: string } {
  switch (shutdown.kind) {
    case 'semihosting-exit':
      return { status: shutdown.code & 0xff, why: `semihosting exit ${shutdown.code}` };
    case 'system-off':
      return { status: EXIT_STATUS.OK, why: 'PSCI SYSTEM_OFF' };
    case 'system-reset':
      return { status: EXIT_STATUS.OK, why: 'PSCI SYSTEM_RESET (--no-reboot)' };
    case 'cpu-off':
      return { status: EXIT_STATUS.OK, why: 'PSCI CPU_OFF of the last vCPU' };
    case 'migrated':
      return { status: EXIT_STATUS.OK, why: 'migrated to the destination' };
    case 'terminated':
      return shutdown.by === 'gdb' ? { status: EXIT_STATUS.KILLED_BY_GDB, why: 'killed from gdb' } : { status: EXIT_STATUS.OK, why: 'quit from the monitor' };
    default:
      // A kind of end this switch does not know yet is an orderly one.
      return { status: EXIT_STATUS.OK, why: (shutdown as { kind: string }).kind };
  }
}

/** Resolves when a machine that has ended is ended for good, restored, resumed or reset. */
function untilStateChanges(machine: VirtMachine): Promise<void> {
  return new Promise((resolve) => {
    const offs = (['shutdown', 'resume', 'reset', 'stop'] as const).map((name) => machine.events.on(name, done));
    // A snapshot-load restores without an event of its own: look now and then.
    const timer = setInterval(() => {
      if (machine.state !== 'shutdown') done();
    }, 100);
    function done(): void {
      clearInterval(timer);
      for (const off of offs) off();
      resolve();
    }
  });
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
