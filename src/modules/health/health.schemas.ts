import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { json, problem, SECURITY } from '../../openapi/components.js';

export const HealthSummary = z
  .object({
    status: z.literal('ok'),
    version: z.string().meta({ example: '0.1.0' }),
    uptimeSeconds: z.number().int().meta({ example: 3600 }),
  })
  .meta({ id: 'HealthSummary' });

export const ProbeStatus = z.object({ status: z.literal('ok') }).meta({ id: 'ProbeStatus' });

const CheckState = z.enum(['ok', 'failing', 'not_configured']);

export const Readiness = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), CheckState).meta({
      description: 'startup, shutdown, postgres and redis; any `failing` makes the answer 503',
      example: { startup: 'ok', shutdown: 'ok', postgres: 'ok', redis: 'failing' },
    }),
  })
  .meta({ id: 'Readiness' });

export const Startup = z.object({ status: z.enum(['ok', 'starting']) }).meta({ id: 'Startup' });

const DependencyResult = z.union([
  z.object({ status: z.literal('ok'), latencyMs: z.number() }),
  z.object({ status: z.literal('failing'), latencyMs: z.number(), error: z.string() }),
  z.object({ status: z.literal('not_configured') }),
]);

export const HealthDetailed = z
  .object({
    status: z.enum(['ok', 'shutting_down']),
    version: z.string(),
    uptimeSeconds: z.number().int(),
    started: z.boolean(),
    dependencies: z.object({ postgres: DependencyResult, redis: DependencyResult }),
    databasePool: z.object({
      max: z.number().int(),
      total: z.number().int(),
      idle: z.number().int(),
      waiting: z.number().int(),
    }),
    eventLoopDelayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
    memoryMb: z.object({ rss: z.number(), heapUsed: z.number(), heapTotal: z.number() }),
    node: z.string(),
  })
  .meta({ id: 'HealthDetailed' });

export function describeHealthApi(registry: OpenAPIRegistry) {
  const tags = ['Operations'];
  registry.registerPath({
    method: 'get',
    path: '/health',
    tags,
    summary: 'Cheap status: version and uptime',
    responses: { 200: json('The process is up', HealthSummary) },
  });
  registry.registerPath({
    method: 'get',
    path: '/health/liveness',
    tags,
    summary: 'Liveness probe: the process can serve; checks no dependency',
    responses: { 200: json('Alive', ProbeStatus) },
  });
  registry.registerPath({
    method: 'get',
    path: '/health/readiness',
    tags,
    summary: 'Readiness probe: started, not shutting down, PostgreSQL and Redis answering within 1 s',
    responses: {
      200: json('Ready for traffic', Readiness),
      503: json('Not ready; `checks` names what failed', Readiness),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/health/startup',
    tags,
    summary: 'Startup probe: 200 once migrations are verified and startup work is done',
    responses: { 200: json('Started', Startup), 503: json('Still starting (or migrations pending)', Startup) },
  });
  registry.registerPath({
    method: 'get',
    path: '/health/detailed',
    tags,
    summary: 'Dependencies with latency, pool usage, event-loop delay, memory and version (operators and admins)',
    description: 'Either the operator token (HEALTH_TOKEN) or the access token of a signed-in admin; not an API key.',
    security: [{ [SECURITY.healthToken]: [] }, { [SECURITY.bearer]: [] }],
    responses: {
      200: json('Detailed health', HealthDetailed),
      401: problem('Neither the operator token nor a valid access token'),
      403: problem('An access token of a user who is not an admin, or an API key'),
    },
  });
}
