/** Running the built CLI (dist/: `npm run build` first) from the migration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export const ROOT = join(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

export interface Proc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exit: Promise<number | null>;
}

export function start(...args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('latin1')));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString('latin1')));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

export async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `proc` printed `pattern` on stderr; returns its first group as a number (a port). */
export async function listening(proc: Proc, pattern: RegExp): Promise<number> {
  await until(() => pattern.test(proc.stderr()), `${pattern} in: ${proc.stderr()}`);
  return Number(pattern.exec(proc.stderr())![1]);
}

/** A list the test pushes its processes onto: each is killed and awaited after every test. */
export function killedAfterEach(): Proc[] {
  const running: Proc[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.child.kill();
      await p.exit;
    }
  });
  return running;
}
