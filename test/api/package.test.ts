import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Tagvisor as a library user sees it: a project outside the repository that depends on the
 * package (node_modules/tagvisor links to this repository) imports it by name, so every import
 * goes through package.json "exports" and "types" and the emitted dist/ (npm run build first;
 * `npm test` does that in pretest).
 */
const ROOT = join(import.meta.dirname, '../..');
const guest = (name: string): string => join(ROOT, 'guests/build', `${name}.elf`);
let project = '';

/** A consumer that boots a guest image on a VirtMachine and reports what happened. */
const CONSUMER = `
import { readFileSync } from 'node:fs';
import { VirtMachine, GuestMemoryError, RAM_BASE, saveSnapshot } from 'tagvisor';
import { runToCompletion, EXIT_STATUS } from 'tagvisor/node';
import { PAGE_SIZE } from 'tagvisor/memory';
import { Cpu } from 'tagvisor/cpu';
import { Vm } from 'tagvisor/hv';

const machine = new VirtMachine({ memoryBytes: 64 * 2 ** 20 });
let output = '';
let faults = 0;
machine.events.on('output', (bytes) => (output += Buffer.from(bytes).toString('latin1')));
machine.events.on('tag-check-fault', () => faults++);
machine.loadElf(readFileSync(process.argv[2]));
const outcome = await runToCompletion(machine, { maxInsns: 50_000_000 });
let refused = '';
try {
  machine.vm.memory.dma.read(RAM_BASE + 64 * 2 ** 20 - 8, new Uint8Array(16));
} catch (error) {
  refused = error instanceof GuestMemoryError ? error.code : String(error);
}
const snapshotBytes = saveSnapshot(machine).reduce((n, chunk) => n + chunk.length, 0);
console.log(JSON.stringify({ output, faults, status: outcome.status, why: outcome.why, refused, snapshotBytes,
  pageSize: PAGE_SIZE, kinds: [typeof Cpu, typeof Vm], badInput: EXIT_STATUS.BAD_INPUT }));
`;

/** The same use, type-checked against the emitted declarations; internals must not resolve. */
const TYPED_CONSUMER = `
import { VirtMachine, type MachineOptions, type Shutdown, type AccessPolicy } from 'tagvisor';
import { runToCompletion, type RunOutcome } from 'tagvisor/node';
import { GuestMemory } from 'tagvisor/memory';
import type { TagFaultInfo } from 'tagvisor/cpu';

const options: MachineOptions = { memoryBytes: 2 ** 26, mte: true, dma: 'bounce' };
const machine = new VirtMachine(options);
machine.events.on('tag-check-fault', (info: TagFaultInfo) => info.logicalTag);
export const shutdown: Shutdown | null = machine.shutdown;
export const outcome: Promise<RunOutcome> = runToCompletion(machine);
export const policy: AccessPolicy = new GuestMemory().policy;
// @ts-expect-error a layer's internals are not part of the package's exports
export { Cpu } from 'tagvisor/dist/src/cpu/cpu.js';
`;

function node(script: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(project, script), ...args], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/index.js')) || !existsSync(join(ROOT, 'dist/src/index.d.ts'))) {
    throw new Error('dist/src/index.js or its .d.ts is missing: run `npm run build` first');
  }
  project = mkdtempSync(join(tmpdir(), 'tagvisor-consumer-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(ROOT, join(project, 'node_modules/tagvisor'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(join(project, 'consumer.mjs'), CONSUMER);
  writeFileSync(join(project, 'internal.mjs'), "await import('tagvisor/dist/src/cpu/cpu.js');\n");
  writeFileSync(join(project, 'consumer.ts'), TYPED_CONSUMER);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: ['consumer.ts'],
    }),
  );
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the tagvisor package, imported by name', () => {
  it('builds and runs a VM from a guest image: UART output, tag-check faults, exit status, snapshot', () => {
    const run = node('consumer.mjs', guest('demo'));
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result.output).toBe(readFileSync(join(ROOT, 'guests/expected/demo.out'), 'latin1'));
    expect(result.status).toBe(Number(readFileSync(join(ROOT, 'guests/expected/demo.status'), 'utf8')));
    expect(result.faults).toBeGreaterThan(0);
    expect(result.refused).toBe('unmapped');
    expect(result.snapshotBytes).toBeGreaterThan(0);
    expect(result).toMatchObject({ pageSize: 4096, kinds: ['function', 'function'], badInput: 2 });
  });

  it('passes a guest exit code through', () => {
    const run = node('consumer.mjs', guest('exit-code'));
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 42, why: 'semihosting exit 42' });
  });

  it('keeps internals out of reach: only the entries in "exports" resolve', () => {
    const run = node('internal.mjs');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('type-checks a consumer against the emitted declarations ("types")', () => {
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8', timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });
});
