import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/platform/metrics.js';
import { parseSamples, samplesOf } from '../support/prometheus.js';

const idlePool = () => ({ max: 10, total: 0, idle: 0, waiting: 0 });

describe('createMetrics', () => {
  it('counts rate-limit rejections, Redis fail-open events and webhook events through its typed API', async () => {
    const metrics = createMetrics({ poolStats: idlePool });
    metrics.rateLimitRejected('login');
    metrics.rateLimitRejected('login');
    metrics.redisFailedOpen('api');
    metrics.webhookEvent('stripe', 'invoice.paid', 'applied');
    metrics.webhookEvent('stripe', 'unverified', 'invalid_signature');
    const samples = parseSamples(await metrics.exposition());
    expect(samplesOf(samples, 'mingus_rate_limit_rejections_total', { limiter: 'login' })[0]?.value).toBe(2);
    expect(samplesOf(samples, 'mingus_redis_fail_open_total', { limiter: 'api' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'mingus_webhook_events_total')).toEqual([
      {
        name: 'mingus_webhook_events_total',
        labels: { provider: 'stripe', type: 'invoice.paid', outcome: 'applied' },
        value: 1,
      },
      {
        name: 'mingus_webhook_events_total',
        labels: { provider: 'stripe', type: 'unverified', outcome: 'invalid_signature' },
        value: 1,
      },
    ]);
  });

  it('keeps each instance apart, so apps built in one process never share counts', async () => {
    const first = createMetrics({ poolStats: idlePool });
    const second = createMetrics({ poolStats: idlePool });
    first.rateLimitRejected('login');
    const samples = parseSamples(await second.exposition());
    expect(samplesOf(samples, 'mingus_rate_limit_rejections_total')).toEqual([]);
    // Process metrics appear once in each, not once per instance ever created.
    expect(samplesOf(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
  });

  it('reads the database pool when scraped, not before', async () => {
    let stats = { max: 10, total: 4, idle: 1, waiting: 0 };
    const metrics = createMetrics({ poolStats: () => stats });
    stats = { max: 10, total: 10, idle: 0, waiting: 7 };
    const samples = parseSamples(await metrics.exposition());
    const value = (name: string) => samplesOf(samples, name)[0]?.value;
    expect(value('mingus_db_pool_connections_in_use')).toBe(10);
    expect(value('mingus_db_pool_connections_idle')).toBe(0);
    expect(value('mingus_db_pool_connections_max')).toBe(10);
    expect(value('mingus_db_pool_waiting_requests')).toBe(7);
  });
});
