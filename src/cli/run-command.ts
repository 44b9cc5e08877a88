import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EXIT_STATUS, runToCompletion } from '../node/run-guest.js';
import { FrontEndError, FrontEnds, listenErrorText } from '../node/front-ends.js';
import { exposureRefusal, formatListenAddress, type ListenAddress } from '../node/listen-address.js';
import { readAuthTokenFile } from '../node/monitor/auth-token-file.js';
import { ElfError, VirtMachine } from '../vmm/index.js';
import type { CpuEngine } from '../cpu/index.js';
import { DriveError, FileDisk } from '../node/file-disk.js';
import { attachStdin } from '../node/console-input.js';
import { listenForMigration } from '../node/migration/incoming.js';
import { PageWorkers } from '../node/migration/page-workers.js';
import { POSTCOPY_FAILED_STATUS, PostcopyDestination } from '../node/migration/postcopy.js';
import { PageFetchError } from '../memory/index.js';
import { CapabilityError, DEFAULT_INCOMING_TIMEOUT_MS, loadSealedSnapshot, loadSnapshot, maxSnapshotBytes, parseKey, receiveMigration, StreamFormatError } from '../vmm/migration/index.js';
import { readFileBounded } from '../node/bounded-read.js';
import { StateError } from '../common/persist.js';
import { bootKernel, checkKernelOptions, dumpDeviceTree, KernelInputError, type KernelCliOptions } from './kernel-boot.js';
import { fileErrorText } from '../node/file-errors.js';

export interface RunCommandOptions extends KernelCliOptions {
  /** Instead of booting an ELF: wait for a live migration on tcp:<host>:<port>. */
  readonly incoming?: ListenAddress;
  /** Give up an incoming migration when no byte arrives for this long (docs/migration-protocol.md §6). */
  readonly incomingTimeout?: number;
  /** Instead of booting an ELF: start from a snapshot file. */
  readonly restore?: string;
  /** A protected VM; 'debug' allows (audited) debug access to its private memory. */
  readonly protected?: boolean | 'debug';
  /** AES-256 key file for a protected VM's migration and snapshots. */
  readonly keyFile?: string;
  readonly memory: number;
  readonly mte: boolean;
  /** The vCPU's execution engine (docs/jit.md). */
  readonly cpuEngine?: CpuEngine;
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
  /** The live web viewer (docs/web.md), and whether it may change the VM. */
  readonly web?: ListenAddress;
  readonly webControl?: boolean;
  /** Start with the vCPU paused (like QEMU's -S). */
  readonly startPaused?: boolean;
  /** Front-end exposure (docs/monitor-api.md, "Who may connect"): a token clients must present, read from a file. */
  readonly authTokenFile?: string;
  /** The token itself (runCommand reads it from authTokenFile). */
  readonly authToken?: string;
  /** Allow non-loopback front-end addresses without a token, and for gdb at all. */
  readonly insecure?: boolean;
  /** snapshot-save / snapshot-load accept only paths inside this directory. */
  readonly snapshotDir?: string;
  /** When the guest ends, keep the VM for the front ends until quit (QEMU's -no-shutdown). */
  readonly noShutdown?: boolean;
}

/** How the machine gets its first state: an ELF image, an incoming migration, or a snapshot. */
type Boot = { readonly kind: 'elf'; readonly path: string; readonly image: Uint8Array } | { readonly kind: 'kernel'; readonly path: string } | { readonly kind: 'none' } | { readonly kind: 'incoming'; readonly address: Extract<ListenAddress, { kind: 'tcp' }>; readonly timeoutMs: number } | { readonly kind: 'restore'; readonly path: string; readonly bytes: Uint8Array };

/** `tagvisor run`: returns the process exit status. */
export async function runCommand(guestPath: string | undefined, options: RunCommandOptions): Promise<number> {
  if (options.waitGdb && !options.gdb) return fail('--wait-gdb needs --gdb tcp:<host>:<port>');
  if (options.webControl && !options.web) return fail('--web-control needs --web tcp:<host>:<port>');
  if (options.noShutdown && !options.monitor) return fail('--no-shutdown needs --monitor (only its quit ends a VM kept after the guest ends; gdb and the viewer cannot)');
  // Nothing could ever continue the guest: Node would exit 13 (a top-level await that never settles).
  if (options.startPaused && !options.monitor && !options.gdb && !options.web) return fail('--start-paused needs --monitor, --gdb or --web (something to continue the guest from)');
  if (options.authTokenFile !== undefined) {
    const token = await readAuthTokenFile(options.authTokenFile);
    if (token.error !== undefined) return fail(token.error);
    options = { ...options, authToken: token.value };
  }
  // Before anything listens (an incoming migration included): a non-loopback front end needs a token or --insecure.
  const exposed = exposureRefusal(options, options.insecure ?? false, options.authToken !== undefined);
  if (exposed) return fail(exposed);
  const sources = [guestPath !== undefined, options.kernel !== undefined, options.incoming !== undefined, options.restore !== undefined].filter(Boolean).length;
  const kernelProblem = checkKernelOptions(options, guestPath !== undefined);
  if (kernelProblem) return fail(kernelProblem);
  // --dump-dtb alone dumps the machine's tree; with --kernel, the one that kernel would get.
  const dumpOnly = options.dumpDtb !== undefined && guestPath === undefined && options.incoming === undefined && options.restore === undefined;
  if (sources !== 1 && !(dumpOnly && sources === 0)) return fail('give exactly one of <guest.elf>, --kernel <Image|ELF>, --incoming tcp:<host>:<port> or --restore <snapshot>');
  if (options.dumpDtb !== undefined && !dumpOnly) return fail('--dump-dtb goes with --kernel or alone, not with <guest.elf>, --incoming or --restore');
  let boot: Boot;
  if (options.kernel !== undefined) {
    boot = { kind: 'kernel', path: options.kernel };
  } else if (dumpOnly) {
    boot = { kind: 'none' };
  } else if (options.incoming) {
    if (options.incoming.kind !== 'tcp') return fail('--incoming needs tcp:<host>:<port>');
    boot = { kind: 'incoming', address: options.incoming, timeoutMs: options.incomingTimeout ?? DEFAULT_INCOMING_TIMEOUT_MS };
  } else {
    const path = (guestPath ?? options.restore)!;
    let bytes: Uint8Array;
    try {
      // A snapshot is read with a bound derived from the machine (--restore /dev/zero must not grow).
      bytes = guestPath === undefined ? await readFileBounded(path, maxSnapshotBytes(options.memory), 'snapshot') : await readFile(path);
    } catch (error) {
      return fail(fileErrorText(path, error));
    }
    boot = guestPath !== undefined ? { kind: 'elf', path, image: bytes } : { kind: 'restore', path, bytes };
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
    return await runMachine(boot, options, drives);
  } finally {
    for (const drive of drives) drive.close();
  }
}

async function runMachine(boot: Boot, options: RunCommandOptions, drives: FileDisk[]): Promise<number> {
  const consoleSink = options.virtioConsole ? (bytes: Uint8Array) => void process.stdout.write(bytes) : undefined;
  let key: Uint8Array | undefined;
  if (options.keyFile) {
    try {
      key = parseKey(await readFile(options.keyFile));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== undefined) return fail(`--key-file ${fileErrorText(options.keyFile, error)}`);
      return fail(`--key-file ${options.keyFile}: ${(error as Error).message}`);
    }
  }
  if (key && !options.protected) return fail('--key-file is for protected VMs (--protected)');
  const protection = options.protected ? { protected: { debug: options.protected === 'debug', ...(key ? { key } : {}) } } : {};
  const machine = new VirtMachine({ memoryBytes: options.memory, mte: options.mte, ...(options.cpuEngine ? { cpuEngine: options.cpuEngine } : {}), ...(options.noReboot ? { noReboot: true } : {}), drives, dma: options.dma ?? 'direct', ...(consoleSink ? { console: consoleSink } : {}), ...protection });
  machine.events.on('audit', (line) => process.stderr.write(`tagvisor: audit: ${line}\n`));
  if (options.dumpDtb !== undefined) {
    try {
      await dumpDeviceTree(machine, { ...options, dumpDtb: options.dumpDtb });
      return EXIT_STATUS.OK;
    } catch (error) {
      if (error instanceof KernelInputError) return fail(error.message);
      throw error;
    }
  }
  const incoming: Incoming = { postcopy: null };
  const booted = await bootMachine(machine, boot, options, incoming);
  if (booted !== null) return booted;
  // Post-copy: losing the page connection while pages are missing ends this run (the guest cannot go on).
  const postcopy = incoming.postcopy;
  if (postcopy) {
    postcopy.onLost = (why) => process.exit(postcopyLost(why, postcopy));
    postcopy.onComplete = () =>
      void process.stderr.write(`tagvisor: post-copy complete: every page arrived (the guest waited for ${postcopy.demanded} of them, ${Math.round(postcopy.waitedMs)} ms in all)\n`);
  }
  const detachStdin = machine.devices.console ? attachStdin(machine) : () => {};
  machine.events.on('output', (bytes) => process.stdout.write(bytes));
  machine.events.on('console', (bytes) => process.stderr.write(bytes));
  machine.events.on('warning', (message) => process.stderr.write(`tagvisor: ${message}\n`));
  let frontEnds: FrontEnds;
  try {
    const log = (message: string): void => void process.stderr.write(`tagvisor: ${message}\n`);
    const webName = boot.kind === 'incoming' ? 'incoming migration' : boot.kind === 'none' ? 'no guest' : basename(boot.path);
    frontEnds = await FrontEnds.start(machine, { ...options, log, traceGdb: process.env.TAGVISOR_GDB_TRACE === '1', webName });
  } catch (error) {
    if (error instanceof FrontEndError) return fail(error.message);
    throw error;
  }
  if (options.startPaused) machine.pause();
  let outcome;
  try {
    const onGuestEnd = (why: string): void => void process.stderr.write(`tagvisor: the guest ended (${why}); --no-shutdown keeps the VM until the monitor's quit\n`);
    outcome = await runToCompletion(machine, { ...(options.maxInsns === undefined ? {} : { maxInsns: options.maxInsns }), ...(options.noShutdown ? { noShutdown: true, onGuestEnd } : {}) });
  } catch (error) {
    if (postcopy && error instanceof PageFetchError) return postcopyLost(error.message.replace(/^post-copy failed: /, ''), postcopy);
    throw error;
  } finally {
    detachStdin();
    await frontEnds.close();
    // The guest ended here: the source may stop waiting (it has nothing left to give).
    await postcopy?.finish();
  }
  if (outcome.status === EXIT_STATUS.INSN_LIMIT) process.stderr.write(`tagvisor: stopped: ${outcome.why}\n`);
  if (options.stats) {
    const mips = outcome.seconds > 0 ? outcome.instructions / outcome.seconds / 1e6 : 0;
    process.stderr.write(
      `instructions: ${outcome.instructions}\nseconds: ${outcome.seconds.toFixed(3)}\nmips: ${mips.toFixed(1)}\n` +
        `tag_check_faults: ${machine.vcpu.cpu.tagFaultCount}\nexit: ${outcome.why}\n` +
        jitStats(machine),
    );
  }
  return outcome.status;
}

/** The --stats lines of the engine: which one ran and, for the JIT, its counters (docs/jit.md). */
function jitStats(machine: VirtMachine): string {
  const jit = machine.vcpu.cpu.jit;
  if (jit === null) return 'cpu_engine: interp\n';
  const s = jit.stats;
  return `cpu_engine: jit\njit_regions: ${s.compiledRegions}\njit_compiled_instructions: ${s.compiledInstructions}\n` +
    `jit_code_cache_bytes: ${s.cacheBytes}\njit_cache_flushes: ${s.flushes}\njit_instructions: ${s.jitInstructions}\n` +
    `jit_entries: ${s.entries}\njit_chained: ${s.chained}\n`;
}

/** Brings the machine to its first state; returns an exit status when that failed. */
/** What an incoming migration leaves for the run: its post-copy page connection, while pages are missing. */
interface Incoming {
  postcopy: PostcopyDestination | null;
}

/** docs/migration-protocol.md §9: the destination cannot run a guest whose pages are gone. */
function postcopyLost(why: string, postcopy: PostcopyDestination): number {
  process.stderr.write(
    `tagvisor: post-copy migration failed: ${why}; the guest cannot continue here (${postcopy.missingPages} pages had not arrived); ` +
      'the source keeps the VM paused as it was when it moved: resume it there (monitor `cont`)\n',
  );
  return POSTCOPY_FAILED_STATUS;
}

async function bootMachine(machine: VirtMachine, boot: Boot, options: KernelCliOptions, incoming: Incoming): Promise<number | null> {
  switch (boot.kind) {
    case 'none':
      return fail('nothing to boot');
    case 'kernel':
      try {
        await bootKernel(machine, { ...options, kernel: boot.path });
        return null;
      } catch (error) {
        if (error instanceof KernelInputError) return fail(error.message);
        throw error;
      }
    case 'elf':
      try {
        machine.loadElf(boot.image);
        return null;
      } catch (error) {
        if (error instanceof ElfError) return fail(`${boot.path}: ${error.message}`);
        throw error;
      }
    case 'restore':
      try {
        const key = machine.protection?.options.key;
        if (key) await loadSealedSnapshot(machine, boot.bytes, key);
        else loadSnapshot(machine, boot.bytes);
        machine.resume();
        return null;
      } catch (error) {
        if (error instanceof StreamFormatError || error instanceof StateError || error instanceof CapabilityError) return fail(`${boot.path}: ${error.message}`);
        throw error;
      }
    case 'incoming': {
      // Listen first, then commit the guest's RAM while nobody is waiting (migration/incoming.ts).
      const { ready, accepted } = listenForMigration(machine, boot.address.host, boot.address.port, { idleTimeoutMs: boot.timeoutMs, deferRamChecksum: true });
      // A failed listen rejects both promises: `ready` reports it, `accepted` must not crash the process.
      accepted.catch(() => {});
      let port: number;
      try {
        port = await ready;
      } catch (error) {
        return fail(`--incoming ${formatListenAddress(boot.address)}: ${listenErrorText(error)}`);
      }
      try {
        process.stderr.write(`tagvisor: waiting for an incoming migration on ${boot.address.host}:${port}\n`);
        const key = machine.protection?.options.key;
        const pages = machine.protection ? null : PostcopyDestination.prepare(boot.address.host, boot.timeoutMs);
        const postcopy = async (m: VirtMachine): Promise<PostcopyDestination> => (incoming.postcopy = await pages!.start(m));
        try {
          await receiveMigration(machine, await accepted, { ...(key ? { key } : {}), decoders: (regions) => PageWorkers.decoders(regions), ...(pages ? { postcopy } : {}) });
        } finally {
          if (!incoming.postcopy) pages?.close();
        }
      } catch (error) {
        incoming.postcopy = null;
        return fail(`incoming migration failed: ${(error as Error).message}; the guest was not started`);
      }
      process.stderr.write(incoming.postcopy ? 'tagvisor: incoming post-copy migration: guest running, pages arriving\n' : 'tagvisor: incoming migration complete, guest running\n');
      return null;
    }
  }
}

function fail(message: string): number {
  process.stderr.write(`tagvisor: ${message}\n`);
  return EXIT_STATUS.BAD_INPUT;
}
