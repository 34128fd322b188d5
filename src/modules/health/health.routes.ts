import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { requireRole } from '../../http/authenticate.js';
import { requireBearer } from '../../http/bearer-token.js';
import { withContract } from '../../http/contract.js';
import { ForbiddenError, UnauthorizedError } from '../../http/errors.js';
import { json, operation } from '../../openapi/operation.js';
import { HealthDetailed, HealthSummary, ProbeStatus, Readiness, Startup } from './health.schemas.js';
import type { HealthService } from './health.service.js';

const tag = 'Operations';

const LIVENESS = operation({
  operationId: 'getLiveness',
  tag,
  summary: 'Liveness probe: the process can serve; checks no dependency',
  replies: { 200: json('Alive', ProbeStatus) },
});
const READINESS = operation({
  operationId: 'getReadiness',
  tag,
  summary: 'Readiness probe: started, not shutting down, PostgreSQL answering within 1 s (Redis reported)',
  replies: {
    200: json('Ready for traffic; `degraded` when Redis does not answer', Readiness),
    503: json('Not ready; `checks` names what failed', Readiness),
  },
});
const STARTUP = operation({
  operationId: 'getStartup',
  tag,
  summary: 'Startup probe: 200 once migrations are verified and startup work is done',
  replies: { 200: json('Started', Startup), 503: json('Still starting (or migrations pending)', Startup) },
});
const SUMMARY = operation({
  operationId: 'getHealth',
  tag,
  summary: 'Cheap status: the process is up (the version and uptime are in the detailed view only)',
  replies: { 200: json('The process is up', HealthSummary) },
});
const DETAILED = operation({
  operationId: 'getDetailedHealth',
  tag,
  summary: 'Dependencies with latency, pool usage, event-loop delay, memory and version (operators and admins)',
  description: 'Either the operator token (HEALTH_TOKEN) or the access token of a signed-in admin; not an API key.',
  replies: { 200: json('Detailed health', HealthDetailed) },
});

/** Probes are never cached by a proxy: a stale 200 would keep a dead pod in rotation. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * The Kubernetes probes, with their full paths. app.ts mounts them ahead of the request metrics and the access log:
 * the kubelet calls them every few seconds per pod, and they would drown both (and pay for work nobody reads).
 */
export function probeRoutes(svc: HealthService): ApiRouter {
  const r = createApiRouter();

  r.get('/health/liveness', LIVENESS, noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/health/readiness', READINESS, noStore, async (_req, res) => {
    const { ready, body } = await svc.readiness();
    res.status(ready ? 200 : 503).json(body);
  });

  r.get('/health/startup', STARTUP, noStore, (_req, res) => {
    const started = svc.started();
    res.status(started ? 200 : 503).json({ status: started ? 'ok' : 'starting' });
  });

  return r;
}

export interface HealthRoutesOptions {
  /** HEALTH_TOKEN: the operators' (and their tooling's) credential. */
  token: string | undefined;
  /** The API's `authenticate` middleware, so that an admin's access token (or web session) works here too. */
  authenticate: RequestHandler[];
  /**
   * The API's rate limit, in front of the admin route only: each attempt there may cost a database lookup (an
   * `mk_…` bearer) and must not be free to repeat. The operator-token route stays unlimited for monitoring.
   */
  limit: RequestHandler;
}

/** The status summary and the operators' detailed view: ordinary, logged requests. */
export function healthRoutes(svc: HealthService, options: HealthRoutesOptions): ApiRouter {
  const r = createApiRouter();
  r.use(noStore);

  r.get('/', SUMMARY, (_req, res) => {
    res.json(svc.summary());
  });

  const detailed: RequestHandler = async (_req, res) => {
    res.json(await svc.detailed());
  };
  // Two routes for one path, one operation: the operator token first (constant-time, as /metrics), and anything
  // else falls through (`next('route')`) to the second, which wants a signed-in admin.
  r.get('/detailed', DETAILED, operatorToken(options.token), detailed);
  r.get('/detailed', DETAILED, options.limit, options.authenticate, adminSession, requireRole('admin'), detailed);

  return r;
}

/** Passes the request on when it carries HEALTH_TOKEN; otherwise skips to the next route rather than answering. */
function operatorToken(token: string | undefined): RequestHandler {
  const check = requireBearer(token, 'healthToken');
  const middleware: RequestHandler = (req, res, next) => {
    let valid = false;
    try {
      check(req, res, () => {
        valid = true;
      });
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
      res.removeHeader('WWW-Authenticate'); // the admin route answers for itself
    }
    next(valid ? undefined : 'route');
  };
  return withContract(middleware, { accepts: [{ name: 'healthToken' }] });
}

/**
 * Neither the operator token nor a valid access token: the operator route's 401 (`unauthorized`, with its
 * challenge), rather than requireAuth's. API keys are refused, as on the admin routes.
 */
const adminSession = withContract<RequestHandler>(
  (req, res, next) => {
    if (!req.auth) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="mingus-operations"');
      throw new UnauthorizedError('unauthorized', 'A valid operator token or an admin access token is required');
    }
    if (req.auth.kind === 'api-key')
      throw new ForbiddenError('api-key-not-allowed', 'API keys cannot be used on this route');
    next();
  },
  { accepts: [{ name: 'bearer' }, { name: 'cookie' }], problems: ['unauthorized', 'api-key-not-allowed'] },
);
