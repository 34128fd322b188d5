import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../http/problem.js';

/** RFC 9457 problem details, exactly as src/http/problem.ts writes them. */
export const Problem = z
  .object({
    type: z.string().meta({ example: 'https://docs.mingus.app/problems/validation-failed' }),
    title: z.string().meta({ example: 'Unprocessable Entity' }),
    status: z.number().int().meta({ example: 422 }),
    detail: z.string().meta({ example: 'The request has invalid fields' }),
    instance: z.string().meta({ example: '/api/v1/checkins' }),
    requestId: z.string().meta({ example: '3f0c1c9e-5d8a-4a53-9e8f-2f4b8c1e7a10' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'One entry per invalid field (400 and 422 only)' }),
  })
  .meta({ id: 'Problem', description: 'An error, as RFC 9457 application/problem+json' });

export const SECURITY = {
  /** Bearer access token (JWT) or personal API key. */
  bearer: 'bearerAuth',
  /** Operator token for /health/detailed (HEALTH_TOKEN). */
  healthToken: 'healthToken',
  /** Prometheus' token for /metrics (METRICS_TOKEN). */
  metricsToken: 'metricsToken',
} as const;

/** Schemas need no registration: those with a `meta({ id })` become components wherever they are referenced. */
export function registerComponents(registry: OpenAPIRegistry) {
  registry.registerComponent('securitySchemes', SECURITY.bearer, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from /api/v1/auth/login, or a personal API key (mk_…) for read-only access',
  });
  registry.registerComponent('securitySchemes', SECURITY.healthToken, {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator token configured as HEALTH_TOKEN',
  });
  registry.registerComponent('securitySchemes', SECURITY.metricsToken, {
    type: 'http',
    scheme: 'bearer',
    description: 'The scrape token configured as METRICS_TOKEN',
  });
}

/** A problem+json response for the OpenAPI document. */
export function problem(description: string): ResponseConfig {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
}

/** A JSON response for the OpenAPI document. */
export function json(description: string, schema: z.ZodType): ResponseConfig {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * The `Idempotency-Key` request header of every creating POST (src/http/idempotency.ts), for `request.headers`.
 * Pair it with `IDEMPOTENT_RESPONSES` in the route's responses.
 */
export const IdempotencyKeyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .max(255)
    .optional()
    .meta({
      description:
        'Makes retries safe: the first answer (status and body) is kept for 24 h and replayed, with `Idempotent-Replayed: true`, ' +
        'to a retry with the same key and the same request. 1 to 255 visible ASCII characters, e.g. a UUID per user action.',
      example: '5f0b6a2e-8a8c-4c1e-9a3e-0e6f5d1c2b7a',
    }),
});

/** What an `Idempotency-Key` adds to a creating POST's answers. */
export const IDEMPOTENT_RESPONSES = {
  400: problem('A malformed `Idempotency-Key` header (or another malformed request part)'),
  409: problem(
    'A request with this `Idempotency-Key` is still running (retry after `Retry-After`), or a conflict of the resource itself',
  ),
} as const;
