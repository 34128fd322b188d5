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

export interface TestServicesOptions {
  /** The environment to read DATABASE_URL, REDIS_URL and CI from. */
  env: NodeJS.ProcessEnv;
  /** Names this run's databases (`mingus_test_<runId>_…`); unique by default. */
  runId?: string;
  /** Migrates the template database; by default the Prisma CLI, as production's migration Job does. */
  migrate?: (databaseUrl: string) => Promise<unknown>;
}

export interface TestServices {
  provided: {
    pgServerUrl: string;
    templateDatabase: string;
    redisUrl: string | undefined;
    runId: string;
  };
  /** Drops every database of the run and stops what was started (the embedded PostgreSQL). */
  teardown(): Promise<void>;
}

/**
 * Finds real PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432, else an embedded one) and real Redis
 * (REDIS_URL, else 127.0.0.1:6379), and migrates one template database for the whole run. When any step fails, what
 * the earlier steps created is dropped before the error is rethrown: vitest runs no teardown for a setup that threw.
 */
export async function startTestServices(options: TestServicesOptions): Promise<TestServices> {
  const { env } = options;
  const runId = options.runId ?? `${process.pid}_${Date.now().toString(36)}`;
  const migrate = options.migrate ?? ((url: string) => applyMigrations(url, ROOT));
  const logger = createLogger({ level: 'warn' });
  const stops: Array<() => Promise<void>> = [];
  let serverUrl: string | undefined;

  async function teardown() {
    if (serverUrl) await dropDatabasesOfRun(serverUrl, runId);
    for (const stop of stops.reverse()) await stop();
  }

  try {
    serverUrl = env.DATABASE_URL ? withDatabase(env.DATABASE_URL, 'postgres') : undefined;
    if (!serverUrl && (await answers(DEFAULT_PG))) serverUrl = DEFAULT_PG;
    if (!serverUrl) {
      const dir = mkdtempSync(path.join(tmpdir(), 'mingus-test-pg-'));
      stops.push(async () => rmSync(dir, { recursive: true, force: true }));
      const embedded = await startEmbeddedPostgres(path.join(dir, 'cluster'), logger);
      stops.push(() => embedded.stop());
      serverUrl = withDatabase(embedded.url, 'postgres');
    }

    const templateDatabase = `mingus_test_${runId}_template`;
    await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${templateDatabase}`));
    await migrate(withDatabase(serverUrl, templateDatabase));

    const redisUrl = env.REDIS_URL ?? DEFAULT_REDIS;
    const redisAnswers = await pingRedis(redisUrl);
    if (!redisAnswers && env.CI === 'true') {
      throw new Error(`Redis does not answer at ${redisUrl}; under CI=true a missing Redis fails the run`);
    }
    if (!redisAnswers) logger.warn(`Redis does not answer at ${redisUrl}: tests that need it will be skipped`);

    return {
      provided: { pgServerUrl: serverUrl, templateDatabase, redisUrl: redisAnswers ? redisUrl : undefined, runId },
      teardown,
    };
  } catch (err) {
    try {
      await teardown();
    } catch (cleanupErr) {
      throw new AggregateError([err, cleanupErr], 'test setup failed, and so did dropping what it had created');
    }
    throw err;
  }
}

export default async function setup(project: TestProject) {
  const { provided, teardown } = await startTestServices({ env: process.env });
  project.provide('pgServerUrl', provided.pgServerUrl);
  project.provide('templateDatabase', provided.templateDatabase);
  project.provide('redisUrl', provided.redisUrl);
  project.provide('runId', provided.runId);
  return teardown;
}

/** Every database named after `runId`: the template and the databases cloned from it that a test left behind. */
export async function databasesOfRun(serverUrl: string, runId: string): Promise<string[]> {
  return admin(serverUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname',
      [`mingus_test_${runId}_`],
    );
    return rows.map((r) => r.datname);
  });
}

async function dropDatabasesOfRun(serverUrl: string, runId: string) {
  await admin(serverUrl, async (c) => {
    // Workers clone ahead of need and drop without waiting (postgres.ts), so a statement of theirs may still run on
    // the server after they exit; a database still being created would not be listed yet, and would outlive the run.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND state = 'active'
            AND (starts_with(query, $1) OR starts_with(query, $2))`,
        [`CREATE DATABASE mingus_test_${runId}_`, `DROP DATABASE IF EXISTS mingus_test_${runId}_`],
      );
      if (rows[0]?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await c.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [`mingus_test_${runId}_`],
    );
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
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
  // The refused connection is the answer here; unheard, ioredis would also print it as an unhandled error event.
  redis.on('error', () => undefined);
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
