/**
 * Benchmark child: a migration destination (`tagvisor run --incoming` without the CLI around
 * it). Prints `port N` once listening, then `received seconds S` after COMMITTED was sent, and
 * stops the guest right away (the benchmark measures the migration, not the guest).
 */
import { listenOnce } from '../../src/node/migration-tcp.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { receiveMigration } from '../../src/vmm/migration/index.js';

const memoryBytes = Number(process.argv[2] ?? 256 * 2 ** 20);
const machine = new VirtMachine({ memoryBytes, mte: true });
machine.vm.memory.prefault();
const { ready, accepted } = listenOnce('127.0.0.1', 0);
console.log(`port ${await ready}`);
const channel = await accepted;
const started = performance.now();
try {
  await receiveMigration(machine, channel);
  console.log(`received seconds ${(performance.now() - started) / 1000}`);
} catch (error) {
  console.log(`failed ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
