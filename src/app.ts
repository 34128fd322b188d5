import cookieParser from 'cookie-parser';
import express, { type Express, type RequestHandler } from 'express';
import type { Config } from './config/config.js';
import { accessLog } from './http/access-log.js';
import { admission } from './http/admission.js';
import { createApiRouter, methodNotAllowed } from './http/api-router.js';
import { authenticate } from './http/authenticate.js';
import { corsPolicy } from './http/cors.js';
import { createCsrf } from './http/csrf.js';
import { closeConnectionsWhenDraining } from './http/draining.js';
import { createIdempotency } from './http/idempotency.js';
import { jsonBody } from './http/json-body.js';
import { refuseTrace } from './http/method-guard.js';
import { createCursors } from './http/pagination.js';
import { notFound, problemHandler } from './http/problem.js';
import { createRateLimits } from './http/rate-limits.js';
import { requestId } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';
import { securityHeaders } from './http/security-headers.js';
import { beforeRetryOf, createAdminJobsService } from './modules/admin/admin.jobs.service.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { createAdminService } from './modules/admin/admin.service.js';
import { createApiKeyRevocation } from './modules/api-keys/api-keys.port.js';
import { createApiKeysPrivacySection } from './modules/api-keys/api-keys.privacy.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { createApiKeysService } from './modules/api-keys/api-keys.service.js';
import { createAuditLog } from './modules/audit/audit.port.js';
import { createAuditLogPrivacySection } from './modules/audit/audit.privacy.js';
import { createAccessTokens } from './modules/auth/access-tokens.js';
import { ACCOUNT_QUEUES, accountMailQueue } from './modules/auth/auth.jobs.js';
import { createAccountTokensPrivacySection, createSessionsPrivacySection } from './modules/auth/auth.privacy.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createLoginLockout } from './modules/auth/login-lockout.js';
import { createSessionState, SESSION_ENDED } from './modules/auth/session-state.service.js';
import { SYNC_JOB } from './modules/banking/banking.jobs.js';
import { createBankingPrivacySection } from './modules/banking/banking.privacy.js';
import { bankingRoutes, plaidWebhookRoutes } from './modules/banking/banking.routes.js';
import { createBankingService, type SyncRequests } from './modules/banking/banking.service.js';
import { createPlaidWebhooks } from './modules/banking/banking.webhooks.js';
import { createCheckinsPrivacySection } from './modules/checkins/checkins.privacy.js';
import { checkinsRoutes } from './modules/checkins/checkins.routes.js';
import { createCheckinsService } from './modules/checkins/checkins.service.js';
import { healthRoutes, probeRoutes } from './modules/health/health.routes.js';
import { createHealthService } from './modules/health/health.service.js';
import { insightsRoutes } from './modules/insights/insights.routes.js';
import { createInsightsService } from './modules/insights/insights.service.js';
import { MAINTENANCE_JOB } from './modules/maintenance/maintenance.jobs.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { createErasurePseudonym } from './modules/privacy/erasure-pseudonym.js';
import { createIdempotencyPrivacySection } from './modules/privacy/idempotency.privacy.js';
import { createPrivacyRegistry } from './modules/privacy/privacy.port.js';
import { privacyRoutes } from './modules/privacy/privacy.routes.js';
import { createPrivacyService } from './modules/privacy/privacy.service.js';
import { createProfilesPrivacySection } from './modules/profiles/profiles.privacy.js';
import { profilesRoutes } from './modules/profiles/profiles.routes.js';
import { createProfilesService } from './modules/profiles/profiles.service.js';
import { createPushPrivacySection } from './modules/push/push.privacy.js';
import { pushRoutes } from './modules/push/push.routes.js';
import { createPushService } from './modules/push/push.service.js';
import { createCatalog, QUESTIONNAIRES } from './modules/questionnaires/questionnaires.catalog.js';
import { createQuestionnairesPrivacySection } from './modules/questionnaires/questionnaires.privacy.js';
import { questionnairesRoutes } from './modules/questionnaires/questionnaires.routes.js';
import { createQuestionnairesService } from './modules/questionnaires/questionnaires.service.js';
import { createDeliveryRetries } from './modules/reminders/reminders.delivery.service.js';
import { DELIVER_JOB, REMINDER_QUEUES } from './modules/reminders/reminders.jobs.js';
import {
  createReminderDeliveriesPrivacySection,
  createRemindersPrivacySection,
} from './modules/reminders/reminders.privacy.js';
import { remindersRoutes } from './modules/reminders/reminders.routes.js';
import { createRemindersService } from './modules/reminders/reminders.service.js';
import { createEntitlements } from './modules/subscriptions/subscriptions.entitlements.js';
import { RECONCILE_JOB } from './modules/subscriptions/subscriptions.jobs.js';
import { subscriptionsPrivacySection } from './modules/subscriptions/subscriptions.privacy.js';
import { stripeWebhookRoutes, subscriptionsRoutes } from './modules/subscriptions/subscriptions.routes.js';
import { createSubscriptionsService } from './modules/subscriptions/subscriptions.service.js';
import { createStripeWebhooks } from './modules/subscriptions/subscriptions.webhooks.js';
import { usersRoutes } from './modules/users/users.routes.js';
import { createUsersService } from './modules/users/users.service.js';
import { buildOpenApiDocuments } from './openapi/document.js';
import { openApiRoutes } from './openapi/openapi.routes.js';
import { createFieldCipher } from './platform/crypto.js';
import type { Database } from './platform/db.js';
import { createEmailHash } from './platform/email-hash.js';
import { createJobQueues } from './platform/jobs.js';
import type { Lifecycle } from './platform/lifecycle.js';
import type { Logger } from './platform/logger.js';
import { createMetrics } from './platform/metrics.js';
import { createPasswordHasher } from './platform/password-hash.js';
import { createPlaid } from './platform/plaid.js';
import { pingRedis, type RedisClient } from './platform/redis.js';
import { guardRedis } from './platform/redis-guard.js';
import type { ErrorReporter } from './platform/sentry.js';
import { createStripe } from './platform/stripe.js';

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

  const { keyPrefix } = config.redis;
  // Every Redis command of the application goes through the guard: a deadline and a circuit breaker.
  const guarded = redis
    ? guardRedis({
        redis,
        logger,
        commandTimeoutMs: config.redis.commandTimeoutMs,
        onStateChange: (open) => metrics.redisBypassed(open),
      })
    : undefined;
  const auditLog = createAuditLog();
  const emailHash = createEmailHash(config.auth.emailHashKey);
  const tokens = createAccessTokens({
    secret: config.auth.jwtSecret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ttlSeconds: config.auth.accessTokenTtlSeconds,
  });
  const sessions = createSessionState({
    db,
    redis: guarded,
    keyPrefix,
    logger,
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
    now,
  });
  const lockout = createLoginLockout({
    redis: guarded,
    keyPrefix,
    emailHash,
    logger,
    threshold: config.limits.lockoutThreshold,
    accountThreshold: config.limits.lockoutAccountThreshold,
    lockMinutes: config.limits.lockoutMinutes,
  });
  // The API's side of the job queues (enqueueing, finding and removing jobs); the worker process runs them.
  const jobQueues = config.redis.url
    ? createJobQueues({ redisUrl: config.redis.url, keyPrefix: config.redis.keyPrefix })
    : undefined;
  const auth = createAuthService({
    db,
    auditLog,
    hasher: createPasswordHasher(config.auth.bcryptCost),
    tokens,
    sessions,
    lockout,
    apiKeys: createApiKeyRevocation({ auditLog, now }),
    emailHash,
    mail: accountMailQueue(jobQueues, config.jobs.retryDelayMs),
    logger,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    sessionMaxDays: config.auth.sessionMaxDays,
    now,
  });
  const users = createUsersService({ db });
  const csrf = createCsrf(config.auth.csrfSecret, {
    cookieMaxAgeMs: config.auth.refreshTokenTtlDays * 86_400_000,
  });
  const limits = createRateLimits({
    redis: guarded,
    keyPrefix,
    sessions: { cacheKey: sessions.cacheKey, endedMark: SESSION_ENDED },
    logger,
    metrics,
    limits: config.limits,
    emailHash,
  });
  const cursors = createCursors(config.auth.jwtSecret);
  const admin = createAdminService({
    db,
    auditLog,
    sessions,
    cursors,
    hasher: createPasswordHasher(config.auth.bcryptCost),
  });
  const apiKeys = createApiKeysService({
    db,
    auditLog,
    cursors,
    redis: guarded,
    keyPrefix,
    logger,
    confirmPassword: (userId, password) => auth.confirmPassword(userId, password),
    assertEmailVerified: (userId) => auth.assertEmailVerified(userId),
    now,
  });
  const cipher = createFieldCipher(config.fieldEncryption);
  const idempotent = createIdempotency({ db, cipher, now, logger });
  const profiles = createProfilesService({ db, auditLog, cipher });
  const checkins = createCheckinsService({ db, auditLog, cipher, cursors, profiles, now });
  const questionnaires = createQuestionnairesService({
    db,
    auditLog,
    cipher,
    cursors,
    catalog: createCatalog(QUESTIONNAIRES),
  });
  const entitlements = createEntitlements({ db, graceDays: config.billing.graceDays, now });
  const reminders = createRemindersService({
    db,
    auditLog,
    cursors,
    now,
    requireUnlimited: (userId) => entitlements.assertFeature(userId, 'unlimited-reminders'),
  });
  const adminJobs = createAdminJobsService({
    db,
    auditLog,
    cursors,
    queues: jobQueues,
    redisTimeoutMs: config.redis.commandTimeoutMs,
    queueNames: [...REMINDER_QUEUES, ...ACCOUNT_QUEUES, MAINTENANCE_JOB.queue, RECONCILE_JOB.queue, SYNC_JOB.queue],
    beforeRetry: {
      [DELIVER_JOB.name]: beforeRetryOf(DELIVER_JOB.payload, createDeliveryRetries({ db }).reopen),
    },
  });
  const push = createPushService({
    db,
    auditLog,
    cipher,
    publicKey: config.push.publicKey,
    publicEndpointsOnly: config.production,
    now,
  });
  const stripe = config.billing.stripe ? createStripe(config.billing.stripe) : undefined;
  const subscriptions = createSubscriptionsService({
    db,
    auditLog,
    billing: config.billing,
    stripe,
    users,
    assertEmailVerified: (userId) => auth.assertEmailVerified(userId),
    logger,
    now,
  });
  const stripeWebhooks = createStripeWebhooks({ db, auditLog, billing: config.billing, stripe, logger, metrics, now });
  const plaidSettings = config.banking.plaid;
  const plaid = plaidSettings ? createPlaid(plaidSettings) : undefined;
  const syncJob = { ...SYNC_JOB, backoffMs: config.jobs.retryDelayMs };
  const syncs: SyncRequests | undefined = jobQueues && {
    async request(itemId, key) {
      await jobQueues.enqueue(syncJob, { itemId }, `${itemId}.${key}`);
      return { jobId: `${syncJob.name}.${itemId}.${key}`, state: await jobQueues.stateOf(syncJob, `${itemId}.${key}`) };
    },
  };
  const banking = createBankingService({
    db,
    auditLog,
    cipher,
    cursors,
    plaid,
    settings: plaidSettings,
    syncs,
    logger,
    now,
  });
  const plaidWebhooks = createPlaidWebhooks({ db, plaid, syncs, auditLog, metrics, logger, now });
  const privacySections = createPrivacyRegistry([
    createSessionsPrivacySection({ auditLog, emailHash }),
    createAccountTokensPrivacySection(),
    createApiKeysPrivacySection(),
    createAuditLogPrivacySection(),
    createIdempotencyPrivacySection(),
    createProfilesPrivacySection({ cipher }),
    createCheckinsPrivacySection({ cipher }),
    createQuestionnairesPrivacySection({ cipher }),
    createReminderDeliveriesPrivacySection({
      pending: jobQueues && {
        removeFor: (ids) =>
          jobQueues.removePending(DELIVER_JOB, (job: { reminderId: string }) => ids.has(job.reminderId)),
      },
      logger,
    }),
    createRemindersPrivacySection(),
    createPushPrivacySection(),
    subscriptionsPrivacySection({ stripe, logger }),
    createBankingPrivacySection({ plaid, cipher, logger }),
  ]);
  const privacy = createPrivacyService({
    db,
    auditLog,
    sections: privacySections,
    hasher: createPasswordHasher(config.auth.bcryptCost),
    sessions,
    pseudonym: createErasurePseudonym(config.auth.jwtSecret),
    logger,
    now,
  });
  const authenticateRequest = authenticate({
    session: (token, via) => auth.sessionClaim(token, via),
    apiKey: (key) => apiKeys.principalOfKey(key),
  });

  const api = createApiRouter();
  // The rate limit before the body is read: a client over its limit costs no parsing. `identify` starts the
  // session check, the limiter's Redis call runs meanwhile, and `confirm` waits for the check (authenticate.ts).
  api.use(
    noStore,
    authenticateRequest.identify,
    limits.api,
    jsonBody(config.http.bodyLimitBytes),
    authenticateRequest.confirm,
  );
  api.mount('/auth/api-keys', apiKeysRoutes(apiKeys, { csrf, limits }));
  api.mount('/auth', authRoutes(auth, { csrf, limits, refreshTokenTtlDays: config.auth.refreshTokenTtlDays }));
  api.mount('/users', privacyRoutes(privacy, { csrf, limits }));
  api.mount('/users', pushRoutes(push, { csrf, idempotent }));
  api.mount('/users', usersRoutes(users, { csrf }));
  api.mount('/profile', profilesRoutes(profiles, { csrf }));
  api.mount(
    '/checkins',
    checkinsRoutes(checkins, {
      csrf,
      idempotent,
      insights: entitlements.requireEntitlement('wellness-insights'),
    }),
  );
  api.mount(
    '/insights',
    insightsRoutes(createInsightsService({ db, profiles, now }), {
      entitled: entitlements.requireEntitlement('wellness-insights'),
    }),
  );
  api.mount('/questionnaires', questionnairesRoutes(questionnaires, { csrf, idempotent }));
  api.mount('/reminders', remindersRoutes(reminders, { csrf, idempotent }));
  api.mount('/subscriptions', subscriptionsRoutes(subscriptions, { csrf, idempotent }));
  api.mount(
    '/banking',
    bankingRoutes(banking, { csrf, idempotent, entitled: entitlements.requireEntitlement('bank-links') }),
  );
  api.mount('/admin', adminRoutes(admin, { csrf, jobs: adminJobs }));

  const root = createApiRouter();
  root.use(requestId, closeConnectionsWhenDraining(lifecycle));
  // Probes first: the kubelet calls them every few seconds per pod; logged or counted, they would drown the
  // access log and the request metrics, and they need none of the layers below.
  root.mount('/', probeRoutes(health));
  root.use(
    requestMetrics(metrics),
    accessLog(logger),
    // After the metrics and the access log, so that a request's wait for its turn shows in both.
    admission(config.http.maxInFlight, (waiting) => metrics.requestsWaiting(waiting)),
    refuseTrace,
    securityHeaders({ production: config.production }),
    corsPolicy(config.http.corsOrigins),
  );
  // Raw body (the signature covers its bytes) and outside the API limit (Stripe delivers in bursts), under a generous
  // per-IP limit of its own, checked before the body is read.
  root.mount('/api/v1/webhooks/stripe', stripeWebhookRoutes(stripeWebhooks), limits.stripeWebhook);
  root.mount('/api/v1/webhooks/plaid', plaidWebhookRoutes(plaidWebhooks, limits.plaidWebhook));
  root.use(cookieParser());
  root.mount(
    '/health',
    healthRoutes(health, { token: config.health.token, authenticate: authenticateRequest.both, limit: limits.api }),
  );
  if (config.metrics.token) root.mount('/metrics', metricsRoutes(metrics, { token: config.metrics.token }));
  root.mount(
    '/',
    openApiRoutes(() => documents, limits.api),
  );
  root.mount('/api/v1', api);
  // Built from the finished route table: every route, with the chain each runs through.
  const documents = buildOpenApiDocuments(config.version, root.routes);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Which X-Forwarded-For hops name the client (TRUST_PROXY); by default none, so a forged header changes nothing.
  app.set('trust proxy', config.trustProxy);
  app.use(root.router);
  app.use(methodNotAllowed(root.routes));
  app.use(notFound);
  app.use(problemHandler(logger, errors, metrics));

  return Object.assign(app, {
    close: () => {
      health.close();
      void jobQueues?.close();
    },
  });
}
