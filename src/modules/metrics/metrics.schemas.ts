import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { problem, SECURITY } from '../../openapi/components.js';

export const MetricsExposition = z.string().meta({
  id: 'MetricsExposition',
  description: 'Prometheus text exposition format 0.0.4',
  example:
    '# HELP mingus_http_request_duration_seconds Time from the first byte of a request to the last byte of its answer\n' +
    '# TYPE mingus_http_request_duration_seconds histogram\n' +
    'mingus_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health",status="200"} 12\n',
});

export function describeMetricsApi(registry: OpenAPIRegistry) {
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['Operations'],
    summary: 'Prometheus metrics: HTTP durations by route template, pool usage, rate limits, webhooks, process',
    description: 'Served only when METRICS_TOKEN is configured; otherwise the path does not exist (404).',
    security: [{ [SECURITY.metricsToken]: [] }],
    responses: {
      200: {
        description: 'Metrics of this process',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: MetricsExposition } },
      },
      401: problem('Missing or wrong metrics token'),
      404: problem('Metrics are disabled (METRICS_TOKEN is not set)'),
    },
  });
}
