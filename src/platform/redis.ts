import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';

export type RedisClient = Redis;

export interface RedisOptions {
  url: string;
  logger: Logger;
  /**
   * A backstop for a command that nothing else bounds (ms). The application's commands go through the guard
   * (redis-guard.ts), whose shorter deadline is decided after the event loop has read its sockets; this timer is
   * not, so it must stay well above any stretch the process may spend busy.
   */
  backstopTimeoutMs?: number;
}

/**
 * A Redis client that fails fast: no offline queue (a command sent while disconnected errors at once instead of
 * waiting for a reconnect), a short connect timeout, one retry per request. A dead Redis must cost a request
 * milliseconds, never hang it: the application wraps this client in its guard (redis-guard.ts), which also logs
 * outages; readiness reports them.
 */
export function createRedis({ url, logger, backstopTimeoutMs = 5_000 }: RedisOptions): RedisClient {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    commandTimeout: backstopTimeoutMs,
    maxRetriesPerRequest: 1,
    // Keep reconnecting with a capped backoff: Redis coming back must heal the service without a restart.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: false,
    // Commands issued in the same tick (a request's session read and its rate-limit count) leave in one write.
    enableAutoPipelining: true,
  });
  // An 'error' event without a listener would end the process. ioredis emits one on every failed reconnect; the
  // guard reports the outage itself, once, so here it is only a debug line.
  redis.on('error', (err) => logger.debug({ err: { message: err.message } }, 'redis connection error'));
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
