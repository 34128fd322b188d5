import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';

export type RedisClient = Redis;

export interface RedisOptions {
  url: string;
  logger: Logger;
  /** How long one command may wait for an answer before it fails (ms). */
  commandTimeoutMs?: number;
}

/**
 * A Redis client that fails fast: no offline queue (a command sent while disconnected errors at once instead of
 * waiting for a reconnect), short connect and command timeouts, one retry per request. A dead Redis must cost a
 * request milliseconds, never hang it; readiness reports the outage.
 */
export function createRedis({ url, logger, commandTimeoutMs = 500 }: RedisOptions): RedisClient {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    // Keep reconnecting with a capped backoff: Redis coming back must heal the service without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
    // Commands issued in the same tick (a request's session read and its rate-limit count) leave in one write.
    enableAutoPipelining: true,
  });
  let healthy = true;
  redis.on('error', (err) => {
    // ioredis emits an error on every failed reconnect; one line per outage is enough.
    if (healthy) logger.warn({ err: { message: err.message } }, 'redis unavailable');
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis connection restored');
    healthy = true;
  });
  return redis;
}

/**
 * Waits (at most `timeoutMs`) for the first connection, so the first requests after start do not fail merely
 * because the socket is still opening; a Redis that stays down is not an error here: readiness reports it.
 */
export async function waitForRedis(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return withTimeout(
    new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
    timeoutMs,
    'redis',
  ).catch(() => false);
}

/** PING with a deadline of its own, independent of the client's command timeout. */
export async function pingRedis(redis: RedisClient, timeoutMs: number): Promise<void> {
  await withTimeout(redis.ping(), timeoutMs, 'redis');
}

export async function closeRedis(redis: RedisClient): Promise<void> {
  try {
    await redis.quit();
  } catch {
    // quit() fails when the connection is already down; there is nothing left to close gracefully.
    redis.disconnect();
  }
}
