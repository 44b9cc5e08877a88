import { open, rename, rm } from 'node:fs/promises';
import type { Monitor } from '../vmm/monitor/monitor.js';
import { MonitorError } from '../vmm/monitor/protocol.js';
import { CapabilityError, DEFAULT_STALL_TIMEOUT_MS, loadSealedSnapshot, loadSnapshot, maxSnapshotBytes, MigrationSource, saveSealedSnapshot, saveSnapshot, StreamFormatError, type MigrationProgress } from '../vmm/migration/index.js';
import type { VirtMachine } from '../vmm/index.js';
import { StateError } from '../common/persist.js';
import { connectChannel } from './migration-tcp.js';
import { PageWorkers } from './migration/page-workers.js';
import { FileTooLargeError, readFileBounded } from './bounded-read.js';
import { parseListenAddress } from './listen-address.js';
import { fileErrorText, writeErrorText } from './file-errors.js';
import { snapshotLoadPath, snapshotSavePath } from './monitor/snapshot-paths.js';


/**
 * The monitor's migration commands (docs/monitor-api.md): snapshot-save, snapshot-load, migrate and query-migrate.
 * They live in src/node because they touch files and sockets; the stream logic is
 * src/vmm/migration's. MIGRATION events report progress (status, round, pages, bytes...).
 */
export function registerMigrationCommands(monitor: Monitor, files: { readonly snapshotDir?: string } = {}): void {
  let current: MigrationSource | null = null;
  let last: MigrationProgress | null = null;

  monitor.registry.register({
    name: 'snapshot-save',
    description: 'Writes the paused VM (memory, tags, vCPU, devices) to a file, atomically.',
    states: ['paused', 'shutdown'],
    args: { file: { type: 'string', maxLength: 4096, description: 'path of the snapshot file to write' } },
    returns: '{"bytes": <file size>}',
    run: async ({ machine }, args) => {
      if (current) throw new MonitorError('InvalidState', 'a migration is in progress');
      const file = String(args.file);
      // Only a regular file is replaced, only inside --snapshot-dir (monitor/snapshot-paths.ts).
      const target = await snapshotSavePath(file, files.snapshotDir).catch((error: unknown) => Promise.reject(error instanceof MonitorError ? error : new MonitorError('GenericError', `cannot write ${writeErrorText(file, error)}`)));
      const temporary = `${target}.tmp-${process.pid}`;
      const chunks = await snapshotChunks(machine);
      let bytes = 0;
      try {
        const handle = await open(temporary, 'wx'); // never through something already there
        try {
          for (const chunk of chunks) {
            await handle.write(chunk);
            bytes += chunk.length;
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true });
        throw new MonitorError('GenericError', `cannot write ${writeErrorText(file, error)}`);
      }
      return { bytes };
    },
  });

  monitor.registry.register({
    name: 'snapshot-load',
    description: 'Replaces the VM with a snapshot; validates the whole file first, then leaves the VM paused.',
    states: ['paused', 'shutdown'],
    args: { file: { type: 'string', maxLength: 4096, description: 'path of the snapshot file to read' } },
    returns: '{}',
    run: async ({ machine }, args) => {
      if (current) throw new MonitorError('InvalidState', 'a migration is in progress');
      const file = String(args.file);
      const source = await snapshotLoadPath(file, files.snapshotDir);
      let bytes: Uint8Array;
      try {
        bytes = await readFileBounded(source, maxSnapshotBytes(machine.memoryBytes), 'snapshot');
      } catch (error) {
        if (error instanceof FileTooLargeError) throw new MonitorError('InvalidParameter', `${file}: ${error.message}; the VM is unchanged`);
        throw new MonitorError('GenericError', `cannot read ${fileErrorText(file, error)}`);
      }
      try {
        const key = machine.protection?.options.key;
        if (machine.protection && !key) throw new MonitorError('InvalidState', 'a protected VM restores only from an encrypted snapshot: start tagvisor with --key-file');
        if (key) await loadSealedSnapshot(machine, bytes, key);
        else loadSnapshot(machine, bytes);
      } catch (error) {
        if (error instanceof StreamFormatError || error instanceof StateError || error instanceof CapabilityError) {
          throw new MonitorError('InvalidParameter', `${file}: ${error.message}; the VM is unchanged`);
        }
        throw error;
      }
      return {};
    },
  });

  monitor.registry.register({
    name: 'migrate',
    description: 'Starts a live migration to a `tagvisor run --incoming` destination; progress comes as MIGRATION events.',
    states: ['running', 'paused'],
    args: {
      uri: { type: 'string', maxLength: 300, description: 'destination, tcp:<host>:<port>' },
      'max-downtime-ms': { type: 'integer', min: 1, max: 60_000, optional: true, description: 'stop-and-copy threshold (default 50)' },
      'max-rounds': { type: 'integer', min: 1, max: 1000, optional: true, description: 'stop and copy after this many rounds even above max-downtime-ms (default: no limit, auto-converge)' },
      'stall-timeout-ms': { type: 'integer', min: 1, max: 3_600_000, optional: true, description: `give up when no byte moves for this long (default ${DEFAULT_STALL_TIMEOUT_MS})` },
      postcopy: { type: 'boolean', optional: true, description: 'post-copy: the destination runs the guest at once and fetches pages (with their tags) on first touch' },
    },
    returns: '{}',
    run: async ({ machine, events }, args) => {
      if (current) throw new MonitorError('InvalidState', 'a migration is already in progress');
      let address;
      try {
        address = parseListenAddress(String(args.uri), false);
      } catch (error) {
        throw new MonitorError('InvalidParameter', (error as Error).message);
      }
      if (address.kind !== 'tcp') throw new MonitorError('InvalidParameter', 'uri must be tcp:<host>:<port>');
      const key = machine.protection?.options.key;
      if (machine.protection && !key) throw new MonitorError('InvalidState', 'a protected VM migrates only encrypted: start tagvisor with --key-file');
      if (args.postcopy === true && machine.protection) throw new MonitorError('InvalidParameter', 'a protected VM cannot post-copy (its pages leave only sealed)');
      const idleTimeoutMs = args['stall-timeout-ms'] !== undefined ? Number(args['stall-timeout-ms']) : DEFAULT_STALL_TIMEOUT_MS;
      let channel;
      try {
        channel = await connectChannel(address.host, address.port, undefined, { idleTimeoutMs });
      } catch (error) {
        throw new MonitorError('GenericError', `cannot connect to ${String(args.uri)}: ${(error as Error).message}`);
      }
      const source = new MigrationSource(machine, channel, {
        encoders: (regions) => PageWorkers.encoders(regions),
        ...(key ? { key } : {}),
        ...(args['max-downtime-ms'] !== undefined ? { maxDowntimeMs: Number(args['max-downtime-ms']) } : {}),
        ...(args['max-rounds'] !== undefined ? { maxRounds: Number(args['max-rounds']) } : {}),
        // Post-copy's page connection goes to the destination's host, on the port it names.
        ...(args.postcopy === true ? { postcopy: (port: number) => connectChannel(address.host, port, undefined, { idleTimeoutMs }) } : {}),
      });
      current = source;
      source.onProgress = (progress) => events.emit('MIGRATION', progressData(progress));
      void source.run().then((progress) => {
        last = progress;
        current = null;
      });
      return {};
    },
  });

  monitor.registry.register({
    name: 'query-migrate',
    description: 'The current or last migration: status, round, pages and bytes sent, bandwidth, downtime.',
    states: 'any',
    args: {},
    returns: '{"status": "none"|"setup"|"active"|"device"|"postcopy-active"|"completed"|"failed", "outcome"?: "resumed"|"postmigrate", "postcopy": bool, ...}',
    run: () => {
      const progress = current?.progress ?? last;
      return progress ? progressData(progress) : { status: 'none' };
    },
  });
}

/** A snapshot's sections: sealed with the VM's key for a protected VM, which has no plaintext form. */
async function snapshotChunks(machine: VirtMachine): Promise<Uint8Array[]> {
  const key = machine.protection?.options.key;
  if (machine.protection && !key) throw new MonitorError('InvalidState', "a protected VM's snapshot must be encrypted: start tagvisor with --key-file");
  return key ? saveSealedSnapshot(machine, key) : saveSnapshot(machine);
}

function progressData(p: MigrationProgress): Record<string, unknown> {
  return {
    status: p.status,
    round: p.round,
    'total-pages': p.totalPages,
    'pages-sent': p.pagesSent,
    'tag-pages-sent': p.tagPagesSent,
    'bytes-sent': p.bytesSent,
    'data-bytes': p.dataBytes,
    'tag-bytes': p.tagBytes,
    'remaining-pages': p.remainingPages,
    'bandwidth-bytes-per-s': Math.round(p.bandwidth),
    'total-ms': Math.round(p.totalMs),
    'downtime-ms': Math.round(p.downtimeMs * 10) / 10,
    'target-downtime-ms': Math.round(p.targetDowntimeMs * 10) / 10,
    'expected-downtime-ms': Math.round(p.expectedDowntimeMs * 10) / 10,
    'max-downtime-ms': p.maxDowntimeMs,
    'cpu-throttle-percentage': p.throttlePercent,
    postcopy: p.postcopy,
    ...(p.status === 'completed' ? { 'downtime-exceeded': p.downtimeMs > p.maxDowntimeMs, forced: p.forced } : {}),
    ...(p.error ? { error: p.error } : {}),
    ...(p.outcome ? { outcome: p.outcome } : {}),
  };
}
