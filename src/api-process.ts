import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { Config } from './config/config.js';
import { createDatabase, type Database } from './platform/db.js';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './platform/embedded-postgres.js';
import { onShutdownSignal, waitForMigrations } from './platform/entry.js';
import { closeServer, createHttpServer, DRAIN_IDLE_GRACE_MS, listen } from './platform/http-server.js';
import { createLifecycle, type Lifecycle } from './platform/lifecycle.js';
import { createLogger, type Logger } from './platform/logger.js';
import { serveClusterMetrics } from './platform/metrics-cluster.js';
import { applyMigrations } from './platform/migrations.js';
import { closeRedis, createRedis, type RedisClient, waitForRedis } from './platform/redis.js';
import { createErrorReporter, type ErrorReporter } from './platform/sentry.js';
import type { Telemetry } from './platform/telemetry.js';
import { acceptFromPrimary, isShutdownMessage, startWorkerPool } from './platform/workers.js';
import { startJobsInProcess } from './worker-process.js';

interface Running {
  server?: Server;
  app?: { close(): void };
  db?: Database;
  redis?: RedisClient;
  jobs?: { close(deadlineMs: number): Promise<boolean> };
  embedded?: EmbeddedPostgresHandle;
  errors?: ErrorReporter;
  telemetry?: Telemetry;
}

/**
 * The API process, loaded by src/main.ts once tracing (if configured) is in place: config → platform → app →
 * listen, and the shutdown discipline.
 */
export async function runApi(config: Config, telemetry: Telemetry | undefined) {
  const logger = createLogger({ ...config.log, fields: telemetry?.logFields });
  if (config.envFile && cluster.isPrimary)
    logger.info({ file: config.envFile }, 'read development overrides from .env');
  if (config.http.workers > 1 && cluster.isPrimary) await runPrimary(config, logger);
  else await runServer(config, logger, telemetry);
}

/**
 * With WEB_CONCURRENCY > 1 the primary serves nothing itself: it owns what must exist once (the listening socket,
 * the embedded PostgreSQL and development migrations), forks the workers, hands them the connections, replaces dead
 * ones, and drains them on a signal.
 */
async function runPrimary(config: Config, logger: Logger) {
  const embedded = config.db.url
    ? undefined
    : await startEmbeddedPostgres(config.db.embeddedDir, logger, { detached: true });
  const databaseUrl = config.db.url ?? (embedded as EmbeddedPostgresHandle).url;
  if (!config.production) await applyDevelopmentMigrations(databaseUrl, config, logger);

  serveClusterMetrics();
  const { port, host } = config.http;
  const pool = startWorkerPool({ count: config.http.workers, env: { DATABASE_URL: databaseUrl }, logger, port, host });
  logger.info({ workers: config.http.workers }, 'primary started its workers');
  pool.onListening((address) => logListening(logger, config, address));
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) {
      logger.warn({ reason }, 'second signal: killing workers and exiting at once');
      pool.killAll();
      logger.flush(() => process.exit(1));
      return;
    }
    stopping = true;
    logger.info({ reason }, 'draining workers');
    const workersCode = await pool.stop(config.http.shutdownTimeoutMs + 2_000);
    await embedded?.stop().catch((err: unknown) => logger.error({ err }, 'embedded PostgreSQL did not stop'));
    const exitCode = Math.max(code, workersCode);
    logger.info({ exitCode }, 'shutdown complete');
    logger.flush(() => process.exit(exitCode));
  };
  pool.onGiveUp((reason) => void stop(reason, 1));
  onShutdownSignal((signal) => void stop(signal, 0));
}

async function runServer(config: Config, logger: Logger, telemetry: Telemetry | undefined) {
  const lifecycle = createLifecycle();
  const running: Running = telemetry ? { telemetry } : {};
  const shutdown = installShutdown({ config, logger, lifecycle, running });
  try {
    await start(config, logger, lifecycle, running);
    lifecycle.markStarted();
    logger.info('startup complete');
  } catch (err) {
    // A signal during startup (Ctrl-C while migrations apply) is already shutting down; this is its echo.
    if (lifecycle.isShuttingDown()) return;
    // Stop what did start (the embedded cluster above all) rather than leave it orphaned.
    logger.fatal({ err }, 'startup failed');
    await shutdown('startup failed', 1);
  }
}

async function start(config: Config, logger: Logger, lifecycle: Lifecycle, running: Running) {
  running.errors = await createErrorReporter(config.sentry);
  let databaseUrl = config.db.url;
  if (!databaseUrl) {
    running.embedded = await startEmbeddedPostgres(config.db.embeddedDir, logger, { detached: true });
    databaseUrl = running.embedded.url;
  }
  // Under WEB_CONCURRENCY the primary has applied them already.
  if (!config.production && cluster.isPrimary) await applyDevelopmentMigrations(databaseUrl, config, logger);

  running.db = createDatabase({
    url: databaseUrl,
    poolMax: config.db.poolMax,
    logger,
    timeouts: { statementMs: config.db.statementTimeoutMs, connectionWaitMs: config.db.connectionWaitMs },
    maxLifetimeSeconds: config.db.maxLifetimeSeconds,
  });
  if (config.redis.url) {
    running.redis = createRedis({ url: config.redis.url, logger });
    await waitForRedis(running.redis, 2_000);
  } else {
    logger.warn(
      'REDIS_URL is not set: running without Redis (development only): rate limits stay in memory, and no job runs, so reminders are not sent',
    );
  }

  const app = createApp({ config, logger, db: running.db, redis: running.redis, lifecycle, errors: running.errors });
  running.app = app;
  // Development runs the jobs here too (production: `npm run worker`), so the two-command start delivers reminders.
  if (!config.production && config.redis.url) {
    running.jobs = await startJobsInProcess({
      config,
      redisUrl: config.redis.url,
      logger: logger.child({ process: 'jobs' }),
      db: running.db,
      errors: running.errors,
      telemetry: running.telemetry,
    });
  }
  if (cluster.isWorker) {
    running.server = createHttpServer(app);
    acceptFromPrimary(running.server);
  } else {
    running.server = await listen(app, config.http.port, config.http.host);
    logListening(logger, config, running.server.address() as AddressInfo);
  }

  await waitForMigrations(running.db, config, logger);
}

/** Logs the URL a person on this machine opens: `0.0.0.0` and `::` listen on every interface, localhost among them. */
function logListening(logger: Logger, config: Config, address: AddressInfo) {
  const { host } = config.http;
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${name}:${address.port}`;
  logger.info({ url, env: config.env, version: config.version }, `listening on ${url}`);
}

/**
 * A worker leaves signals to its primary, which a signal to the whole process group also reaches (Ctrl-C in a
 * terminal, systemd stopping the service): the primary stops accepting, then asks each worker to drain. A worker
 * that drained on the signal itself could be done, and gone, before the last connections handed to it arrive.
 * A second signal makes the primary kill the workers.
 */
function ignoreShutdownSignals() {
  const ignore = () => {};
  process.on('SIGTERM', ignore);
  process.on('SIGINT', ignore);
}

/** Development applies its own migrations; production runs `npm run db:migrate` as a Job and only checks. */
async function applyDevelopmentMigrations(databaseUrl: string, config: Config, logger: Logger) {
  logger.info('applying pending migrations (development)');
  await applyMigrations(databaseUrl, config.paths.root);
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
        const outcome = await closeServer(running.server, config.http.shutdownTimeoutMs, DRAIN_IDLE_GRACE_MS);
        if (outcome === 'timed_out') {
          logger.warn({ timeoutMs: config.http.shutdownTimeoutMs }, 'in-flight requests cut at the drain deadline');
          exitCode = 1;
        }
      }
      running.app?.close();
      await running.jobs?.close(config.http.shutdownTimeoutMs);
      await running.errors?.close(2_000);
      await running.telemetry?.shutdown(2_000);
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

  if (cluster.isPrimary) onShutdownSignal((signal) => void shutdown(signal, 0));
  else ignoreShutdownSignals();
  // A worker is told to drain by its primary over IPC, after the last connection the primary handed it.
  process.on('message', (message) => {
    if (isShutdownMessage(message) && !exiting) void shutdown('primary', 0);
  });
  // A crash during the drain is logged, not treated as a second signal: cutting the in-flight requests would not help.
  const crash = (reason: string, err: unknown) => {
    logger.fatal({ err }, reason);
    running.errors?.captureCrash(err);
    if (!exiting) void shutdown(reason, 1);
  };
  process.on('unhandledRejection', (err) => crash('unhandled promise rejection', err));
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  return shutdown;
}
