/**
 * The servers under load, in a process of their own so that autocannon (bench/run.ts) does not share their event
 * loop: the real application wired as in production, and the baselines. Prints one JSON line with their ports
 * once they serve; on SIGTERM, SIGINT or the end of stdin (the runner died), closes everything and drops its database.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/platform/db.js';
import { startEmbeddedPostgres } from '../src/platform/embedded-postgres.js';
import { closeServer, listen } from '../src/platform/http-server.js';
import { createLifecycle } from '../src/platform/lifecycle.js';
import { createLogger, type Logger } from '../src/platform/logger.js';
import { applyMigrations } from '../src/platform/migrations.js';
import { closeRedis, createRedis, type RedisClient } from '../src/platform/redis.js';
import { type BaselineName, baselines } from './baselines.js';

export interface ServersReady {
  app: number;
  baselines: Record<BaselineName, number>;
  log: string;
  versions: { postgres: string; redis: string };
}

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const LOG_FILE = path.join(RESULTS_DIR, 'app.log');
const DEFAULT_PG = 'postgresql://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/** Undone in reverse order at exit, whether startup finished or not. */
const cleanup: Array<() => Promise<void>> = [];

async function start(logger: Logger): Promise<ServersReady> {
  const serverUrl = await postgresServer(logger);
  const database = `mingus_bench_${process.pid}_${Date.now().toString(36)}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${database}`));
  cleanup.push(async () => {
    await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });
  const databaseUrl = withDatabase(serverUrl, database);
  await applyMigrations(databaseUrl, ROOT);

  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const config = loadConfig(
    {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? DEFAULT_REDIS,
      CORS_ORIGINS: 'https://bench.invalid',
      HEALTH_TOKEN: randomBytes(48).toString('base64url'),
      JWT_SECRET: randomBytes(48).toString('base64url'),
      CSRF_SECRET: randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
    },
    { rootDir: ROOT, packageVersion: pkg.version },
  );
  const redisUrl = config.redis.url ?? DEFAULT_REDIS;

  const db = createDatabase({ url: databaseUrl, poolMax: config.db.poolMax, logger });
  cleanup.push(() => db.close());
  const redis = createRedis({ url: redisUrl, logger });
  cleanup.push(() => closeRedis(redis));
  await redisReady(redis, redisUrl);

  const lifecycle = createLifecycle();
  const app = createApp({ config, logger, db, redis, lifecycle });
  cleanup.push(async () => app.close());
  // Migrations were applied above: the state main.ts reaches once it has verified them.
  lifecycle.markStarted();
  const appServer = await serve(listen(app, config.http.port, config.http.host));

  const ports: Partial<Record<BaselineName, number>> = {};
  for (const name of Object.keys(baselines) as BaselineName[]) {
    ports[name] = port(await serve(listen(baselines[name](), 0, '127.0.0.1')));
  }
  const versions = {
    postgres: (await db.pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?',
    redis: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?',
  };
  return { app: port(appServer), baselines: ports as Record<BaselineName, number>, log: LOG_FILE, versions };
}

async function serve(listening: Promise<Server>): Promise<Server> {
  const server = await listening;
  cleanup.push(async () => void (await closeServer(server, 2_000)));
  return server;
}

function port(server: Server): number {
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('server has no TCP address');
  return address.port;
}

/** DATABASE_URL's server, else 127.0.0.1:5432, else an embedded PostgreSQL on a temporary directory. */
async function postgresServer(logger: Logger): Promise<string> {
  const candidates = [process.env.DATABASE_URL && withDatabase(process.env.DATABASE_URL, 'postgres'), DEFAULT_PG];
  for (const url of candidates) if (url && (await answers(url))) return url;
  const dir = mkdtempSync(path.join(tmpdir(), 'mingus-bench-pg-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const embedded = await startEmbeddedPostgres(path.join(dir, 'cluster'), logger);
  cleanup.push(() => embedded.stop());
  return withDatabase(embedded.url, 'postgres');
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  return admin(url, (c) => c.query('SELECT 1')).then(
    () => true,
    () => false,
  );
}

/** The client has no offline queue, so readiness would answer 503 until it has connected. */
function redisReady(redis: RedisClient, url: string): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis does not answer at ${url}; set REDIS_URL`)), 5_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

mkdirSync(RESULTS_DIR, { recursive: true });
// Asynchronous writes, as the production logger to stdout; a fresh file per run.
const logger = createLogger({
  level: 'info',
  destination: pino.destination({ dest: LOG_FILE, sync: false, append: false }),
});
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const step of cleanup.reverse()) {
    await step().catch((err: unknown) => console.error('bench servers: cleanup step failed:', err));
  }
  logger.flush(() => process.exit(code));
}

process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.resume();

start(logger).then(
  (ready) => process.stdout.write(`${JSON.stringify(ready)}\n`),
  (err: unknown) => {
    console.error('bench servers: startup failed:', err);
    void stop(1);
  },
);
