import { Router } from 'express';
import { requireBearer } from '../../http/bearer-token.js';
import type { Metrics } from '../../platform/metrics.js';

/**
 * `GET /metrics` for Prometheus, behind METRICS_TOKEN. app.ts mounts it only when the token is configured: without
 * one the path does not exist (404), rather than existing and refusing everyone.
 */
export function metricsRoutes(metrics: Metrics, options: { token: string }): Router {
  const r = Router();
  r.get('/', requireBearer(options.token), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(await metrics.exposition());
  });
  return r;
}
