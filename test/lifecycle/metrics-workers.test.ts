import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, samplesOf } from '../support/prometheus.js';
import { sleep, spawnServerOnTestDatabase } from '../support/server-process.js';

const METRICS_TOKEN = 'metrics-workers-test-0123456789abcdefghijkl';

/** GET on a fresh connection each time, so the cluster spreads the requests over its workers. */
function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('/metrics with WEB_CONCURRENCY=2', { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof spawnServerOnTestDatabase>> | undefined;
  beforeAll(async () => {
    server = await spawnServerOnTestDatabase({ WEB_CONCURRENCY: '2', DATABASE_POOL_MAX: '3', METRICS_TOKEN });
    // Both workers must have built their app (the first one alone may have answered the startup probe).
    while ((server.output().match(/startup complete/g) ?? []).length < 2) await sleep(100);
  });
  afterAll(() => server?.stop());

  it('answers with the sum over every worker, whichever worker is scraped', async () => {
    const port = server?.port as number;
    for (let i = 0; i < 30; i++) expect((await get(port, '/health')).status).toBe(200);

    for (let scrape = 0; scrape < 6; scrape++) {
      const res = await get(port, '/metrics', { Authorization: `Bearer ${METRICS_TOKEN}` });
      expect(res.status).toBe(200);
      const samples = parseSamples(res.body);
      const health = samplesOf(samples, 'mingus_http_request_duration_seconds_count', { route: '/health' });
      expect(health.map((s) => s.value)).toEqual([30]);
      // Each worker has its own pool of DATABASE_POOL_MAX connections: two workers, twice the size.
      expect(samplesOf(samples, 'mingus_db_pool_connections_max')[0]?.value).toBe(6);
    }
  });
});
