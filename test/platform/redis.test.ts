import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { closeRedis, createRedis, pingRedis, waitForRedis } from '../../src/platform/redis.js';
import { UNREACHABLE_REDIS } from '../support/app.js';

const logger = createLogger({ level: 'silent' });

describe('a Redis that is down', () => {
  const redis = createRedis({ url: UNREACHABLE_REDIS, logger });
  afterAll(() => closeRedis(redis));

  it('when a command is sent, fails at once instead of queueing until a reconnect', async () => {
    const started = Date.now();
    await expect(redis.get('any-key')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('when waited for, gives up after the deadline without throwing', async () => {
    expect(await waitForRedis(redis, 200)).toBe(false);
  });

  it('when pinged with a deadline, rejects within it', async () => {
    const started = Date.now();
    await expect(pingRedis(redis, 300)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(800);
  });
});

describe.runIf(inject('redisUrl'))('a Redis that is up', () => {
  const redis = createRedis({ url: inject('redisUrl') ?? '', logger });
  afterAll(() => closeRedis(redis));

  it('when pinged, answers', async () => {
    expect(await waitForRedis(redis, 2_000)).toBe(true);
    await expect(pingRedis(redis, 1_000)).resolves.toBeUndefined();
  });
});
