import express, { type Express } from 'express';
import type { Config } from './config/config.js';
import { accessLog } from './http/access-log.js';
import { corsPolicy } from './http/cors.js';
import { jsonBody } from './http/json-body.js';
import { refuseTrace } from './http/method-guard.js';
import { notFound, problemHandler } from './http/problem.js';
import { requestId } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';
import { securityHeaders } from './http/security-headers.js';
import { healthRoutes, probeRoutes } from './modules/health/health.routes.js';
import { describeHealthApi } from './modules/health/health.schemas.js';
import { createHealthService } from './modules/health/health.service.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { describeMetricsApi } from './modules/metrics/metrics.schemas.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { openApiRoutes } from './openapi/openapi.routes.js';
import type { Database } from './platform/db.js';
import type { Lifecycle } from './platform/lifecycle.js';
import type { Logger } from './platform/logger.js';
import { createMetrics } from './platform/metrics.js';
import { pingRedis, type RedisClient } from './platform/redis.js';
import type { ErrorReporter } from './platform/sentry.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Database;
  /** Absent only in development without REDIS_URL. */
  redis: RedisClient | undefined;
  lifecycle: Lifecycle;
  /** Sentry (main.ts); absent in tests and tools, where failures are only logged. */
  errors?: ErrorReporter;
}

/** Builds the HTTP application: no listening, no side effect on import; main.ts and the tests call it. */
export function createApp(deps: AppDeps): Express & { close(): void } {
  const { config, logger, db, redis, lifecycle, errors } = deps;
  const health = createHealthService({
    lifecycle,
    version: config.version,
    checks: {
      postgres: (ms) => db.ping(ms),
      ...(redis ? { redis: (ms: number) => pingRedis(redis, ms) } : {}),
    },
    poolStats: db.poolStats,
  });
  const metrics = createMetrics({ poolStats: db.poolStats });
  const openApi = buildOpenApiDocument(config.version, [describeHealthApi, describeMetricsApi]);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestId);
  // Probes first: the kubelet calls them every few seconds per pod; logged or counted, they would drown the
  // access log and the request metrics, and they need none of the layers below.
  app.use(probeRoutes(health));
  app.use(requestMetrics(metrics));
  app.use(accessLog(logger));
  app.use(refuseTrace);
  app.use(securityHeaders({ production: config.production }));
  app.use(corsPolicy(config.http.corsOrigins));
  app.use(jsonBody(config.http.bodyLimitBytes));

  app.use('/health', healthRoutes(health, { token: config.health.token }));
  if (config.metrics.token) app.use('/metrics', metricsRoutes(metrics, { token: config.metrics.token }));
  app.use(openApiRoutes(openApi));

  app.use(notFound);
  app.use(problemHandler(logger, errors));

  return Object.assign(app, { close: () => health.close() });
}
