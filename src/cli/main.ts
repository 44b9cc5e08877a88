#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { runCommand } from './run-command.js';
import { migrateCommand, snapshotCommand } from './remote-commands.js';
import { collect, parseCount, parseDmaMode, parseMemorySize, parseOnOff, parseSeed } from './parse.js';
import { parseGdbAddress, parseMonitorAddress, parseWebAddress } from './parse-address.js';
import type { ListenAddress } from '../node/listen-address.js';
import { EXIT_STATUS } from '../node/run-guest.js';

/** Command-line front end (README.md: Command line). All work happens in the library; this only wires it. */
function buildProgram(): Command {
  const program = new Command('tagvisor')
    .description('A virtual machine monitor for AArch64 guests that use the Memory Tagging Extension')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.startsWith('error:') ? `tagvisor: ${text}` : text) });

  program
    .command('run')
    .description('boot a bare-metal AArch64 ELF guest on the QEMU virt-compatible machine')
    .argument('[guest.elf]', 'guest image (AArch64 ELF); or --incoming / --restore')
    .addOption(new Option('--incoming <tcp:host:port>', 'wait for a live migration instead of booting').argParser(parseGdbAddress))
    .addOption(new Option('--incoming-timeout <ms>', 'give up an incoming migration when no byte arrives for this long (default 30000)').argParser(parseCount))
    .option('--restore <snapshot>', 'start from a snapshot file instead of booting')
    // Booting Linux's way (docs/linux.md): an arm64 Image (or an ELF) with a generated device tree.
    .option('--kernel <Image|ELF>', 'boot an arm64 Linux Image (gzip or not) with x0 = its device tree, or an ELF as QEMU -kernel does')
    .option('--initrd <file>', 'initramfs placed after the kernel (/chosen linux,initrd-start/end)')
    .option('--append <cmdline>', 'kernel command line (/chosen bootargs)')
    .option('--dtb <file>', 'boot with this device tree blob instead of the generated one')
    .addOption(new Option('--seed <n>', "boot entropy: /chosen rng-seed and kaslr-seed derived from n (default 0: runs are reproducible)").argParser(parseSeed))
    .option('--dump-dtb <file>', 'write the device tree the guest would get to <file> and exit 0')
    .option('--no-reboot', 'PSCI SYSTEM_RESET (reboot, panic=-1) ends the run with exit status 0 instead of rebooting')
    .option('--protected', 'a protected VM: memory private to the guest (--protected=debug: audited debug access allowed)')
    .addOption(new Option('--protected-debug').hideHelp())
    .option('--key-file <file>', "a protected VM's AES-256 migration/snapshot key (32 bytes or 64 hex digits)")
    .addOption(new Option('-m, --memory <size>', 'guest RAM, e.g. 256M').argParser(parseMemorySize).default(256 * 2 ** 20, '256M'))
    .addOption(new Option('--mte <on|off>', 'expose MTE to the guest').argParser(parseOnOff).default(true, 'on'))
    .addOption(new Option('--cpu-engine <interp|jit>', 'execution engine: the JIT to WebAssembly, or the interpreter it is checked against (docs/jit.md)').choices(['interp', 'jit']).default('jit'))
    .addOption(new Option('--max-insns <n>', 'stop after n guest instructions (exit status 124)').argParser(parseCount))
    .option('--stats', 'at exit, print instructions, MIPS and tag-check faults to stderr')
    // Devices (docs/devices.md): virtio-blk disks, the DMA path, a virtio console on stdin/stdout.
    .addOption(new Option('--drive <file>', 'attach a virtio-blk disk backed by <file> (or file=<path>[,readonly=on][,serial=<id>]); repeatable').argParser(collect))
    .addOption(new Option('--dma <direct|bounce>', 'device DMA path').argParser(parseDmaMode).default('direct'))
    .option('--virtio-console', 'attach a virtio-console: guest output to stdout, stdin to the guest')
    // Debugger front ends (docs/gdb.md, docs/monitor-api.md).
    .addOption(new Option('--gdb <tcp:host:port>', 'gdb remote stub (binds to loopback unless told otherwise)').argParser(parseGdbAddress))
    .option('--wait-gdb', 'wait for gdb to connect and continue before the guest starts')
    .addOption(new Option('--monitor <tcp:host:port|unix:path>', 'JSON monitor (QMP-like)').argParser(parseMonitorAddress))
    // The live viewer (docs/web.md): read-only unless --web-control.
    .addOption(new Option('--web <tcp:host:port>', 'live web viewer of the VM (binds to loopback unless told otherwise; read-only)').argParser(parseWebAddress))
    .option('--web-control', 'let the web viewer change the VM: pause, continue, step, reset, write memory and tags')
    .option('--start-paused', 'start with the vCPU paused (continue from the viewer, the monitor or gdb)')
    // Who may connect (docs/monitor-api.md): loopback by default; elsewhere a token or --insecure.
    .option('--auth-token-file <file>', 'monitor and web viewer clients must present the token in <file>')
    .option('--insecure', 'allow --monitor, --web without a token and --gdb on a non-loopback address')
    .option('--snapshot-dir <dir>', "the monitor's snapshot-save and snapshot-load accept only paths inside <dir>")
    .option('--no-shutdown', "when the guest ends, keep the VM for the monitor (and viewer) until the monitor's quit; needs --monitor")
    .action(async (guest: string | undefined, options: { incoming?: ListenAddress; incomingTimeout?: number; restore?: string; protected?: boolean; protectedDebug?: boolean; keyFile?: string; memory: number; mte: boolean; cpuEngine: 'interp' | 'jit'; maxInsns?: number; stats?: boolean; drive?: string[]; dma: 'direct' | 'bounce'; virtioConsole?: boolean; gdb?: ListenAddress; waitGdb?: boolean; monitor?: ListenAddress; web?: ListenAddress; webControl?: boolean; startPaused?: boolean; authTokenFile?: string; insecure?: boolean; snapshotDir?: string; shutdown: boolean; kernel?: string; initrd?: string; append?: string; dtb?: string; seed?: bigint; dumpDtb?: string; reboot: boolean }) => {
      const protection = options.protectedDebug ? 'debug' : options.protected;
      const { shutdown, reboot, ...rest } = options;
      process.exitCode = await runCommand(guest, { ...rest, ...(protection ? { protected: protection } : {}), ...(shutdown ? {} : { noShutdown: true }), ...(reboot ? {} : { noReboot: true }) });
    });

  program
    .command('migrate')
    .description('live-migrate the VM behind a monitor to a `tagvisor run --incoming` destination')
    .requiredOption('--monitor <tcp:host:port|unix:path>', 'the source VM\'s JSON monitor', parseMonitorAddress)
    .requiredOption('--to <tcp:host:port>', 'the destination')
    .addOption(new Option('--max-downtime <ms>', 'stop-and-copy once the rest fits this downtime (default 50)').argParser(parseCount))
    .addOption(new Option('--max-rounds <n>', 'stop and copy after n rounds even above --max-downtime (default: no limit; auto-converge throttles the guest)').argParser(parseCount))
    .addOption(new Option('--stall-timeout <ms>', 'give up when no byte moves for this long (default 10000)').argParser(parseCount))
    .option('--postcopy', 'post-copy: the destination runs the guest at once and fetches each page with its tags on first touch')
    .option('--auth-token-file <file>', "the monitor's token (when it runs with --auth-token-file)")
    .action(async (options: { monitor: ListenAddress; to: string; maxDowntime?: number; maxRounds?: number; stallTimeout?: number; postcopy?: boolean; authTokenFile?: string }) => {
      process.exitCode = await migrateCommand(options);
    });

  const snapshot = program.command('snapshot').description('save or load a snapshot of the VM behind a monitor');
  for (const action of ['save', 'load'] as const) {
    snapshot
      .command(action)
      .description(action === 'save' ? 'write the VM (memory, tags, vCPU, devices) to a file' : 'replace the VM with a snapshot file')
      .argument('<file>', 'snapshot file')
      .requiredOption('--monitor <tcp:host:port|unix:path>', 'the VM\'s JSON monitor', parseMonitorAddress)
      .option('--auth-token-file <file>', "the monitor's token (when it runs with --auth-token-file)")
      .action(async (file: string, options: { monitor: ListenAddress; authTokenFile?: string }) => {
        process.exitCode = await snapshotCommand(action, file, options.monitor, options.authTokenFile);
      });
  }
  return program;
}

/** The version in Tagvisor's package.json, the nearest one above this file (from src/ or dist/src/). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'tagvisor' && manifest.version) return manifest.version;
    } catch {
      // not there: try the next level up
    }
  }
  return 'unknown';
}

/** Bad usage found before commander parses (exit status 2, one line). */
class UsageError extends Error {}

/** `--protected=debug` (docs/protected-vm.md) becomes a flag of its own, so `--protected guest.elf` stays unambiguous. */
function normaliseArguments(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    if (arg === '--protected=debug') return '--protected-debug';
    if (arg.startsWith('--protected=')) throw new UsageError(`unknown ${arg}: expected --protected or --protected=debug`);
    return arg;
  });
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(normaliseArguments(process.argv));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`tagvisor: ${error.message}\n`);
      process.exitCode = EXIT_STATUS.BAD_INPUT;
      return;
    }
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_STATUS.BAD_INPUT;
      return;
    }
    process.stderr.write(`tagvisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT_STATUS.INTERNAL;
  }
}

await main();
