import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 120_000,
    // Each file gets its own database (cloned from a migrated template), so files run in parallel safely.
    fileParallelism: true,
    restoreMocks: true,
  },
});
