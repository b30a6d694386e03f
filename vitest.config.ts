import { defineConfig } from 'vitest/config';

// One runner for the whole tree. Every package keeps its tests in test/ beside src/.
export default defineConfig({
  test: {
    include: ['{packages,modules,services,apps}/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', './tools/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
