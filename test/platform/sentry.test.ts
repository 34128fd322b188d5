import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as Sentry from '@sentry/node';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/http/errors.js';
import { jsonBody } from '../../src/http/json-body.js';
import { notFound, problemHandler } from '../../src/http/problem.js';
import { requestId } from '../../src/http/request-id.js';
import { createLogger } from '../../src/platform/logger.js';
import { createErrorReporter, type ErrorReporter } from '../../src/platform/sentry.js';

/**
 * The real Sentry SDK, sending to a local HTTP server that stands in for Sentry's ingest endpoint. The SDK is
 * process-global, so everything that initialises it lives in this file, which closes it at the end.
 */

interface Envelope {
  raw: string;
  items: Array<{ type: string; payload: Record<string, unknown> }>;
}

/** Collects the envelopes POSTed to `/api/<project>/envelope/` (newline-delimited JSON, gzip above 32 kB). */
async function startIngest() {
  const envelopes: Envelope[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
      paths.push(new URL(req.url ?? '/', 'http://ingest').pathname);
      const lines = raw.split('\n').filter(Boolean);
      const items: Envelope['items'] = [];
      for (let i = 1; i + 1 < lines.length; i += 2) {
        items.push({ type: JSON.parse(lines[i] as string).type, payload: JSON.parse(lines[i + 1] as string) });
      }
      envelopes.push({ raw, items });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    envelopes,
    /** The error events received so far. */
    events: () => envelopes.flatMap((e) => e.items.filter((i) => i.type === 'event').map((i) => i.payload)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A minimal app with the real request id, body parser, 404 and problem handler, mounted as app.ts mounts them. */
function appReportingTo(errors: ErrorReporter) {
  const logger = createLogger({ level: 'silent' });
  const things = express.Router();
  things.post('/:id', () => {
    throw new Error('the ledger exploded');
  });
  things.put('/:id', () => {
    throw new ConflictError('checkin-exists', 'That thing already exists');
  });
  things.delete('/:id', () => {
    throw new TypeError('the ledger is unreadable');
  });
  const app = express();
  app.use(requestId);
  app.use(jsonBody(100 * 1024));
  app.use('/api/v1/things', things);
  app.use(notFound);
  app.use(problemHandler(logger, errors));
  return app;
}

/** The fields of a sent event these tests read. */
interface SentEvent {
  release: string;
  environment: string;
  tags: Record<string, string>;
  transaction: string;
  exception: { values: Array<{ type: string; value: string }> };
  request: { method: string; url: string; headers: Record<string, string> };
  user?: Record<string, unknown>;
}

const SECRETS = {
  bearer: 'bearer-secret-7d1e0c2b9a',
  cookie: 'cookie-secret-55aa0f3e1d',
  csrf: 'csrf-secret-0b9c8d7e6f',
  stripe: 't=1,v1=stripe-secret-3c2b1a',
  password: 'body-secret-Passw0rd!',
  query: 'query-secret-91f2e3',
};

describe('without SENTRY_DSN', () => {
  it('initialises nothing and installs no handler', async () => {
    const listeners = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const reporter = await createErrorReporter({ dsn: undefined, environment: 'test', release: '1.0.0' });
    expect(reporter.enabled).toBe(false);
    expect(Sentry.isInitialized()).toBe(false);
    expect(Sentry.getClient()).toBeUndefined();
    expect(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection')).toBe(listeners);
    // Still usable: a failing request is answered as usual, with nothing to send it to.
    const res = await request(appReportingTo(reporter)).post('/api/v1/things/1').send({});
    expect(res.status).toBe(500);
    await reporter.close(100);
  });
});

describe('with SENTRY_DSN', () => {
  let ingest: Awaited<ReturnType<typeof startIngest>>;
  let reporter: ErrorReporter;
  let app: express.Express;
  let listenersBefore: number;
  beforeAll(async () => {
    ingest = await startIngest();
    listenersBefore = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    reporter = await createErrorReporter({
      dsn: `http://publickey@127.0.0.1:${ingest.port}/1`,
      environment: 'staging',
      release: 'mingus-api@9.9.9',
    });
    app = appReportingTo(reporter);
  });
  afterAll(async () => {
    await reporter.close(2_000);
    await ingest.close();
  });

  it('initialises the SDK without global crash handlers: main.ts owns the exit', () => {
    expect(reporter.enabled).toBe(true);
    expect(Sentry.isInitialized()).toBe(true);
    expect(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection')).toBe(
      listenersBefore,
    );
    expect(Sentry.getClient()?.getOptions().tracesSampleRate).toBeUndefined();
  });

  it('when a route fails unexpectedly, sends one event tagged with release, environment and request id, and no secret', async () => {
    const res = await request(app)
      .post(`/api/v1/things/42?token=${SECRETS.query}&page=2`)
      .set('X-Request-ID', 'sentry-case-500')
      .set('Authorization', `Bearer ${SECRETS.bearer}`)
      .set('Cookie', `session=${SECRETS.cookie}; theme=dark`)
      .set('X-CSRF-Token', SECRETS.csrf)
      .set('Stripe-Signature', SECRETS.stripe)
      .set('X-Forwarded-For', '203.0.113.9')
      .set('User-Agent', 'mingus-tests/1.0')
      .send({ email: 'person@example.com', password: SECRETS.password });
    expect(res.status).toBe(500);
    await Sentry.flush(2_000);

    expect(ingest.paths).toEqual(['/api/1/envelope/']);
    const events = ingest.events();
    expect(events).toHaveLength(1);
    const event = events[0] as unknown as SentEvent;
    expect(event.release).toBe('mingus-api@9.9.9');
    expect(event.environment).toBe('staging');
    expect(event.tags).toMatchObject({ request_id: res.headers['x-request-id'], route: '/api/v1/things/:id' });
    expect(event.transaction).toBe('POST /api/v1/things/:id');
    expect(event.exception.values[0]).toMatchObject({ type: 'Error', value: 'the ledger exploded' });
    expect(event.request).toMatchObject({ method: 'POST', url: '/api/v1/things/42' });
    expect(event.request.headers).toMatchObject({
      'user-agent': 'mingus-tests/1.0',
      'x-request-id': 'sentry-case-500',
    });
    expect(event.user ?? {}).toEqual({});

    const raw = ingest.envelopes.map((e) => e.raw).join('\n');
    for (const [what, secret] of Object.entries(SECRETS)) expect(raw, what).not.toContain(secret);
    expect(raw).not.toContain('person@example.com');
    expect(raw).not.toContain('203.0.113.9');
    expect(raw).not.toMatch(/"(authorization|cookie|x-csrf-token|stripe-signature)"/i);
  });

  it('when the answer is a 4xx, sends nothing', async () => {
    const before = ingest.events().length;
    await request(app).put('/api/v1/things/42').send({}).expect(409);
    await request(app).get('/api/v1/nowhere').expect(404);
    await request(app).post('/api/v1/things/42').set('Content-Type', 'application/json').send('{"a":').expect(400);
    // Then a 5xx (another error: the SDK drops one identical to the event before it). Once its event has arrived,
    // an event captured for any request before it would have arrived too.
    const last = await request(app).delete('/api/v1/things/42').expect(500);
    await Sentry.flush(2_000);
    const sent = ingest.events().slice(before) as unknown as SentEvent[];
    expect(sent.map((e) => e.tags.request_id)).toEqual([last.headers['x-request-id']]);
  });

  it('when the process crashes, reports the error as fatal', async () => {
    reporter.captureCrash(new Error('uncaught: the event loop fell over'));
    await Sentry.flush(2_000);
    const crash = ingest.events().find((e) => JSON.stringify(e).includes('the event loop fell over'));
    expect(crash).toMatchObject({ level: 'fatal', release: 'mingus-api@9.9.9', environment: 'staging' });
  });
});
