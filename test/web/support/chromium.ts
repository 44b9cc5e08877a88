import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { noteMissingTool } from '../../support/reference-tools.js';

/** Debian's chromium (apt-get install chromium). A browser is never downloaded. */
export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = noteMissingTool('chromium', existsSync(CHROMIUM), 'test/web: the chromium suites');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless chromium with a fresh profile directory (removed on close). */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'tagvisor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1500, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** The repository root, from the sources (vitest) or from their build in dist/ (the bench). */
function repositoryRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'scripts/build-web.mjs'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('scripts/build-web.mjs not found above ' + import.meta.dirname);
    dir = parent;
  }
  return dir;
}

/** Builds the playground bundle into `outdir` (scripts/build-web.mjs); throws with its message. */
export function buildPlayground(outdir: string): void {
  const root = repositoryRoot();
  const result = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs'), outdir], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build-web failed: ${result.stderr || result.stdout}`);
}
