import cookieParser from 'cookie-parser';
import express, { type Express, type RequestHandler, Router } from 'express';
import type { Config } from './config/config.js';
import { accessLog } from './http/access-log.js';
import { authenticate } from './http/authenticate.js';
import { corsPolicy } from './http/cors.js';
import { createCsrf } from './http/csrf.js';
import { jsonBody } from './http/json-body.js';
import { refuseTrace } from './http/method-guard.js';
import { createIdempotency } from './http/idempotency.js';
import { createCursors } from './http/pagination.js';
import { notFound, problemHandler } from './http/problem.js';
import { createRateLimits } from './http/rate-limits.js';
import { requestId } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';
import { securityHeaders } from './http/security-headers.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { describeAdminApi } from './modules/admin/admin.schemas.js';
import { createAdminService } from './modules/admin/admin.service.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { describeApiKeysApi } from './modules/api-keys/api-keys.schemas.js';
import { createApiKeysService } from './modules/api-keys/api-keys.service.js';
import { createAccessTokens } from './modules/auth/access-tokens.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { describeAuthApi } from './modules/auth/auth.schemas.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createLoginLockout } from './modules/auth/login-lockout.js';
import { createSessionState } from './modules/auth/session-state.js';
import { healthRoutes, probeRoutes } from './modules/health/health.routes.js';
import { describeHealthApi } from './modules/health/health.schemas.js';
import { createHealthService } from './modules/health/health.service.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { describeMetricsApi } from './modules/metrics/metrics.schemas.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { describeUsersApi } from './modules/users/users.schemas.js';
import { createUsersService } from './modules/users/users.service.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { openApiRoutes } from './openapi/openapi.routes.js';
import type { Database } from './platform/db.js';
import type { Lifecycle } from './platform/lifecycle.js';
import type { Logger } from './platform/logger.js';
import { createFieldCipher } from './platform/crypto.js';
import { createMetrics } from './platform/metrics.js';
import { createPasswordHasher } from './platform/password-hash.js';
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
  /** The clock; tests may pass another. */
  now?: () => Date;
}

/** Personal data and credentials: no answer of the API may be kept by a browser or a shared cache. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** Builds the HTTP application: no listening, no side effect on import; main.ts and the tests call it. */
export function createApp(deps: AppDeps): Express & { close(): void } {
  const { config, logger, db, redis, lifecycle, errors } = deps;
  const now = deps.now ?? (() => new Date());
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
  const openApi = buildOpenApiDocument(config.version, [
    describeHealthApi,
    describeMetricsApi,
    describeAuthApi,
    describeApiKeysApi,
    describeUsersApi,
    describeAdminApi,
  ]);

  const { keyPrefix } = config.redis;
  const tokens = createAccessTokens({
    secret: config.auth.jwtSecret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ttlSeconds: config.auth.accessTokenTtlSeconds,
  });
  const sessions = createSessionState({
    db,
    redis,
    keyPrefix,
    logger,
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
    now,
  });
  const lockout = createLoginLockout({
    redis,
    keyPrefix,
    logger,
    threshold: config.limits.lockoutThreshold,
    lockMinutes: config.limits.lockoutMinutes,
  });
  const auth = createAuthService({
    db,
    hasher: createPasswordHasher(config.auth.bcryptCost),
    tokens,
    sessions,
    lockout,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    now,
  });
  const users = createUsersService({ db });
  const csrf = createCsrf(config.auth.csrfSecret);
  const limits = createRateLimits({ redis, keyPrefix, logger, metrics, limits: config.limits });
  const cursors = createCursors(config.auth.jwtSecret);
  const admin = createAdminService({
    db,
    sessions,
    cursors,
    hasher: createPasswordHasher(config.auth.bcryptCost),
    now,
  });
  const apiKeys = createApiKeysService({ db, cursors, redis, keyPrefix, logger, now });
  const cipher = createFieldCipher(config.fieldEncryption);
  const idempotent = createIdempotency({ db, now, logger });
  const authenticateRequest = authenticate({
    session: (token, via) => auth.principalOfAccessToken(token, via),
    apiKey: (key) => apiKeys.principalOfKey(key),
  });

  const api = Router();
  api.use(noStore, authenticateRequest, limits.api);
  api.use('/auth/api-keys', apiKeysRoutes(apiKeys, { csrf }));
  api.use('/auth', authRoutes(auth, { csrf, limits, refreshTokenTtlDays: config.auth.refreshTokenTtlDays }));
  api.use('/users', usersRoutes(users, { csrf }));
  api.use('/admin', adminRoutes(admin, { csrf }));

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Which X-Forwarded-For hops name the client (TRUST_PROXY); by default none, so a forged header changes nothing.
  app.set('trust proxy', config.trustProxy);

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
  app.use(cookieParser());

  app.use(
    '/health',
    healthRoutes(health, { token: config.health.token, authenticate: authenticateRequest, limit: limits.api }),
  );
  if (config.metrics.token) app.use('/metrics', metricsRoutes(metrics, { token: config.metrics.token }));
  app.use(openApiRoutes(openApi));
  app.use('/api/v1', api);

  app.use(notFound);
  app.use(problemHandler(logger, errors));

  return Object.assign(app, { close: () => health.close() });
}
