import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { createApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { createDatabase, type Database } from './platform/db.js';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './platform/embedded-postgres.js';
import { closeServer, listen } from './platform/http-server.js';
import { createLifecycle, type Lifecycle } from './platform/lifecycle.js';
import { createLogger, type Logger } from './platform/logger.js';
import { applyMigrations, isClean, readMigrationStatus } from './platform/migrations.js';
import { closeRedis, createRedis, type RedisClient, waitForRedis } from './platform/redis.js';

const ROOT_DIR = path.resolve(import.meta.dirname, '..');
const MIGRATION_POLL_MS = 2_000;

interface Running {
  server?: Server;
  app?: { close(): void };
  db?: Database;
  redis?: RedisClient;
  embedded?: EmbeddedPostgresHandle;
}

async function main() {
  const config = readConfig();
  const logger = createLogger(config.log);
  const lifecycle = createLifecycle();
  const running: Running = {};
  const shutdown = installShutdown({ config, logger, lifecycle, running });
  try {
    await start(config, logger, lifecycle, running);
    lifecycle.markStarted();
    logger.info('startup complete');
  } catch (err) {
    // Stop what did start (the embedded cluster above all) rather than leave it orphaned.
    logger.fatal({ err }, 'startup failed');
    await shutdown('startup failed', 1);
  }
}

async function start(config: Config, logger: Logger, lifecycle: Lifecycle, running: Running) {
  let databaseUrl = config.db.url;
  if (!databaseUrl) {
    running.embedded = await startEmbeddedPostgres(config.db.embeddedDir, logger);
    databaseUrl = running.embedded.url;
  }
  if (!config.production) {
    // Development applies its own migrations; production runs `npm run db:migrate` as a Job and only checks here.
    logger.info('applying pending migrations (development)');
    await applyMigrations(databaseUrl, config.paths.root);
  }

  running.db = createDatabase({ url: databaseUrl, poolMax: config.db.poolMax, logger });
  if (config.redis.url) {
    running.redis = createRedis({ url: config.redis.url, logger });
    await waitForRedis(running.redis, 2_000);
  } else logger.warn('REDIS_URL is not set: running without Redis (development only; rate limits stay in memory)');

  const app = createApp({ config, logger, db: running.db, redis: running.redis, lifecycle });
  running.app = app;
  running.server = await listen(app, config.http.port, config.http.host);
  logger.info({ port: config.http.port, env: config.env, version: config.version }, 'listening');

  await waitForMigrations(running.db, config, logger);
}

function readConfig(): Config {
  const pkg = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
  try {
    return loadConfig(process.env, { rootDir: ROOT_DIR, packageVersion: pkg.version });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // No logger exists yet, and the operator must see this whatever LOG_LEVEL says.
    console.error(err.message);
    process.exit(1);
  }
}

/** Startup stays 503 until the database holds every migration of this build, so traffic never meets old tables. */
async function waitForMigrations(db: Database, config: Config, logger: Logger) {
  let reported = '';
  for (;;) {
    const status = await readMigrationStatus(db.pool, config.db.migrationsDir).catch((err: Error) => {
      logger.warn({ err }, 'could not read migration status');
      return undefined;
    });
    if (status && isClean(status)) return;
    const summary = JSON.stringify(status ?? 'unknown');
    if (summary !== reported) {
      logger.warn({ migrations: status }, 'waiting for migrations: run `npm run db:migrate`');
      reported = summary;
    }
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_POLL_MS));
  }
}

function installShutdown(ctx: { config: Config; logger: Logger; lifecycle: Lifecycle; running: Running }) {
  const { config, logger, lifecycle, running } = ctx;
  let exiting = false;

  const shutdown = async (reason: string, code: number) => {
    if (exiting) {
      logger.warn({ reason }, 'second signal: exiting at once');
      logger.flush();
      process.exit(1);
    }
    exiting = true;
    lifecycle.beginShutdown();
    logger.info({ reason }, 'shutting down: readiness is now 503');
    // Whatever hangs below, the process still ends shortly after the drain deadline.
    setTimeout(() => process.exit(1), config.http.shutdownTimeoutMs + 5_000).unref();
    let exitCode = code;
    try {
      if (running.server) {
        const outcome = await closeServer(running.server, config.http.shutdownTimeoutMs);
        if (outcome === 'timed_out') {
          logger.warn({ timeoutMs: config.http.shutdownTimeoutMs }, 'in-flight requests cut at the drain deadline');
          exitCode = 1;
        }
      }
      running.app?.close();
      await running.db?.close();
      if (running.redis) await closeRedis(running.redis);
      await running.embedded?.stop();
      logger.info({ exitCode }, 'shutdown complete');
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      exitCode = 1;
    }
    logger.flush(() => process.exit(exitCode));
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled promise rejection');
    void shutdown('unhandledRejection', 1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  return shutdown;
}

main().catch((err: unknown) => {
  // Startup failed before the shutdown path could help: say why, in the log format when possible.
  console.error('startup failed:', err);
  process.exit(1);
});
