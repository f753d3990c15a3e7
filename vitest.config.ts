import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/consumer/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Some tests run the built package: build it first when it is missing or stale.
    // Temporary directories go under one directory of the run, removed at its end.
    globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/temp-root.ts'],
  },
});
