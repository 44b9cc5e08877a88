import type { Shutdown } from '../../machine.js';
import type { DebugStop } from '../debugger.js';
import { GUEST_PID, GUEST_TID } from './synthetic-files.js';

/** gdb's signal numbers (include/gdb/signals.def). */
export const SIGINT = 2;
export const SIGTRAP = 5;
export const SIGKILL = 9;

export const THREAD_ID = `p${GUEST_PID.toString(16)}.${GUEST_TID.toString(16)}`;

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * The stop reply for a paused machine (GDB manual, "Stop Reply Packets"): SIGINT for a pause
 * (Ctrl-C, the monitor's `stop`), SIGTRAP for steps, breakpoints and watchpoints, with the
 * swbreak/hwbreak/watch/rwatch/awatch stop reason.
 */
export function stopReply(stop: DebugStop | null): string {
  if (!stop) return `T${hex2(SIGTRAP)}thread:${THREAD_ID};`;
  const signal = stop.reason === 'pause' ? SIGINT : SIGTRAP;
  let reason = '';
  const hit = stop.hit;
  if (hit?.kind === 'breakpoint') reason = hit.hardware ? 'hwbreak:;' : 'swbreak:;';
  else if (hit?.kind === 'watchpoint') reason = `${hit.watch === 'write' ? 'watch' : hit.watch === 'read' ? 'rwatch' : 'awatch'}:${hit.dataAddress.toString(16)};`;
  return `T${hex2(signal)}${reason}thread:${THREAD_ID};`;
}

/** The reply when the machine has shut down: exited with a status, or killed (by the monitor). */
export function exitReply(shutdown: Shutdown): string {
  const pid = `process:${GUEST_PID.toString(16)}`;
  switch (shutdown.kind) {
    case 'semihosting-exit':
      return `W${hex2(shutdown.code & 0xff)};${pid}`;
    case 'terminated':
      return `X${hex2(SIGKILL)};${pid}`;
    default:
      return `W00;${pid}`;
  }
}
