import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { readSkipLog } from './reference-tools.js';

/**
 * A vitest reporter that accounts for every skipped test at the end of a run, so none skips
 * silently. A skip is one of:
 * - a missing reference tool: the suite called `noteMissingTool` (reference-tools.ts); the
 *   global setup lists those, and refuses to run at all in CI (CI=true);
 * - by design: a tool or a regeneration run only on request (OPT_IN below, with how to run it);
 * - unexplained: anything else. Listed, and in CI it fails the run.
 * A run narrowed with -t (or .only) skips the rest by request and is not accounted.
 */

/** Test files whose skipped tests are opt-in by design, and how to run them. */
export const OPT_IN: Readonly<Record<string, string>> = {
  'test/random/random-insns.test.ts': 'regenerating the golden files from QEMU: TAGVISOR_RANDOM_REGENERATE=1',
  'test/random/simd.test.ts': 'regenerating golden/simd-seeds.json from QEMU: TAGVISOR_SIMD_REGENERATE=1',
  'test/random/fp.test.ts': 'regenerating the FP golden file from QEMU: TAGVISOR_FP_REGENERATE=1',
  'test/random/try-payload.test.ts': 'a tool for one payload on Tagvisor and QEMU: TAGVISOR_RANDOM_TRY=<asm>',
  'test/random/simd-try.test.ts': 'a tool for one SIMD payload on Tagvisor and QEMU: TAGVISOR_SIMD_TRY=<asm>',
  'test/random/fp-bisect.test.ts': 'tools to bisect an FP seed or compare one payload: FP_BISECT=<seed>, FP_ASM=<asm>',
  'test/linux/mte-full.test.ts': 'every arm64 MTE kselftest on Linux, with migrations and a snapshot (long): TAGVISOR_LINUX_FULL=1',
};

/** The skipped tests of each file (relative to the repository), from a finished run's modules. */
export function skippedByFile(modules: ReadonlyArray<TestModule>, root: string): Map<string, number> {
  const skipped = new Map<string, number>();
  for (const module of modules) {
    let count = 0;
    for (const test of module.children.allTests()) if (test.result().state === 'skipped') count++;
    if (count > 0) skipped.set(relative(root, module.moduleId), count);
  }
  return skipped;
}

/**
 * The end-of-run lines for the skips that are not a missing tool's (those the global setup
 * prints). `missingToolPlaces`: where noteMissingTool was called ("test/x.test.ts:12", or a
 * folder's suites: "test/web: ...").
 */
export function skipSummary(skipped: ReadonlyMap<string, number>, missingToolPlaces: Iterable<string>): { lines: string[]; unexplained: number } {
  const places = [...missingToolPlaces].map((place) => place.replace(/:\d+$/, '').replace(/:.*$/, '/'));
  const forMissingTool = (file: string) => places.some((place) => file === place || (place.endsWith('/') && file.startsWith(place)));
  const optIn: string[] = [];
  const unexplained: string[] = [];
  for (const [file, count] of [...skipped].sort(([a], [b]) => a.localeCompare(b))) {
    if (forMissingTool(file)) continue;
    const reason = OPT_IN[file];
    if (reason) optIn.push(`    ${file}: ${count} test(s): ${reason}`);
    else unexplained.push(`    ${file}: ${count} test(s)`);
  }
  const lines: string[] = [];
  if (optIn.length > 0) lines.push('', 'NOT RUN by design (opt-in; how to run them):', ...optIn);
  if (unexplained.length > 0) lines.push('', 'SKIPPED without a recorded reason (a missing tool must call noteMissingTool; an opt-in belongs in test/support/skip-report.ts):', ...unexplained);
  return { lines, unexplained: unexplained.length };
}

export default class SkipReport implements Reporter {
  private vitest: Vitest | null = null;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const config = this.vitest?.config;
    if (!config || config.testNamePattern) return;
    if (modules.some((module) => [...module.children.allTests()].some((test) => test.options.mode === 'only'))) return;
    const places = [...readSkipLog().values()].flatMap((set) => [...set]);
    const { lines, unexplained } = skipSummary(skippedByFile(modules, config.root), places);
    if (lines.length > 0) console.log(lines.join('\n'));
    if (unexplained > 0 && process.env.CI === 'true') {
      console.log(`CI: ${unexplained} file(s) skipped tests without a reason: failing the run`);
      process.exitCode = 1;
    }
  }
}
