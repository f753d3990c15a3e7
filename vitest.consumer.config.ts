import { defineConfig } from 'vitest/config';

// Consumer tier: the packed tarball installed into fresh scratch apps (OTel
// 2.x and 3.x, Node 20 and 24, ESM and CommonJS) by test/consumer/support/
// global-setup.ts; each test file drives one or two of those apps.
export default defineConfig({
  test: {
    include: ['test/consumer/**/*.test.ts'],
    globalSetup: ['test/consumer/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
