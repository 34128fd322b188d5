import { type RequestHandler, Router } from 'express';
import { requireAuth, requireRole } from '../../http/authenticate.js';
import { requireBearer } from '../../http/bearer-token.js';
import { UnauthorizedError } from '../../http/errors.js';
import type { HealthService } from './health.service.js';

/** Probes are never cached by a proxy: a stale 200 would keep a dead pod in rotation. */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * The Kubernetes probes, with their full paths. app.ts mounts them ahead of the request metrics and the access log:
 * the kubelet calls them every few seconds per pod, and they would drown both (and pay for work nobody reads).
 */
export function probeRoutes(svc: HealthService): Router {
  const r = Router();

  r.get('/health/liveness', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get('/health/readiness', noStore, async (_req, res) => {
    const { ready, body } = await svc.readiness();
    res.status(ready ? 200 : 503).json(body);
  });

  r.get('/health/startup', noStore, (_req, res) => {
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
export function healthRoutes(svc: HealthService, options: HealthRoutesOptions): Router {
  const r = Router();
  r.use(noStore);

  r.get('/', (_req, res) => {
    res.json(svc.summary());
  });

  const detailed: RequestHandler = async (_req, res) => {
    res.json(await svc.detailed());
  };
  // Two routes for one path: the operator token first (constant-time, as /metrics), and anything else falls
  // through (`next('route')`) to the second, which wants a signed-in admin.
  r.get('/detailed', operatorToken(options.token), detailed);
  r.get(
    '/detailed',
    options.limit,
    options.authenticate,
    signedIn,
    requireAuth({ apiKeys: false }),
    requireRole('admin'),
    detailed,
  );

  return r;
}

/** Passes the request on when it carries HEALTH_TOKEN; otherwise skips to the next route rather than answering. */
function operatorToken(token: string | undefined): RequestHandler {
  const check = requireBearer(token);
  return (req, res, next) => {
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
}

/** Neither the operator token nor a valid access token: the same 401 the operator route has always given. */
const signedIn: RequestHandler = (req, res, next) => {
  if (req.auth) return next();
  res.setHeader('WWW-Authenticate', 'Bearer realm="mingus-operations"');
  throw new UnauthorizedError('unauthorized', 'A valid operator token or an admin access token is required');
};
