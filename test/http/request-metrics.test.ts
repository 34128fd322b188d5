import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/http/errors.js';
import { notFound, problemHandler } from '../../src/http/problem.js';
import { requestId } from '../../src/http/request-id.js';
import { requestMetrics } from '../../src/http/request-metrics.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetrics } from '../../src/platform/metrics.js';
import { parseSamples, samplesOf } from '../support/prometheus.js';

/**
 * The histogram's route label on a minimal app with nested routers, mounted as app.ts mounts the real ones. The
 * cases that matter most are the failures: Express resets `req.baseUrl` when an error leaves a router.
 */
function appWithThings() {
  const metrics = createMetrics({ poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }) });
  const logger = createLogger({ level: 'silent' });
  const things = express.Router();
  things.get('/', (_req, res) => {
    res.json([]);
  });
  things.get('/:id', (req, res) => {
    if (req.params.id === 'missing') throw new NotFoundError('not-found', 'No such thing');
    if (req.params.id === 'broken') throw new Error('unexpected');
    res.json({ id: req.params.id });
  });
  const v1 = express.Router();
  v1.use('/things', things);
  const app = express();
  app.use(requestMetrics(metrics));
  app.use(requestId);
  app.use('/api/v1', v1);
  app.get('/ping', (_req, res) => {
    res.send('pong');
  });
  app.use(notFound);
  app.use(problemHandler(logger));
  const counts = async () =>
    samplesOf(parseSamples(await metrics.exposition()), 'mingus_http_request_duration_seconds_count').map(
      ({ labels, value }) => `${labels.method} ${labels.route} ${labels.status} ×${value}`,
    );
  return { app, counts };
}

describe('requestMetrics', () => {
  it('labels each request with its full route template, through nested routers and errors alike', async () => {
    const { app, counts } = appWithThings();
    await request(app).get('/api/v1/things').expect(200);
    await request(app).get('/api/v1/things/').expect(200);
    await request(app).get('/api/v1/things/7f7c').expect(200);
    await request(app).get('/api/v1/things/missing').expect(404);
    await request(app).get('/api/v1/things/broken').expect(500);
    await request(app).head('/ping').expect(200);
    await request(app).get('/api/v1/elsewhere/7f7c').expect(404);
    expect((await counts()).sort()).toEqual(
      [
        'GET /api/v1/things 200 ×2',
        'GET /api/v1/things/:id 200 ×1',
        'GET /api/v1/things/:id 404 ×1',
        'GET /api/v1/things/:id 500 ×1',
        'HEAD /ping 200 ×1',
        'GET unmatched 404 ×1',
      ].sort(),
    );
  });

  it('measures the time until the answer is complete', async () => {
    const metrics = createMetrics({ poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }) });
    const app = express();
    app.use(requestMetrics(metrics));
    app.get('/slow', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      res.send('done');
    });
    await request(app).get('/slow').expect(200);
    const samples = parseSamples(await metrics.exposition());
    const sum = samplesOf(samples, 'mingus_http_request_duration_seconds_sum', { route: '/slow' })[0]?.value ?? 0;
    expect(sum).toBeGreaterThanOrEqual(0.05);
    expect(sum).toBeLessThan(2);
    expect(
      samplesOf(samples, 'mingus_http_request_duration_seconds_bucket', { route: '/slow', le: '0.05' })[0]?.value,
    ).toBe(0);
  });
});
