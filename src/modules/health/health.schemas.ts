import { z } from 'zod';
import { INT32_MAX, int32 } from '../../http/field-schemas.js';

/** APP_VERSION (at most 64 characters) or the package's version. */
const Version = z.string().max(64).meta({ example: '0.1.0' });

/** 68 years of seconds. */
const UptimeSeconds = int32(0, INT32_MAX).meta({ example: 3600 });

/** `DATABASE_POOL_MAX` is 1 to 100; the count of waiting queries has no bound of its own. */
const PoolCount = int32(0, 100);

/**
 * What anyone may read: that the process is up, nothing more. The version and uptime would tell an attacker which
 * release (and so which known flaws) runs and when it last restarted; they are in `HealthDetailed`, behind a token.
 */
export const HealthSummary = z.object({ status: z.literal('ok') }).meta({ id: 'HealthSummary' });

export const ProbeStatus = z.object({ status: z.literal('ok') }).meta({ id: 'ProbeStatus' });

const CheckState = z.enum(['ok', 'failing', 'not_configured']);

export const Readiness = z
  .object({
    status: z.enum(['ok', 'degraded', 'unavailable']),
    checks: z.record(z.string(), CheckState).meta({
      description:
        'startup, shutdown, postgres and redis; any `failing` but redis makes the answer 503. Redis failing alone is ' +
        '`degraded` (200): the service has a degraded mode for it, and every pod sharing that Redis would otherwise ' +
        'leave the Service at once',
      example: { startup: 'ok', shutdown: 'ok', postgres: 'ok', redis: 'failing' },
    }),
  })
  .meta({ id: 'Readiness' });

export const Startup = z.object({ status: z.enum(['ok', 'starting']) }).meta({ id: 'Startup' });

/** A dependency's error as reported: the driver's message, cut to this length by the health service. */
export const HEALTH_ERROR_MAX_CHARS = 500;

const DependencyResult = z.union([
  z.object({ status: z.literal('ok'), latencyMs: z.number() }),
  z.object({ status: z.literal('failing'), latencyMs: z.number(), error: z.string().max(HEALTH_ERROR_MAX_CHARS) }),
  z.object({ status: z.literal('not_configured') }),
]);

export const HealthDetailed = z
  .object({
    status: z.enum(['ok', 'shutting_down']),
    version: Version,
    uptimeSeconds: UptimeSeconds,
    started: z.boolean(),
    dependencies: z.object({ postgres: DependencyResult, redis: DependencyResult }),
    databasePool: z.object({
      max: int32(1, 100),
      total: PoolCount,
      idle: PoolCount,
      waiting: int32(0, INT32_MAX),
    }),
    eventLoopDelayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
    memoryMb: z.object({ rss: z.number(), heapUsed: z.number(), heapTotal: z.number() }),
    node: z.string().max(32).meta({ example: 'v20.19.0' }),
  })
  .meta({ id: 'HealthDetailed' });
