import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Every skipped test is accounted at the end: a missing tool, opt-in by design, or unexplained.
    reporters: ['default', './test/support/skip-report.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
