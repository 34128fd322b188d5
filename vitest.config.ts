import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // One module graph per worker instead of one per file: importing the application (Prisma's client, zod schemas,
    // the password dictionaries) costs seconds of CPU, and every file imports it. Files share no state through it:
    // each builds its own app, database, Redis key prefix and metrics registry (src/platform/metrics.ts).
    isolate: false,
    // Vitest's default on 2 CPUs is one worker, which leaves a CPU idle whenever a test waits on PostgreSQL, Redis or
    // a spawned process.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 120_000,
    // Each file gets its own database (cloned from a migrated template), so files run in parallel safely.
    fileParallelism: true,
    restoreMocks: true,
  },
});
