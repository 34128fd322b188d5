import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/platform/embedded-postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { applyMigrations } from '../../src/platform/migrations.js';
import { admin, withDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the server's `postgres` database: tests create and drop their own databases through it. */
    pgServerUrl: string;
    /** A database holding every migration; each test file clones it. */
    templateDatabase: string;
    /** Unset only outside CI when no Redis answers: Redis-dependent tests then skip. */
    redisUrl: string | undefined;
    runId: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEFAULT_PG = 'postgresql://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/**
 * Finds real PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded one) and real Redis
 * (REDIS_URL, else 127.0.0.1:6379), and migrates one template database with the Prisma CLI for the whole run.
 */
export default async function setup(project: TestProject) {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const logger = createLogger({ level: 'warn' });
  const teardown: Array<() => Promise<void>> = [];

  let serverUrl = process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : undefined;
  if (!serverUrl && (await answers(DEFAULT_PG))) serverUrl = DEFAULT_PG;
  if (!serverUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'mingus-test-pg-'));
    const embedded = await startEmbeddedPostgres(path.join(dir, 'cluster'), logger);
    teardown.push(async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    serverUrl = withDatabase(embedded.url, 'postgres');
  }

  const templateDatabase = `mingus_test_${runId}_template`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${templateDatabase}`));
  await applyMigrations(withDatabase(serverUrl, templateDatabase), ROOT);

  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS;
  const redisAnswers = await pingRedis(redisUrl);
  if (!redisAnswers && process.env.CI === 'true') {
    throw new Error(`Redis does not answer at ${redisUrl}; under CI=true a missing Redis fails the run`);
  }
  if (!redisAnswers) logger.warn(`Redis does not answer at ${redisUrl}: tests that need it will be skipped`);

  project.provide('pgServerUrl', serverUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('redisUrl', redisAnswers ? redisUrl : undefined);
  project.provide('runId', runId);

  return async () => {
    await admin(serverUrl, async (c) => {
      const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `mingus_test_${runId}_%`,
      ]);
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    });
    for (const step of teardown.reverse()) await step();
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    await admin(url, (c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

async function pingRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
