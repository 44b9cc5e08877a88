/**
 * Helpers for the debugger tests (test/gdb, test/monitor): the gdb-tags guest in a machine, its
 * symbols, an in-memory gdb that speaks RSP to a GdbSession, and a raw TCP client.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { encodePacket } from '../../src/vmm/debug/gdb/packet-codec.js';
import { GdbSession } from '../../src/vmm/debug/gdb/session.js';
import { Debugger } from '../../src/vmm/debug/debugger.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { readSymbols } from './harness-image.js';
import { noteMissingTool } from './reference-tools.js';

export const ROOT = join(import.meta.dirname, '../..');
export const GDB_TAGS_ELF = join(ROOT, 'guests/build/gdb-tags.elf');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** The tagged buffer of gdb-tags (TEST_BASE) and its pointer tag. */
export const TAG_BUFFER = 0x4040_0000n;
export const TAGGED_PTR = 0x0300_0000_4040_0000n;

let symbols: Map<string, bigint> | undefined;

/** Address of a symbol of the gdb-tags image. */
export function symbol(name: string): bigint {
  if (!symbols) symbols = new Map([...readSymbols(readFileSync(GDB_TAGS_ELF))].map(([n, s]) => [n, s.value]));
  const value = symbols.get(name);
  if (value === undefined) throw new Error(`gdb-tags.elf has no symbol ${name}`);
  return value;
}

export function gdbTagsMachine(): VirtMachine {
  const machine = new VirtMachine({ memoryBytes: 256 * 2 ** 20, mte: true });
  machine.loadElf(readFileSync(GDB_TAGS_ELF));
  return machine;
}

/** Runs slices until the machine is no longer running (bounded). */
export function runUntilStopped(machine: VirtMachine, maxInstructions = 50_000_000): void {
  const limit = machine.instructions + maxInstructions;
  while (machine.state === 'running' && machine.instructions < limit) machine.runSlice(100_000);
  if (machine.state === 'running') throw new Error('machine did not stop');
}

/** Parses every `$...#xx` packet in `text` (checking checksums); acks and noise are skipped. */
export function parsePackets(text: string): string[] {
  const packets: string[] = [];
  const re = /\$([^#]*)#([0-9a-f]{2})/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let sum = 0;
    for (let i = 0; i < m[1]!.length; i++) sum = (sum + m[1]!.charCodeAt(i)) & 0xff;
    if (sum !== parseInt(m[2]!, 16)) throw new Error(`bad checksum in reply ${m[0]}`);
    packets.push(m[1]!);
  }
  return packets;
}

/** A gdb made of strings: sends packets to a GdbSession and collects what it writes back. */
export class FakeGdb {
  readonly session: GdbSession;
  readonly debug: Debugger;
  /** Everything the stub wrote, as latin1. */
  output = '';
  ended = false;
  readonly log: string[] = [];

  constructor(readonly machine: VirtMachine) {
    this.debug = Debugger.of(machine);
    this.session = new GdbSession(
      this.debug,
      {
        write: (bytes) => (this.output += Buffer.from(bytes).toString('latin1')),
        end: () => (this.ended = true),
      },
      { log: (message) => this.log.push(message) },
    );
  }

  /** Sends raw bytes; returns the packets the stub wrote in response. */
  raw(text: string): string[] {
    const before = this.output.length;
    this.session.receive(Buffer.from(text, 'latin1'));
    return parsePackets(this.output.slice(before));
  }

  /** Sends one packet; returns the stub's reply packets (usually one). */
  send(payload: string): string[] {
    return this.raw(Buffer.from(encodePacket(payload)).toString('latin1'));
  }

  /** Sends one packet and expects exactly one reply. */
  ask(payload: string): string {
    const replies = this.send(payload);
    if (replies.length !== 1) throw new Error(`expected one reply to ${payload.slice(0, 40)}, got ${JSON.stringify(replies)}`);
    return replies[0]!;
  }

  /** Replies written since `mark` (for stop replies that arrive while the machine runs). */
  since(mark: number): string[] {
    return parsePackets(this.output.slice(mark));
  }
}

let gdbAvailable: boolean | undefined;

/** True when Debian's gdb-multiarch is installed. */
export function gdbMultiarchAvailable(): boolean {
  gdbAvailable ??= spawnSync('gdb-multiarch', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return noteMissingTool('gdb', gdbAvailable);
}

/**
 * Runs gdb-multiarch in batch mode with the given commands against a stub at `port`, without
 * blocking the event loop (the stub may live in this process). Killed after `timeoutMs`.
 */
export function runGdb(port: number, commands: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const args = ['-nx', '-batch', '-ex', 'set confirm off', '-ex', `target remote 127.0.0.1:${port}`, ...commands.flatMap((c) => ['-ex', c]), GDB_TAGS_ELF];
  return new Promise((resolve, reject) => {
    const child = spawn('gdb-multiarch', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    });
  });
}

/** A raw TCP client that records everything it receives. */
export class RawClient {
  received = '';
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  static openUnix(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  /** Waits until `predicate(received)` holds (bounded). */
  async until(predicate: (received: string) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received so far: ${JSON.stringify(this.received.slice(-400))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Waits until `predicate()` holds (bounded), yielding to the event loop. */
export async function eventually(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
