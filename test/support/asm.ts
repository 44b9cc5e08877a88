import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noteMissingTool } from './reference-tools.js';

const AS = 'aarch64-linux-gnu-as';
const OBJCOPY = 'aarch64-linux-gnu-objcopy';

let available: boolean | undefined;

/** True when the cross assembler (Debian's binutils-aarch64-linux-gnu) is installed. */
export function assemblerAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync(AS, ['--version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return noteMissingTool('assembler', available);
}

const cache = new Map<string, Uint8Array>();

/**
 * Assembles A64 source (armv8.5-a + memtag) into raw bytes, position-independent from offset 0.
 * Results are cached per source text so tests stay fast.
 */
export function assemble(source: string): Uint8Array {
  const hit = cache.get(source);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'tagvisor-asm-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.text\n${source}\n`);
    execFileSync(AS, ['-march=armv8.5-a+memtag', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync(OBJCOPY, ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
    const bytes = new Uint8Array(readFileSync(join(dir, 'a.bin')));
    cache.set(source, bytes);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
