import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, bundle } from '../../scripts/build-web.mjs';

const ROOT = join(import.meta.dirname, '../..');

describe('the playground build (scripts/build-web.mjs)', () => {
  let dir: string;
  beforeAll(async () => {
    // Inside the repository (test-output is ignored), so entries resolve its node_modules.
    await mkdir(join(ROOT, 'test-output'), { recursive: true });
    dir = await mkdtemp(join(ROOT, 'test-output/build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Bundles a one-line entry and returns esbuild's error texts (empty when it built). */
  async function errorsOf(source: string): Promise<string[]> {
    const entry = join(dir, `entry-${Math.random().toString(36).slice(2)}.ts`);
    await writeFile(entry, source);
    try {
      await bundle([entry], join(dir, 'out'), { write: false });
      return [];
    } catch (error) {
      return ((error as { errors?: { text: string }[] }).errors ?? []).map((e) => e.text);
    }
  }

  it('refuses node: imports and Node builtins, naming the importer', async () => {
    expect((await errorsOf("import { readFileSync } from 'node:fs'; console.log(readFileSync);"))[0]).toMatch(/^"node:fs" is Node-only and cannot be part of the browser bundle \(imported by .*entry-/);
    expect((await errorsOf("import { EventEmitter } from 'events'; console.log(EventEmitter);"))[0]).toMatch(/^"events" is Node-only/);
    expect(await errorsOf("import('node:worker_threads');")).toHaveLength(1);
  });

  it('refuses the Node adapters and the CLI even when reached indirectly', async () => {
    const errors = await errorsOf(`import * as m from ${JSON.stringify(join(ROOT, 'src/node/listen-address.ts'))}; console.log(m);`);
    expect(errors.join('\n')).toContain('src/node/listen-address.ts is Node-only code (src/node)');
  });

  it('refuses npm packages that were not declared browser-safe', async () => {
    const errors = await errorsOf("import { Command } from 'commander'; console.log(Command);");
    expect(errors.join('\n')).toMatch(/npm package commander is not allowed in the browser bundle/);
  });

  it('builds the page, the worker and the guest list within their budgets', async () => {
    const out = join(dir, 'web');
    const { sizes, guests } = await buildWeb(out);
    expect(sizes['main.js']).toBeLessThan(64 * 1024);
    expect(sizes['worker.js']).toBeLessThan(512 * 1024);
    const list = JSON.parse(await readFile(join(out, 'guests/index.json'), 'utf8')) as { name: string; file: string; description?: string }[];
    expect(list.length).toBe(guests);
    expect(list[0]).toEqual({ name: 'demo', file: 'demo.elf', description: expect.stringContaining('use-after-free') });
    expect(list.map((g) => g.name)).toEqual(expect.arrayContaining(['heap', 'mte-check', 'bench-int', 'bench-dirty']));
    const worker = await readFile(join(out, 'worker.js'), 'utf8');
    expect(worker).not.toMatch(/\brequire\(|"node:|\bprocess\.env\b/);
    expect(await readFile(join(out, 'index.html'), 'utf8')).toContain('<script type="module" src="main.js">');
    // The live viewer's page (tagvisor run --web): the UI and the WebSocket, without the core.
    expect(sizes['live.js']).toBeLessThan(64 * 1024);
    expect(await readFile(join(out, 'live.html'), 'utf8')).toContain('<script type="module" src="live.js">');
    expect(await readFile(join(out, 'live.js'), 'utf8')).not.toMatch(/KVM_ARM_MTE_COPY_TAGS|"node:/);
  });
});
