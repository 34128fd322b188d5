import type { Server } from 'node:http';
import express from 'express';
import type { Config } from './config/config.js';
import { createApiRouter } from './http/api-router.js';
import { createPushChannel, startJobWorker } from './jobs.js';
import { createAuditLog } from './modules/audit/audit.port.js';
import { probeRoutes } from './modules/health/health.routes.js';
import { createHealthService } from './modules/health/health.service.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { createPushService } from './modules/push/push.service.js';
import { createFieldCipher } from './platform/crypto.js';
import { createDatabase, type Database } from './platform/db.js';
import { waitForMigrations } from './platform/entry.js';
import { closeServer, listen } from './platform/http-server.js';
import { createJobQueues, type JobQueues } from './platform/jobs.js';
import { createLifecycle } from './platform/lifecycle.js';
import type { Logger } from './platform/logger.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import { closeRedis, createRedis, pingRedis, waitForRedis } from './platform/redis.js';
import { createErrorReporter, type ErrorReporter } from './platform/sentry.js';
import type { Telemetry } from './platform/telemetry.js';
import { createPushSender } from './platform/web-push.js';

/**
 * The worker process's parts: database, Redis, queues, the job workers, and the probes and metrics it serves on
 * WORKER_PORT. Refuses to start without what jobs need: Redis (where they wait) and a database URL (`npm run worker`
 * does not start the embedded PostgreSQL; in development `npm start` runs the jobs itself).
 */
export async function createJobWorkerProcess(config: Config, logger: Logger, telemetry?: Telemetry) {
  const redisUrl = config.redis.url;
  if (!redisUrl) throw new Error('REDIS_URL is not set: jobs wait in Redis, so the worker cannot run without it');
  const databaseUrl = config.db.url;
  if (!databaseUrl) {
    throw new Error(
      'DATABASE_URL is not set: `npm run worker` does not start the embedded PostgreSQL; in development `npm start` runs the jobs itself',
    );
  }
  const lifecycle = createLifecycle();
  const errors = await createErrorReporter(config.sentry);
  const db = createDatabase({
    url: databaseUrl,
    poolMax: config.db.poolMax,
    logger,
    timeouts: { statementMs: config.db.statementTimeoutMs, connectionWaitMs: config.db.connectionWaitMs },
    maxLifetimeSeconds: config.db.maxLifetimeSeconds,
  });
  const redis = createRedis({ url: redisUrl, logger });
  await waitForRedis(redis, 2_000);
  const queues = createJobQueues({ redisUrl, keyPrefix: config.redis.keyPrefix });
  const metrics = createMetrics({ poolStats: db.poolStats, jobCounts: () => queues.counts() });
  const health = createHealthService({
    lifecycle,
    version: config.version,
    checks: { postgres: (ms) => db.ping(ms), redis: (ms) => pingRedis(redis, ms) },
    poolStats: db.poolStats,
    redisRequired: true,
  });
  // Jobs written for this build's tables must not run against an older schema: wait, as the API's startup does.
  await waitForMigrations(db, config, logger);
  const jobs = await startJobs({ config, redisUrl, logger, db, errors, metrics, queues, telemetry });
  lifecycle.markStarted();
  logger.info({ concurrency: config.jobs.concurrency }, 'worker started');
  let server: Server | undefined;

  return {
    /** Liveness, readiness (started, not shutting down, PostgreSQL and Redis answering) and `/metrics` (METRICS_TOKEN). */
    async serveProbes(): Promise<Server> {
      const root = createApiRouter();
      root.mount('/', probeRoutes(health));
      if (config.metrics.token) root.mount('/metrics', metricsRoutes(metrics, { token: config.metrics.token }));
      const app = express();
      app.disable('x-powered-by');
      app.use(root.router);
      server = await listen(app, config.jobs.probePort, config.http.host);
      return server;
    },
    /** Drains: readiness 503, no new job, running ones finished within SHUTDOWN_TIMEOUT_MS; the exit code. */
    async stop(reason: string): Promise<number> {
      lifecycle.beginShutdown();
      logger.info({ reason }, 'worker draining: no new job is taken');
      setTimeout(() => process.exit(1), config.http.shutdownTimeoutMs + 5_000).unref();
      let code = 0;
      try {
        const drained = await jobs.close(config.http.shutdownTimeoutMs);
        if (!drained) {
          logger.warn('jobs still running at the drain deadline: BullMQ hands them to another worker');
          code = 1;
        }
        if (server) await closeServer(server, 1_000);
        health.close();
        await errors.close(2_000);
        await telemetry?.shutdown(2_000);
        await db.close();
        await closeRedis(redis);
        logger.info({ exitCode: code }, 'worker stopped');
      } catch (err) {
        logger.error({ err }, 'worker shutdown failed');
        code = 1;
      }
      return code;
    },
  };
}

interface JobsDeps {
  telemetry?: Telemetry | undefined;
  config: Config;
  redisUrl: string;
  logger: Logger;
  db: Database;
  errors: ErrorReporter;
  metrics: Metrics;
  queues: JobQueues;
}

/** The job workers with their channels; `npm run worker` and, in development, `npm start` run them. */
async function startJobs(deps: JobsDeps) {
  const { config, db, queues } = deps;
  const push = createPushChannel(
    createPushService({
      db,
      auditLog: createAuditLog(),
      cipher: createFieldCipher(config.fieldEncryption),
      publicKey: config.push.publicKey,
      publicEndpointsOnly: config.production,
      now: () => new Date(),
    }),
    createPushSender(config.push),
  );
  const worker = await startJobWorker({
    ...deps,
    config: { ...config, redis: { ...config.redis, url: deps.redisUrl } },
    push,
  });
  return {
    isRunning: worker.isRunning,
    async close(deadlineMs: number) {
      const drained = await worker.close(deadlineMs);
      await queues.close();
      return drained;
    },
  };
}

/**
 * Development's `npm start` runs the jobs in its own process, on its database, so the two-command start delivers
 * reminders too (to `.data/outbox` without SMTP_URL). Production runs `npm run worker` instead.
 */
export async function startJobsInProcess(deps: Omit<JobsDeps, 'metrics' | 'queues'>) {
  const queues = createJobQueues({ redisUrl: deps.redisUrl, keyPrefix: deps.config.redis.keyPrefix });
  // Not served: development's /metrics is the app's.
  const metrics = createMetrics({ poolStats: deps.db.poolStats, jobCounts: () => queues.counts(), served: false });
  return startJobs({ ...deps, metrics, queues });
}
