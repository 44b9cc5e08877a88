import { DebugError } from '../../debug/errors.js';
import { MonitorError } from '../protocol.js';

/** Runs a debugger call, turning its refusals into monitor errors (a policy refusal is AccessDenied). */
export function viaDebugger<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (!(error instanceof DebugError)) throw error;
    if (error.code === 'denied') throw new MonitorError('AccessDenied', error.message);
    if (error.code === 'too-large' || error.code === 'bad-register' || error.code === 'read-only-register') throw new MonitorError('InvalidParameter', error.message);
    throw new MonitorError('MemoryError', error.message);
  }
}
