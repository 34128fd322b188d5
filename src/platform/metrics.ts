import cluster from 'node:cluster';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { joinClusterMetrics } from './metrics-cluster.js';

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface HttpRequestLabels {
  method: string;
  /** The route template (`/api/v1/checkins/:id`) or `unmatched`; never the raw path (cardinality, and ids). */
  route: string;
  status: string;
}

/**
 * What happened to a webhook delivery. `invalid_signature` deliveries are not trusted, so their `type` label must be
 * `unverified`, never a value read from the payload: an attacker could otherwise mint label values at will.
 */
export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored' | 'invalid_signature' | 'failed';
/** Why a Stripe webhook call was refused before anything was applied. */
export type WebhookFailureReason =
  | 'missing_signature'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'malformed_payload';

/** Jobs waiting, running, scheduled for later and failed, by queue: read from Redis when scraped. */
export type JobCounts = Record<string, { waiting: number; active: number; delayed: number; failed: number }>;

/** From a quick database job to an SMTP server's minute-long timeouts, in seconds. */
const JOB_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** From a probe's few milliseconds to past the 30 s request timeout, in seconds. */
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * prom-client's process collectors (CPU, memory, event-loop lag, GC) are process-wide and cannot be stopped, so they
 * live in one registry per process, started by the first `createMetrics()`; each app adds a registry of its own.
 */
let processRegistry: Registry | undefined;

/**
 * The application's Prometheus metrics, in a registry of its own (never prom-client's global default registry: the
 * tests build many apps in one process). Features record through the typed methods below and never see prom-client;
 * the database pool is read at scrape time, so it costs nothing between scrapes.
 */
export function createMetrics(deps: {
  poolStats: () => PoolStats;
  jobCounts?: () => Promise<JobCounts>;
  /**
   * False for a registry this process never serves (the jobs run inside a development `npm start`): under
   * WEB_CONCURRENCY it must not join the pod's sums, where it would stand in for the app's own metrics.
   */
  served?: boolean;
}) {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  const shared = processRegistry;
  const registry = new Registry();
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'mingus_http_request_duration_seconds',
    help: 'Time from the first byte of a request to the last byte of its answer, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers,
  });
  // Wired by the identity issue (rate limits on login, register, refresh and the API).
  const rateLimitRejections = new Counter({
    name: 'mingus_rate_limit_rejections_total',
    help: 'Requests answered 429 by a rate limiter, by limiter',
    labelNames: ['limiter'] as const,
    registers,
  });
  // Wired by the identity issue: a limiter whose Redis store fails lets requests through rather than lock users out.
  const redisFailOpen = new Counter({
    name: 'mingus_redis_fail_open_total',
    help: 'Requests a rate limiter let through unchecked because Redis failed, by limiter',
    labelNames: ['limiter'] as const,
    registers,
  });
  const requestsWaiting = new Gauge({
    name: 'mingus_http_requests_waiting',
    help: 'Requests waiting for their turn to run (HTTP_MAX_IN_FLIGHT are running)',
    registers,
  });
  const redisBypassed = new Gauge({
    name: 'mingus_redis_bypassed',
    help: '1 while Redis is bypassed because it stopped answering (redis-guard.ts), else 0',
    registers,
  });
  const dependencyRefusals = new Counter({
    name: 'mingus_dependency_unavailable_total',
    help: 'Requests answered 503 because a dependency could not be reached, by dependency',
    labelNames: ['dependency'] as const,
    registers,
  });
  // Wired by the billing (Stripe) and bank-links (Plaid) issues.
  const webhookEvents = new Counter({
    name: 'mingus_webhook_events_total',
    help: 'Webhook deliveries by provider, event type and outcome',
    labelNames: ['provider', 'type', 'outcome'] as const,
    registers,
  });
  const webhookFailures = new Counter({
    name: 'mingus_webhook_failures_total',
    help: 'Webhook deliveries refused before anything was applied, by provider and reason (never a payload value)',
    labelNames: ['provider', 'reason'] as const,
    registers,
  });

  const jobDuration = new Histogram({
    name: 'mingus_job_duration_seconds',
    help: 'Time a job run took, by job name and outcome (completed, retried, failed)',
    // Not `job`: Prometheus sets `job` on every series to the scrape job's name and would rename ours `exported_job`.
    labelNames: ['job_name', 'outcome'] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers,
  });
  const jobFailures = new Counter({
    name: 'mingus_job_failures_total',
    help: 'Job runs that failed for good (no attempt left, or refused permanently), by job name',
    labelNames: ['job_name'] as const,
    registers,
  });
  if (deps.jobCounts) {
    const read = deps.jobCounts;
    for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
      new Gauge({
        name: `mingus_jobs_${state}`,
        help: `Jobs ${state} in each queue`,
        labelNames: ['queue'] as const,
        registers,
        async collect() {
          // Redis unreachable: the gauges go missing from this scrape rather than failing it.
          const counts = await read().catch(() => ({}) as JobCounts);
          this.reset();
          for (const [queue, c] of Object.entries(counts)) this.set({ queue }, c[state]);
        },
      });
    }
  }

  const poolGauge = (name: string, help: string, read: (s: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(deps.poolStats()));
      },
    });
  poolGauge(
    'mingus_db_pool_connections_in_use',
    'PostgreSQL pool connections serving a query',
    (s) => s.total - s.idle,
  );
  poolGauge('mingus_db_pool_connections_idle', 'PostgreSQL pool connections open and idle', (s) => s.idle);
  poolGauge('mingus_db_pool_connections_max', 'Size limit of the PostgreSQL pool (DATABASE_POOL_MAX)', (s) => s.max);
  poolGauge('mingus_db_pool_waiting_requests', 'Queries queued for a PostgreSQL pool connection', (s) => s.waiting);

  // Under WEB_CONCURRENCY > 1 a scrape reports the whole pod, whichever worker it reaches (metrics-cluster.ts).
  const exposition =
    cluster.isWorker && deps.served !== false
      ? joinClusterMetrics([shared, registry])
      : () => Registry.merge([shared, registry]).metrics();

  return {
    /** The exposition format's content type, for the `/metrics` answer. */
    contentType: registry.contentType,

    observeHttpRequest(labels: HttpRequestLabels, seconds: number) {
      httpDuration.observe(labels, seconds);
    },

    /** `limiter`: one of a fixed set of names chosen in code (`login`, `api`, …), never request data. */
    rateLimitRejected(limiter: string) {
      rateLimitRejections.inc({ limiter });
    },

    redisFailedOpen(limiter: string) {
      redisFailOpen.inc({ limiter });
    },

    requestsWaiting(count: number) {
      requestsWaiting.set(count);
    },

    redisBypassed(bypassed: boolean) {
      redisBypassed.set(bypassed ? 1 : 0);
    },

    /** `job`: a job's name from its definition (`reminders.deliver`), never payload data. */
    jobFinished(job: string, seconds: number, outcome: 'completed' | 'retried' | 'failed') {
      jobDuration.observe({ job_name: job, outcome }, seconds);
      if (outcome === 'failed') jobFailures.inc({ job_name: job });
    },

    dependencyUnavailable(dependency: 'postgresql') {
      dependencyRefusals.inc({ dependency });
    },

    /** `type`: the provider's event type once the signature is verified, else `unverified`. */
    webhookEvent(provider: 'stripe' | 'plaid', type: string, outcome: WebhookOutcome) {
      webhookEvents.inc({ provider, type, outcome });
    },

    /**
     * `reason`: one of a fixed set each provider's code chooses (Stripe's WebhookFailureReason, Plaid's refusals),
     * never request data.
     */
    webhookFailure(provider: 'stripe' | 'plaid', reason: string) {
      webhookFailures.inc({ provider, reason });
    },

    /** Process and application metrics in the Prometheus text format (summed over the workers, if any). */
    exposition,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
