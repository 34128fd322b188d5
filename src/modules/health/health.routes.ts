import { type RequestHandler, Router } from 'express';
import { requireBearer } from '../../http/bearer-token.js';
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

/** The status summary and the operators' detailed view: ordinary, logged requests. */
export function healthRoutes(svc: HealthService, options: { token: string | undefined }): Router {
  const r = Router();
  r.use(noStore);

  r.get('/', (_req, res) => {
    res.json(svc.summary());
  });

  r.get('/detailed', requireBearer(options.token), async (_req, res) => {
    res.json(await svc.detailed());
  });

  return r;
}
