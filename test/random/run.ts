/**
 * Running generated instruction sequences on Tagvisor (in-process) and on QEMU, and explaining a
 * mismatch: seed, initial state, a listing of the payload, the first differing line and a diff.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CpuEngine } from '../../src/cpu/index.js';
import { runToCompletion } from '../../src/node/run-guest.js';
import { VirtMachine } from '../../src/vmm/index.js';
import { patchHarness, writeHarnessImage, type HarnessState } from '../support/harness-image.js';
import { runQemu } from '../support/qemu.js';
import { PAYLOAD_ADDR } from './generator.js';

/** What a run printed and how it ended. */
export interface Transcript {
  readonly out: string;
  readonly status: number;
}

/** A payload and its initial state: a generated case, or a hand-written regression case. */
export interface PayloadCase {
  readonly state: HarnessState;
  readonly words: readonly number[];
}

/** The harness itself runs about 0.9 M instructions; a payload adds at most a few hundred. */
const MAX_INSNS = 20_000_000;

/** Runs a patched harness image on Tagvisor, in-process. Status 124: instruction limit. */
export async function runOnTagvisor(image: Uint8Array, cpuEngine: CpuEngine = 'interp'): Promise<Transcript> {
  const machine = new VirtMachine({ memoryBytes: 256 * 2 ** 20, mte: true, cpuEngine });
  // The JIT compiles every block at its first entry, so the payload (run once) is compiled too.
  if (machine.vcpu.cpu.jit) machine.vcpu.cpu.jit.hotThreshold = 0;
  machine.loadElf(image);
  const out: Uint8Array[] = [];
  machine.events.on('output', (bytes) => out.push(bytes.slice()));
  const outcome = await runToCompletion(machine, { maxInsns: MAX_INSNS });
  return { out: Buffer.concat(out).toString('latin1'), status: outcome.status };
}

/** Runs a patched harness image on QEMU (which must be installed). Status 124: timeout. */
export async function runOnQemu(image: Uint8Array): Promise<Transcript> {
  const file = writeHarnessImage(image);
  try {
    const run = await runQemu(file.path, { timeoutMs: 20_000 });
    return { out: run.stdout.toString('latin1'), status: run.timedOut ? 124 : (run.status ?? -1) };
  } finally {
    file.cleanup();
  }
}

export function imageOf(c: PayloadCase): Uint8Array {
  return patchHarness(c.state, c.words);
}

const hex64 = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');
const hex32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** A stable 32-bit fingerprint (FNV-1a) of a case's state and payload. */
export function caseHash(c: PayloadCase): string {
  let h = 0x811c9dc5;
  const feed = (v: number) => {
    h = Math.imul(h ^ (v & 0xff), 0x01000193);
  };
  const feedWord = (w: number) => {
    for (let i = 0; i < 4; i++) feed(w >>> (8 * i));
  };
  for (const x of c.state.x) {
    const v = BigInt.asUintN(64, x);
    feedWord(Number(v & 0xffffffffn));
    feedWord(Number(v >> 32n));
  }
  feedWord(c.state.nzcv);
  if (c.state.simd) {
    feedWord(c.state.simd.fpcr);
    feedWord(c.state.simd.fpsr);
    for (const v of c.state.simd.v) for (let k = 0n; k < 128n; k += 32n) feedWord(Number((BigInt.asUintN(128, v) >> k) & 0xffffffffn));
  }
  for (const w of c.words) feedWord(w);
  return hex32(h);
}

let objdumpOk: boolean | undefined;

/** A listing of the payload: aarch64-linux-gnu-objdump when installed, else address and hex. */
export function listing(words: readonly number[], notes: ReadonlyMap<number, string> = new Map()): string {
  let lines: string[] | null = null;
  if (objdumpOk !== false) {
    const dir = mkdtempSync(join(tmpdir(), 'tagvisor-listing-'));
    try {
      const bin = Buffer.alloc(words.length * 4);
      words.forEach((w, i) => bin.writeUInt32LE(w >>> 0, i * 4));
      writeFileSync(join(dir, 'payload.bin'), bin);
      const text = execFileSync('aarch64-linux-gnu-objdump', ['-D', '-b', 'binary', '-m', 'aarch64', `--adjust-vma=0x${PAYLOAD_ADDR.toString(16)}`, join(dir, 'payload.bin')], {
        encoding: 'latin1',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      lines = text
        .split('\n')
        .filter((l) => /^\s*[0-9a-f]+:\t/.test(l))
        .map((l) => l.replace(/^\s+/, ''));
      objdumpOk = true;
    } catch {
      objdumpOk = false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const out: string[] = [];
  words.forEach((w, i) => {
    const note = notes.get(i);
    if (note) out.push(`        // ${note}`);
    const line = lines?.[i] ?? `${(PAYLOAD_ADDR + 4 * i).toString(16)}:\t${hex32(w)}`;
    out.push(`  +${(4 * i).toString(16).padStart(3, '0')} ${line}`);
  });
  return out.join('\n');
}

/**
 * A line diff (longest common subsequence) of two transcripts, "-" QEMU, "+" Tagvisor, with
 * `context` unchanged lines around each change.
 */
export function diffLines(expected: string, actual: string, context = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) {
      out.push(`+ ${b[j]}`);
      j++;
    } else {
      out.push(`- ${a[i]}`);
      i++;
    }
  }
  const keep = out.map((line) => !line.startsWith('  '));
  if (!keep.includes(true)) return out.join('\n'); // identical: show it all
  const shown: string[] = [];
  let skipped = 0;
  out.forEach((line, k) => {
    let near = false;
    for (let d = -context; d <= context && !near; d++) near = keep[k + d] === true;
    if (near) {
      if (skipped) shown.push(`  ... (${skipped} identical lines)`);
      skipped = 0;
      shown.push(line);
    } else {
      skipped++;
    }
  });
  if (skipped) shown.push(`  ... (${skipped} identical lines)`);
  return shown.join('\n');
}

/** The first line where two transcripts differ (1-based), with both versions. */
export function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: QEMU ${JSON.stringify(a[i] ?? '<end>')}, Tagvisor ${JSON.stringify(b[i] ?? '<end>')}`;
  }
  return 'transcripts are identical';
}

export function describeState(state: HarnessState): string {
  const regs = state.x.map((v, i) => `x${i}=${hex64(v)}`);
  const rows: string[] = [];
  for (let i = 0; i < regs.length; i += 4) rows.push(`  ${regs.slice(i, i + 4).join(' ')}`);
  const f = state.nzcv;
  rows.push(`  nzcv=${f & 8 ? 'N' : '-'}${f & 4 ? 'Z' : '-'}${f & 2 ? 'C' : '-'}${f & 1 ? 'V' : '-'}`);
  return rows.join('\n');
}

/**
 * A failure report a developer can act on: what was run, where the transcripts first differ,
 * the diff, and how to reproduce. The patched image is saved under the temp directory.
 */
export function mismatchReport(
  title: string,
  c: PayloadCase & { notes?: ReadonlyMap<number, string> },
  qemu: Transcript,
  tagvisor: Transcript,
  reproduce: string,
): string {
  let saved = '';
  try {
    const path = join(tmpdir(), `tagvisor-random-${title.replace(/[^a-zA-Z0-9_-]+/g, '_')}.elf`);
    writeFileSync(path, imageOf(c));
    saved = `\npatched image: ${path} (run it with \`tagvisor run\` or qemu-system-aarch64 -M virt,mte=on -cpu max -m 256 -nographic -semihosting -kernel ...)`;
  } catch {
    // best effort
  }
  return [
    `${title}: Tagvisor differs from QEMU`,
    `reproduce: ${reproduce}${saved}`,
    `status: QEMU ${qemu.status}, Tagvisor ${tagvisor.status}`,
    `first difference: ${firstDifference(qemu.out, tagvisor.out)}`,
    'initial state:',
    describeState(c.state),
    `payload (${c.words.length} words at 0x${PAYLOAD_ADDR.toString(16)}):`,
    listing(c.words, c.notes),
    'transcript diff (- QEMU, + Tagvisor):',
    diffLines(qemu.out, tagvisor.out),
  ].join('\n');
}
