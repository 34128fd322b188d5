import { describe, expect, it } from 'vitest';
import { createHealthService } from '../../../src/modules/health/health.service.js';
import { createLifecycle } from '../../../src/platform/lifecycle.js';

describe('readiness', () => {
  it('when called many times at once, checks each dependency once and shares the answer', async () => {
    let pings = 0;
    const lifecycle = createLifecycle();
    lifecycle.markStarted();
    const health = createHealthService({
      lifecycle,
      version: 'test',
      checks: {
        postgres: async () => {
          pings += 1;
          await new Promise((r) => setTimeout(r, 20));
        },
      },
      poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }),
    });
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => health.readiness()));
      expect(answers.every((a) => a.ready)).toBe(true);
      expect(pings).toBe(1);
    } finally {
      health.close();
    }
  });
});
