import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { parseSamples, samplesOf } from '../../support/prometheus.js';

const DURATION = 'mingus_http_request_duration_seconds';
const UNKNOWN_USER = '123e4567-e89b-12d3-a456-426614174000';

describe('with METRICS_TOKEN set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const scrape = () => request(t.app).get('/metrics').set('Authorization', `Bearer ${t.metricsToken}`);

  it('when no token is sent, answers 401 problem+json with a Bearer challenge', async () => {
    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('when a wrong token is sent, answers 401, the health token included', async () => {
    const wrong = [`Bearer ${t.metricsToken}x`, `Basic ${t.metricsToken}`, 'Bearer ', t.metricsToken];
    for (const header of [...wrong, `Bearer ${t.healthToken}`]) {
      const res = await request(t.app).get('/metrics').set('Authorization', header);
      expect(res.status, header).toBe(401);
    }
    expect((await request(t.app).get(`/metrics?token=${t.metricsToken}`)).status).toBe(401);
  });

  it('when the token is sent, answers the Prometheus text format, uncached', async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain(`# TYPE ${DURATION} histogram`);
    expect(() => parseSamples(res.text)).not.toThrow();
  });

  it('labels request durations by route template and status, never by raw path', async () => {
    await request(t.app).get('/health').expect(200);
    await request(t.app).get('/health/readiness').expect(200);
    await request(t.app).get(`/api/v1/no-such-resource/${UNKNOWN_USER}?email=someone@example.com`).expect(404);
    await request(t.app).get('/health/detailed').expect(401);

    const res = await scrape();
    const samples = parseSamples(res.text);
    const count = (route: string, status: string) =>
      samplesOf(samples, `${DURATION}_count`, { method: 'GET', route, status })[0]?.value;
    expect(count('/health', '200')).toBe(1);
    // The Kubernetes probes are answered ahead of the metrics: every few seconds per pod, they would swamp the rates.
    expect(count('/health/readiness', '200')).toBeUndefined();
    expect(count('/health/detailed', '401')).toBe(1);
    expect(count('unmatched', '404')).toBeGreaterThanOrEqual(1);
    expect(res.text).not.toContain(UNKNOWN_USER);
    expect(res.text).not.toContain('/api/v1/no-such-resource');
    expect(res.text).not.toContain('example.com');
    // Every route label is a template or `unmatched`: nothing else can grow the series count.
    const routes = new Set(samplesOf(samples, `${DURATION}_count`).map((s) => s.labels.route));
    expect([...routes].every((r) => r === 'unmatched' || r?.startsWith('/'))).toBe(true);
    const buckets = samplesOf(samples, `${DURATION}_bucket`, { route: '/health', le: '+Inf' });
    expect(buckets[0]?.value).toBe(1);
  });

  it('counts the scrapes themselves under /metrics', async () => {
    await scrape();
    const samples = parseSamples((await scrape()).text);
    expect(samplesOf(samples, `${DURATION}_count`, { route: '/metrics', status: '200' })[0]?.value).toBeGreaterThan(0);
  });

  it('reports the process metrics and the database pool, read at scrape time', async () => {
    const samples = parseSamples((await scrape()).text);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(samplesOf(samples, name), name).toHaveLength(1);
    }
    expect(samplesOf(samples, 'nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    const pool = (name: string) => samplesOf(samples, `mingus_db_pool_${name}`)[0]?.value;
    expect(pool('connections_max')).toBe(5);
    const { total, idle, waiting } = t.db.poolStats();
    expect(pool('connections_idle')).toBe(idle);
    expect(pool('connections_in_use')).toBe(total - idle);
    expect(pool('waiting_requests')).toBe(waiting);
  });

  it('declares the counters later features increment, before any of them is used', async () => {
    const text = (await scrape()).text;
    for (const name of [
      'mingus_rate_limit_rejections_total',
      'mingus_redis_fail_open_total',
      'mingus_webhook_events_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
  });
});

describe('without METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: '' } });
  });
  afterAll(() => t.close());

  it('GET /metrics answers 404 exactly as a path that does not exist', async () => {
    const res = await request(t.app).get('/metrics').set('Authorization', 'Bearer anything-at-all');
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toBeUndefined();
    const other = await request(t.app).get('/metrix');
    expect({ ...res.body, instance: '', detail: '', requestId: '' }).toEqual({
      ...other.body,
      instance: '',
      detail: '',
      requestId: '',
    });
  });
});
