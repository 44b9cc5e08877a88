#!/usr/bin/env node
/**
 * Builds the in-browser playground (`npm run build:web`) into dist/web (or the directory given
 * as the first argument): index.html, style.css, main.js (the page), worker.js (the machine:
 * memory, cpu, hv, vmm), and the bundled guests with guests/index.json (names and the
 * descriptions of guests/README.md's table); and the live viewer's page that `tagvisor run --web`
 * serves: live.html and live.js (the viewer UI on a WebSocket, without the core).
 *
 * The bundles target browsers only. The build fails when anything Node-only would get in: a
 * `node:` import or a Node builtin module, a module of src/node or src/cli, or any npm package
 * (the core has no runtime dependencies; a new one must be added to BROWSER_PACKAGES on purpose).
 * It also fails when a bundle outgrows its budget.
 */
import * as esbuild from 'esbuild';
import { builtinModules } from 'node:module';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Minified size budgets, bytes. */
const BUDGETS = { 'main.js': 64 * 1024, 'worker.js': 512 * 1024, 'live.js': 64 * 1024 };
/** npm packages allowed in the browser bundle (none so far). */
const BROWSER_PACKAGES = new Set();
/** Directories of src/ whose code may run in a browser. */
const BROWSER_DIRS = ['web', 'vmm', 'hv', 'cpu', 'memory', 'common'];

const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));
const rel = (path) => relative(ROOT, path) || path;

/** esbuild plugin: refuses Node-only imports with a message naming the importer. */
export const browserOnly = {
  name: 'browser-only',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0];
      if (args.path.startsWith('node:') || (builtins.has(bare) && !args.path.startsWith('.'))) {
        return { errors: [{ text: `"${args.path}" is Node-only and cannot be part of the browser bundle (imported by ${rel(args.importer)})` }] };
      }
      return undefined;
    });
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      const path = rel(args.path);
      const match = /^src\/([^/]+)\//.exec(path);
      if (match && !BROWSER_DIRS.includes(match[1])) {
        return { errors: [{ text: `${path} is Node-only code (src/${match[1]}) and cannot be part of the browser bundle` }] };
      }
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      if (pkg && !BROWSER_PACKAGES.has(pkg)) {
        return { errors: [{ text: `${path}: npm package ${pkg} is not allowed in the browser bundle (add it to BROWSER_PACKAGES in scripts/build-web.mjs if it is browser-safe)` }] };
      }
      return undefined;
    });
  },
};

/** Bundles `entryPoints` for browsers into `outdir`; returns esbuild's result (throws on errors). */
export async function bundle(entryPoints, outdir, options = {}) {
  return esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [browserOnly],
    ...options,
  });
}

/** Guest descriptions from guests/README.md's table (`| name | status | covers |`). */
async function guestDescriptions() {
  const text = await readFile(join(ROOT, 'guests/README.md'), 'utf8');
  const out = new Map();
  for (const match of text.matchAll(/^\| ([a-z0-9-]+) \| [^|]+ \| ([^|\n]+)\|/gm)) out.set(match[1], match[2].trim());
  return out;
}

async function copyGuests(outdir) {
  const from = join(ROOT, 'guests/build');
  const to = join(outdir, 'guests');
  await mkdir(to, { recursive: true });
  const descriptions = await guestDescriptions();
  const files = (await readdir(from)).filter((f) => f.endsWith('.elf')).sort();
  const order = (name) => (name === 'demo' ? 0 : name === 'heap' ? 1 : name.startsWith('mte-') ? 2 : 3);
  const entries = files.map((file) => {
    const name = file.replace(/\.elf$/, '');
    const description = descriptions.get(name);
    return description ? { name, file, description } : { name, file };
  });
  entries.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  await Promise.all(files.map((file) => copyFile(join(from, file), join(to, file))));
  await writeFile(join(to, 'index.json'), JSON.stringify(entries, null, 1) + '\n');
  return entries.length;
}

export async function buildWeb(outdir = join(ROOT, 'dist/web')) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  // live.js: the live viewer's page (tagvisor run --web serves it with live.html); no core inside.
  const result = await bundle([join(ROOT, 'src/web/main.ts'), join(ROOT, 'src/web/worker.ts'), join(ROOT, 'src/web/live.ts')], outdir);
  const sizes = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const name = relative(outdir, join(ROOT, file));
    if (name.endsWith('.js')) sizes[name] = output.bytes;
  }
  for (const [name, budget] of Object.entries(BUDGETS)) {
    if (sizes[name] === undefined) throw new Error(`build-web: ${name} was not produced`);
    if (sizes[name] > budget) throw new Error(`build-web: ${name} is ${sizes[name]} bytes, over its budget of ${budget}`);
  }
  for (const file of ['index.html', 'live.html', 'style.css']) await copyFile(join(ROOT, 'web', file), join(outdir, file));
  const guests = await copyGuests(outdir);
  return { outdir, sizes, guests };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  buildWeb(outdir).then(
    ({ outdir: dir, sizes, guests }) => {
      const list = Object.entries(sizes).map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`).join(', ');
      console.log(`build-web: ${rel(dir)}: ${list}, ${guests} guests`);
    },
    (error) => {
      const messages = error.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
      console.error(messages?.length ? `build-web failed:\n  ${messages.join('\n  ')}` : `build-web failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
