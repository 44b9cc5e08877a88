import { readFileSync, writeFileSync } from 'node:fs';
import type { CpuEngine } from '../../src/cpu/index.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { FileDisk } from '../../src/node/file-disk.js';
import type { DmaMode } from '../../src/vmm/dma-path.js';
import { VirtMachine } from '../../src/vmm/index.js';

export interface GuestResult {
  readonly stdout: string;
  readonly console: string;
  readonly status: number;
  readonly instructions: number;
}

/** Runs a guest image on Tagvisor in-process, like `tagvisor run`, capturing UART and console. */
export interface GuestRunOptions {
  memoryMiB?: number;
  mte?: boolean;
  maxInsns?: number;
  /** virtio-blk drives (`--drive` specifications), slot 31 first. */
  drives?: readonly string[];
  dma?: DmaMode;
  /** Attach a virtio-console fed from `input` (a file), its output written to `output`. */
  console?: { readonly input: string; readonly output: string };
  /** Run as a protected VM (`--protected`, `--protected=debug`). */
  protected?: { readonly debug: boolean };
  /** The vCPU engine (`--cpu-engine`); the JIT then compiles every block at its first entry. */
  cpuEngine?: CpuEngine;
}

export async function runGuest(elfPath: string, options: GuestRunOptions = {}): Promise<GuestResult> {
  const drives = (options.drives ?? []).map((spec) => FileDisk.open(spec));
  try {
    return await runWith(elfPath, options, drives);
  } finally {
    for (const drive of drives) drive.close();
  }
}

async function runWith(elfPath: string, options: GuestRunOptions, drives: FileDisk[]): Promise<GuestResult> {
  const virtioOut: Uint8Array[] = [];
  const sink = options.console ? (bytes: Uint8Array) => void virtioOut.push(bytes.slice()) : undefined;
  const machine = new VirtMachine({ memoryBytes: (options.memoryMiB ?? 256) * 2 ** 20, mte: options.mte ?? true, drives, dma: options.dma ?? 'direct', ...(sink ? { console: sink } : {}), ...(options.protected ? { protected: options.protected } : {}), ...(options.cpuEngine ? { cpuEngine: options.cpuEngine } : {}) });
  if (machine.vcpu.cpu.jit) machine.vcpu.cpu.jit.hotThreshold = 0;
  machine.loadElf(readFileSync(elfPath));
  // The host's input is there from the start, as QEMU's file chardev has it.
  if (options.console) machine.devices.console!.input(readFileSync(options.console.input));
  const out: Uint8Array[] = [];
  const consoleOut: Uint8Array[] = [];
  machine.events.on('output', (bytes) => out.push(bytes.slice()));
  machine.events.on('console', (bytes) => consoleOut.push(bytes.slice()));
  const outcome = await runToCompletion(machine, { maxInsns: options.maxInsns ?? 200_000_000 });
  if (options.console) writeFileSync(options.console.output, Buffer.concat(virtioOut));
  return {
    stdout: Buffer.concat(out).toString('latin1'),
    console: Buffer.concat(consoleOut).toString('latin1'),
    status: outcome.status,
    instructions: outcome.instructions,
  };
}
