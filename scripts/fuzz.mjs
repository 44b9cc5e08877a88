#!/usr/bin/env node
// npm run fuzz [-- --cases N] [--seed S] [--jobs J] [--case-ms MS] [target...]
// The long fuzzing campaign (docs/fuzzing.md): each target of test/fuzz runs in its own vitest
// process with N cases (default 100,000), J targets at a time (default 2), and reports cases,
// refusals, crashes, wrongful acceptances, hangs (cases slower than MS, default 2000) and peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
};
const cases = Number(option('cases', '100000'));
const seed = Number(option('seed', '1'));
const jobs = Number(option('jobs', '2'));
const caseMs = Number(option('case-ms', '2000'));
if (![cases, seed, jobs, caseMs].every((n) => Number.isSafeInteger(n) && n > 0)) {
  process.stderr.write('fuzz: --cases, --seed, --jobs and --case-ms take positive integers\n');
  process.exit(2);
}
const all = readdirSync(join(ROOT, 'test/fuzz')).filter((f) => f.endsWith('.test.ts')).map((f) => f.replace(/\.test\.ts$/, ''));
const targets = args.length > 0 ? args : all;
const unknown = targets.filter((t) => !all.includes(t));
if (unknown.length > 0) {
  process.stderr.write(`fuzz: unknown target ${unknown.join(', ')} (targets: ${all.join(', ')})\n`);
  process.exit(2);
}
const reports = mkdtempSync(join(tmpdir(), 'tagvisor-fuzz-'));
const env = { ...process.env, TAGVISOR_FUZZ_CASES: String(cases), TAGVISOR_FUZZ_SEED: String(seed), TAGVISOR_FUZZ_CASE_MS: String(caseMs), TAGVISOR_FUZZ_REPORT_DIR: reports };

function runTarget(target) {
  return new Promise((resolve) => {
    const started = Date.now();
    process.stderr.write(`fuzz: ${target}: ${cases} cases...\n`);
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', `test/fuzz/${target}.test.ts`], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (b) => (errors += b));
    child.on('exit', (code) => {
      process.stderr.write(`fuzz: ${target}: done in ${Math.round((Date.now() - started) / 1000)} s${code === 0 ? '' : ` (exit ${code})`}\n`);
      if (code !== 0 && errors) process.stderr.write(errors.split('\n').slice(-20).join('\n'));
      resolve(code);
    });
  });
}

const queue = [...targets];
const failed = [];
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let target = queue.shift(); target !== undefined; target = queue.shift()) if ((await runTarget(target)) !== 0) failed.push(target);
  }),
);

const rows = readdirSync(reports).map((f) => JSON.parse(readFileSync(join(reports, f), 'utf8')));
const head = ['target', 'cases', 'accepted', 'refusals', 'crashes', 'wrongful', 'hangs', 'slowest ms', 'seconds', 'peak RSS MiB'];
const line = (cells) => `| ${cells.join(' | ')} |`;
process.stdout.write(`seed ${seed}, per-case bound ${caseMs} ms\n\n${line(head)}\n${line(head.map(() => '---'))}\n`);
for (const r of rows.sort((a, b) => a.target.localeCompare(b.target))) {
  process.stdout.write(`${line([r.target, r.cases, r.accepted, r.refusals, r.crashes, r.wrongful, r.hangs, Math.round(r.slowestMs), r.seconds, r.peakRssMiB])}\n`);
  if (r.firstProblem) process.stdout.write(`  first problem: ${r.firstProblem}\n`);
}
process.exitCode = failed.length > 0 || rows.some((r) => r.crashes + r.wrongful + r.hangs > 0) ? 1 : 0;
