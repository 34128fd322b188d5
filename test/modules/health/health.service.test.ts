import { describe, expect, it } from 'vitest';
import { createHealthService } from '../../../src/modules/health/health.service.js';
import { createLifecycle } from '../../../src/platform/lifecycle.js';

describe('readiness', () => {
  it('when called many times at once, checks each dependency once and shares the answer', async () => {
    let pings = 0;
    let answer = () => {};
    // The check answers only when the test says so: every call below arrives while it is still running.
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const lifecycle = createLifecycle();
    lifecycle.markStarted();
    const health = createHealthService({
      lifecycle,
      version: 'test',
      checks: {
        postgres: async () => {
          pings += 1;
          await answered;
        },
      },
      poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }),
    });
    try {
      const calls = Array.from({ length: 50 }, () => health.readiness());
      answer();
      const answers = await Promise.all(calls);
      expect(answers.every((a) => a.ready)).toBe(true);
      expect(pings).toBe(1);
    } finally {
      health.close();
    }
  });
});
