import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Lifecycle } from '../../platform/lifecycle.js';
import { HEALTH_ERROR_MAX_CHARS } from './health.schemas.js';

/** A dependency check: resolves when the dependency answered in time, rejects otherwise. */
export type Check = (timeoutMs: number) => Promise<void>;

export interface HealthDeps {
  lifecycle: Lifecycle;
  version: string;
  /** `redis` is absent when the service runs without Redis (development only). */
  checks: { postgres: Check; redis?: Check };
  poolStats: () => { max: number; total: number; idle: number; waiting: number };
  /** Probe timeouts: readiness must answer well within the kubelet's own timeout. */
  checkTimeoutMs?: number;
  /**
   * Redis failing makes the process unready rather than degraded: the job worker, which has nothing to do without
   * it (its jobs wait in Redis), unlike the API, which serves from PostgreSQL meanwhile.
   */
  redisRequired?: boolean;
  /** How long one readiness check of the dependencies is reused (ms). */
  readinessCacheMs?: number;
  now?: () => number;
}

export type CheckResult =
  | { status: 'ok'; latencyMs: number }
  | { status: 'failing'; latencyMs: number; error: string }
  | { status: 'not_configured' };

export function createHealthService(deps: HealthDeps) {
  const timeoutMs = deps.checkTimeoutMs ?? 1_000;
  const cacheMs = deps.readinessCacheMs ?? 1_000;
  const now = deps.now ?? (() => performance.now());
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();

  async function run(check: Check | undefined): Promise<CheckResult> {
    if (!check) return { status: 'not_configured' };
    const start = now();
    try {
      await check(timeoutMs);
      return { status: 'ok', latencyMs: round(now() - start) };
    } catch (err) {
      return {
        status: 'failing',
        latencyMs: round(now() - start),
        error: String((err as Error)?.message).slice(0, HEALTH_ERROR_MAX_CHARS),
      };
    }
  }

  async function dependencies() {
    const [postgres, redis] = await Promise.all([run(deps.checks.postgres), run(deps.checks.redis)]);
    return { postgres, redis };
  }

  // Readiness is unauthenticated: however often it is called, at most one check of each dependency runs per
  // `cacheMs`, and concurrent callers share it, so probes (or anyone else) cannot queue work on the pool.
  let shared: { at: number; result: ReturnType<typeof dependencies> } | undefined;
  function sharedDependencies() {
    const at = now();
    if (!shared || at - shared.at >= cacheMs) shared = { at, result: dependencies() };
    return shared.result;
  }

  return {
    summary() {
      return { status: 'ok' as const };
    },

    started: () => deps.lifecycle.isStarted(),

    /**
     * Ready: started, not shutting down, and PostgreSQL answering in time. Redis failing is reported (`degraded`)
     * but keeps the pod ready: requests have a fallback for it (docs/operations.md, "Degraded modes"), and a Redis
     * shared by every pod would otherwise take them all out of the Service at once, turning a degraded service into
     * none.
     */
    async readiness() {
      const { lifecycle } = deps;
      const checks: Record<string, 'ok' | 'failing' | 'not_configured'> = {
        startup: lifecycle.isStarted() ? 'ok' : 'failing',
        shutdown: lifecycle.isShuttingDown() ? 'failing' : 'ok',
      };
      // Once shutting down, answer at once: the point is to leave the load balancer quickly.
      if (!lifecycle.isShuttingDown()) {
        const results = await sharedDependencies();
        checks.postgres = results.postgres.status;
        checks.redis = results.redis.status;
      }
      const ready = Object.entries(checks).every(
        ([name, s]) => (name === 'redis' && !deps.redisRequired) || s !== 'failing',
      );
      const status = !ready ? 'unavailable' : checks.redis === 'failing' ? 'degraded' : 'ok';
      return { ready, body: { status, checks } };
    },

    /** Everything an operator needs to judge the process, and no secret. */
    async detailed() {
      const memory = process.memoryUsage();
      const mb = (n: number) => round(n / 1024 / 1024);
      return {
        status: deps.lifecycle.isShuttingDown() ? ('shutting_down' as const) : ('ok' as const),
        version: deps.version,
        uptimeSeconds: deps.lifecycle.uptimeSeconds(),
        started: deps.lifecycle.isStarted(),
        dependencies: await dependencies(),
        databasePool: deps.poolStats(),
        // The histogram counts the sampling interval itself; what matters is the delay beyond it.
        eventLoopDelayMs: {
          p50: lag(loopDelay.percentile(50)),
          p99: lag(loopDelay.percentile(99)),
          max: lag(loopDelay.max),
        },
        memoryMb: { rss: mb(memory.rss), heapUsed: mb(memory.heapUsed), heapTotal: mb(memory.heapTotal) },
        node: process.version,
      };
    },

    close() {
      loopDelay.disable();
    },
  };
}

export type HealthService = ReturnType<typeof createHealthService>;

const round = (n: number) => Math.round(n * 100) / 100;
const LOOP_DELAY_RESOLUTION_MS = 20;
const lag = (nanoseconds: number) => round(Math.max(0, nanoseconds / 1e6 - LOOP_DELAY_RESOLUTION_MS));
