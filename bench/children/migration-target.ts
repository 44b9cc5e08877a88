/**
 * Benchmark child: a migration destination (`tagvisor run --incoming` without the CLI around
 * it). Prints `port N` once listening and prefaulted, then `received seconds S cpu C` (CPU seconds of all its threads) after COMMITTED was sent, and
 * stops the guest right away (the benchmark measures the migration, not the guest).
 */
import { listenForMigration } from '../../src/node/migration/incoming.js';
import { PageWorkers } from '../../src/node/migration/page-workers.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { receiveMigration } from '../../src/vmm/migration/index.js';

const memoryBytes = Number(process.argv[2] ?? 256 * 2 ** 20);
const machine = new VirtMachine({ memoryBytes, mte: true });
const { ready, accepted, prefaulted } = listenForMigration(machine, '127.0.0.1', 0, { deferRamChecksum: true });
await ready;
// The port is printed once RAM is prefaulted, so the benchmark measures the stream, not page faults.
await prefaulted;
console.log(`port ${await ready}`);
const channel = await accepted;
const started = performance.now();
const cpuBefore = process.cpuUsage();
try {
  await receiveMigration(machine, channel, { decoders: (regions) => PageWorkers.decoders(regions) });
  const cpu = process.cpuUsage(cpuBefore);
  console.log(`received seconds ${(performance.now() - started) / 1000} cpu ${(cpu.user + cpu.system) / 1e6}`);
} catch (error) {
  console.log(`failed ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
