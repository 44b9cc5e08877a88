import { MonitorServer } from '../../src/node/monitor/monitor-server.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import type { ListenAddress } from '../../src/node/listen-address.js';
import { Monitor } from '../../src/vmm/monitor/monitor.js';
import { gdbTagsMachine } from '../support/debugger.js';

/**
 * The gdb-tags machine, paused, with a monitor listening on `address`, running in this process.
 * `cleanup` receives the step that ends the run and closes the server.
 */
export async function serveMonitor(address: ListenAddress, cleanup: (step: () => Promise<void>) => void) {
  const machine = gdbTagsMachine();
  const monitor = new Monitor(machine);
  const server = await MonitorServer.listen(monitor, address);
  machine.pause();
  const run = runToCompletion(machine, { maxInsns: 50_000_000 });
  cleanup(async () => {
    machine.terminate('monitor');
    await run;
    await server.close();
    monitor.dispose();
  });
  return { machine, server, run, port: server.address.kind === 'tcp' ? server.address.port : 0 };
}
