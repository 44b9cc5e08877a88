import { describe, expect, it } from 'vitest';
import { OPT_IN, skipSummary } from './skip-report.js';

/** The end-of-run account of skipped tests (skip-report.ts): none may skip silently. */
describe('skipSummary', () => {
  it('leaves missing-tool skips to the global setup, lists opt-in ones with how to run them, flags the rest', () => {
    const optInFile = Object.keys(OPT_IN)[0]!;
    const skipped = new Map([
      ['test/gdb/no-shutdown.test.ts', 2],
      ['test/web/playground.test.ts', 5],
      [optInFile, 1],
      ['test/cpu/smoke.test.ts', 3],
    ]);
    const { lines, unexplained } = skipSummary(skipped, ['test/gdb/no-shutdown.test.ts:15', 'test/web: the chromium suites']);
    expect(unexplained).toBe(1);
    expect(lines).toEqual([
      '',
      'NOT RUN by design (opt-in; how to run them):',
      `    ${optInFile}: 1 test(s): ${OPT_IN[optInFile]}`,
      '',
      'SKIPPED without a recorded reason (a missing tool must call noteMissingTool; an opt-in belongs in test/support/skip-report.ts):',
      '    test/cpu/smoke.test.ts: 3 test(s)',
    ]);
  });

  it('says nothing when nothing skipped', () => {
    expect(skipSummary(new Map(), [])).toEqual({ lines: [], unexplained: 0 });
  });
});
