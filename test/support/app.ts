import { generateKeyPairSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { MIN_PRODUCTION_BCRYPT_COST } from '../../src/config/env.schema.js';
import { createDatabase } from '../../src/platform/db.js';
import { closeServer, listen } from '../../src/platform/http-server.js';
import { createLifecycle } from '../../src/platform/lifecycle.js';
import { createLogger } from '../../src/platform/logger.js';
import { closeRedis, createRedis, waitForRedis } from '../../src/platform/redis.js';
import { guardRedis } from '../../src/platform/redis-guard.js';
import { createTestDatabase } from './postgres.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const TEST_ORIGIN = 'https://app.mingus.test';
/** One VAPID key for the run (all 32 bytes: a JWK's `d`). */
export const TEST_VAPID_PRIVATE_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  format: 'jwk',
}).d as string;
/** An address where nothing listens: Redis "down". */
export const UNREACHABLE_REDIS = 'redis://127.0.0.1:1';

export interface TestAppOptions {
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** `real` (default): the run's Redis; `unreachable`: a closed port; `none`: no Redis at all. */
  redis?: 'real' | 'unreachable' | 'none';
  /** Leave the process "starting" (startup probe 503). */
  started?: boolean;
  /** The application's clock. */
  now?: () => Date;
  /** The address the app reaches its database at, from the test database's own (a proxy the test controls). */
  databaseUrl?: (url: string) => string;
  /** The address the app reaches Redis at, from the run's Redis (a proxy the test controls). */
  redisUrl?: (url: string) => string;
}

/**
 * The real application on a fresh database and the real Redis, with its log lines captured for assertions.
 * Only the environment differs from production wiring; nothing of ours is stubbed.
 */
export async function startTestApp(options: TestAppOptions = {}) {
  const database = await createTestDatabase();
  const runRedis = inject('redisUrl');
  const redisUrl =
    options.redis === 'unreachable'
      ? UNREACHABLE_REDIS
      : options.redis === 'none' || !runRedis
        ? undefined
        : (options.redisUrl?.(runRedis) ?? runRedis);
  const healthToken = randomBytes(32).toString('base64url');
  const metricsToken = randomBytes(32).toString('base64url');
  const jwtSecret = randomBytes(32).toString('base64url');
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl ?? '',
      LOG_LEVEL: 'info',
      CORS_ORIGINS: TEST_ORIGIN,
      HEALTH_TOKEN: healthToken,
      METRICS_TOKEN: metricsToken,
      JWT_SECRET: jwtSecret,
      CSRF_SECRET: randomBytes(32).toString('base64url'),
      EMAIL_HASH_KEY: randomBytes(32).toString('base64url'),
      FIELD_ENCRYPTION_KEYS: `t1:${randomBytes(32).toString('base64')}`,
      FIELD_ENCRYPTION_KEY_ID: 't1',
      // Each app counts in keys of its own: test files run in parallel against one Redis.
      REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
      // bcrypt's minimum cost where production allows it: at production's minimum, hashing would be most of the
      // suite's CPU. Limits out of the way. The tests of the cost and of each limit set them themselves.
      BCRYPT_COST: options.env?.NODE_ENV === 'production' ? String(MIN_PRODUCTION_BCRYPT_COST) : '4',
      RATE_LIMIT_PER_MINUTE: '100000',
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      REGISTER_RATE_LIMIT_PER_HOUR: '100000',
      // Files run in parallel on a loaded machine, each app with a pool of five: waiting a second for a connection
      // would refuse requests that production, with its own machine, would serve. The bound's own test sets it.
      DATABASE_CONNECTION_WAIT_MS: '5000',
      // The test server is on this machine: production-mode apps (NODE_ENV given by a test) reach it without TLS.
      DATABASE_LOCAL_CONNECTION: 'true',
      // What production requires of email and push; the API itself sends neither (the job tests point the worker at
      // their own SMTP server).
      SMTP_URL: 'smtp://127.0.0.1:2525',
      MAIL_FROM: 'Mingus <no-reply@mingus.test>',
      VAPID_PRIVATE_KEY: TEST_VAPID_PRIVATE_KEY,
      VAPID_SUBJECT: 'mailto:ops@mingus.test',
      APP_URL: 'https://app.mingus.test',
      // Likewise a Redis shared by every file of the run may be slower than production's: an unanswered command
      // makes a sign-in answer 503. The outage tests set production's value.
      REDIS_COMMAND_TIMEOUT_MS: '1000',
      ...options.env,
    },
    { rootDir: ROOT, packageVersion: '0.0.0-test' },
  );
  const logLines: string[] = [];
  const logger = createLogger({
    level: config.log.level,
    destination: { write: (line: string) => logLines.push(line) },
  });
  const db = createDatabase({
    url: options.databaseUrl?.(database.url) ?? database.url,
    poolMax: 5,
    logger,
    timeouts: { statementMs: config.db.statementTimeoutMs, connectionWaitMs: config.db.connectionWaitMs },
  });
  const redis = config.redis.url ? createRedis({ url: config.redis.url, logger }) : undefined;
  if (redis && options.redis !== 'unreachable') await waitForRedis(redis, 2_000);
  const lifecycle = createLifecycle();
  if (options.started !== false) lifecycle.markStarted();
  const express = createApp({ config, logger, db, redis, lifecycle, ...(options.now ? { now: options.now } : {}) });
  // Served the way main.ts serves it (createHttpServer, ADR 0013), so an Express or Node upgrade that breaks that
  // server fails these tests; supertest sends each request to this listening server.
  const server = await listen(express, 0, '127.0.0.1');

  return {
    /** The app's HTTP server, listening on a free port of 127.0.0.1: what `request(t.app)` talks to. */
    app: server,
    /** The Express application it serves. */
    express,
    config,
    db,
    redis,
    /**
     * A guard of its own on the app's Redis client, for tests that build a service the way the app does; silent, so
     * the app's log holds only the app's own outage lines.
     */
    redisGuard: redis
      ? guardRedis({
          redis,
          logger: createLogger({ level: 'silent' }),
          commandTimeoutMs: config.redis.commandTimeoutMs,
        })
      : undefined,
    lifecycle,
    healthToken,
    metricsToken,
    database,
    /** Parsed log lines written so far. */
    logs: () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogs: () => logLines.join(''),
    async close() {
      await closeServer(server, 1_000);
      express.close();
      await db.close();
      if (redis) await closeRedis(redis);
      database.release();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;
