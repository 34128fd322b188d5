import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { requireBearer } from '../../http/bearer-token.js';
import { operation } from '../../openapi/operation.js';
import type { Metrics } from '../../platform/metrics.js';
import { MetricsExposition } from './metrics.schemas.js';

const METRICS = operation({
  operationId: 'getMetrics',
  tag: 'Operations',
  summary: 'Prometheus metrics: HTTP durations by route template, pool usage, rate limits, webhooks, process',
  description: 'Served only when METRICS_TOKEN is configured; otherwise the path does not exist (404).',
  replies: {
    200: {
      description: 'Metrics of this process',
      schema: MetricsExposition,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
    },
  },
});

/**
 * `GET /metrics` for Prometheus, behind METRICS_TOKEN. app.ts mounts it only when the token is configured: without
 * one the path does not exist (404), rather than existing and refusing everyone.
 */
export function metricsRoutes(metrics: Metrics, options: { token: string }): ApiRouter {
  const r = createApiRouter();
  r.get('/', METRICS, requireBearer(options.token, 'metricsToken'), async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(await metrics.exposition());
  });
  return r;
}
