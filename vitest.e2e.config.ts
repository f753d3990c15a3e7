import { defineConfig } from 'vitest/config';

// End-to-end tier: real collector and Jaeger processes started by the tests
// (see test/e2e/ and collector/README.md). Files run one after another: each
// starts its own services, and the machine has two cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
