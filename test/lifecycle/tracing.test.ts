import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GOOD_PASSWORD } from '../support/auth.js';
import { type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { spawnServerOnTestDatabase } from '../support/server-process.js';

type Server = Awaited<ReturnType<typeof spawnServerOnTestDatabase>>;

const MODULE_LOG_PRELOAD = path.join(import.meta.dirname, '../support/module-log.mjs');

/** The real API (src/main.ts) in its own process, with every module it loads written to `log`. */
async function spawnApi(env: Record<string, string>, log: string) {
  appendFileSync(log, '');
  return spawnServerOnTestDatabase({
    NODE_OPTIONS: `--import=${MODULE_LOG_PRELOAD}`,
    MODULE_LOG_FILE: log,
    // Keys of its own: registrations are limited per address, and every run comes from 127.0.0.1.
    REDIS_KEY_PREFIX: `test-tracing-${randomUUID().slice(0, 8)}:`,
    ...env,
  });
}

const serverLog = () => path.join(mkdtempSync(path.join(tmpdir(), 'mingus-tracing-')), 'modules.log');

describe.runIf(inject('redisUrl'))('traces', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let server: Server;
  const modules = serverLog();
  const email = `traced-${randomUUID()}@example.com`;
  const missingId = randomUUID();
  let accessToken = '';

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await spawnApi({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }, modules);
    const registered = await fetch(server.url('/api/v1/auth/register'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: GOOD_PASSWORD }),
    });
    expect(registered.status).toBe(201);
    accessToken = ((await registered.json()) as { accessToken: string }).accessToken;
    const me = await fetch(server.url('/api/v1/users/me'), { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    const missing = await fetch(server.url(`/api/v1/checkins/${missingId}?note=secret-query-value`), {
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(missing.status).toBe(404);
    // SIGTERM: the drain ends with the SDK sending every span it still holds.
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  const spansOfTrace = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  /** The database a span speaks to, and its statement, in the stable semantic conventions or the old ones. */
  const dbSystem = (s: ReceivedSpan) => s.attributes['db.system.name'] ?? s.attributes['db.system'];
  const statement = (s: ReceivedSpan) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '');
  const serverSpan = (route: string) =>
    receiver.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === route) as ReceivedSpan;

  it('when OTEL_EXPORTER_OTLP_ENDPOINT is set, a request is one trace: the HTTP server span named by its route template, its Express handler, its PostgreSQL queries', () => {
    const me = serverSpan('/api/v1/users/me');
    expect(me, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    expect(me.name).toBe('GET /api/v1/users/me');
    expect(me.service).toBe('mingus-api');
    expect(me.attributes['http.response.status_code'] ?? me.attributes['http.status_code']).toBe(200);
    const trace = spansOfTrace(me.traceId);
    expect(trace.some((s) => s.attributes['express.type'] === 'request_handler')).toBe(true);
    const queries = trace.filter((s) => dbSystem(s) === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    // Bind parameters, never values, in the statement text.
    for (const q of queries) expect(statement(q)).not.toContain(email);
  });

  it('when a request reaches Redis (its rate limit), the Redis command is a span of its trace, without its keys', () => {
    const me = serverSpan('/api/v1/users/me');
    const redis = spansOfTrace(me.traceId).filter((s) => dbSystem(s) === 'redis');
    expect(redis.length).toBeGreaterThan(0);
    for (const span of redis) expect(statement(span)).toMatch(/^[A-Za-z]+$/);
  });

  it('when a job runs, it is a trace of its own named after the job, with its database work inside', () => {
    const job = receiver.spans.find((s) => s.name === 'job reminders.dispatch') as ReceivedSpan;
    expect(job, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    expect(job.parentSpanId ?? '').toBe('');
    expect(job.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'mingus.job.name': 'reminders.dispatch' });
    expect(spansOfTrace(job.traceId).some((s) => dbSystem(s) === 'postgresql')).toBe(true);
  });

  it('when spans leave the process, none carries a path with an id, a query string, an email, a token or a client address', () => {
    const missing = serverSpan('/api/v1/checkins/:id');
    expect(missing.name).toBe('GET /api/v1/checkins/:id');
    const everything = receiver.bodies.join('\n');
    for (const secret of [
      missingId,
      'secret-query-value',
      email,
      accessToken,
      '127.0.0.1:'.concat(String(server.port)),
    ]) {
      expect(everything).not.toContain(secret);
    }
    for (const span of receiver.spans) {
      for (const key of Object.keys(span.attributes)) {
        expect(key).not.toMatch(
          /^(url\.(full|path|query)|http\.(target|url|client_ip)|client\.address|net\.peer\.ip)$/,
        );
      }
    }
    // Probes and scrapes make no traces.
    expect(receiver.spans.some((s) => /health|metrics/.test(String(s.attributes['http.route'] ?? '')))).toBe(false);
  });

  it('when a line is logged while a span is active, it carries that trace and span id', () => {
    const me = serverSpan('/api/v1/users/me');
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = lines.find((l) => (l.req as { url?: string } | undefined)?.url === '/api/v1/users/me');
    expect(access, server.output()).toBeDefined();
    expect(access?.trace_id).toBe(me.traceId);
    expect(spansOfTrace(me.traceId).map((s) => s.spanId)).toContain(access?.span_id);
  });

  it('when tracing is on, the OpenTelemetry packages are loaded (the module log below can see them)', () => {
    expect(readFileSync(modules, 'utf8')).toMatch(/@opentelemetry\/sdk-trace-node/);
  });
});

describe.runIf(inject('redisUrl'))('sampled traces', () => {
  it("when OTEL_TRACES_SAMPLE_RATIO is 0, keeps no trace that starts here but follows a caller's sampled decision", async () => {
    const receiver = await startOtlpReceiver();
    const server = await spawnApi(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLE_RATIO: '0' },
      serverLog(),
    );
    try {
      for (let i = 0; i < 5; i++) expect((await fetch(server.url('/openapi.json'))).status).toBe(200);
      const traceId = randomUUID().replaceAll('-', '');
      const followed = await fetch(server.url('/openapi.json'), {
        headers: { traceparent: `00-${traceId}-${'1'.repeat(16)}-01` },
      });
      expect(followed.status).toBe(200);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(receiver.spans.length).toBeGreaterThan(0);
      expect(receiver.spans.every((s) => s.traceId === traceId)).toBe(true);
    } finally {
      await server.stop();
      await receiver.close();
    }
  }, 120_000);
});

describe.runIf(inject('redisUrl'))('no traces', () => {
  it('when OTEL_EXPORTER_OTLP_ENDPOINT is unset, the API serves requests without loading any module of OpenTelemetry', async () => {
    const modules = serverLog();
    const server = await spawnApi({}, modules);
    try {
      const res = await fetch(server.url('/api/v1/auth/register'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `untraced-${randomUUID()}@example.com`, password: GOOD_PASSWORD }),
      });
      expect(res.status).toBe(201);
      const loaded = readFileSync(modules, 'utf8');
      expect(loaded).toMatch(/node_modules\/express\//); // the log does record the application's modules
      // prom-client requires @opentelemetry/api, the no-op API (for exemplars), whatever the configuration: the SDK,
      // the exporter, the instrumentations and the loader hooks are what tracing adds, and none of them is loaded.
      const otel = loaded.split('\n').filter((m) => /@opentelemetry|in-the-middle/.test(m));
      expect(otel.filter((m) => !m.includes('/node_modules/@opentelemetry/api/'))).toEqual([]);
      // The access log line is written when the response closes, just after the client has its answer.
      const accessLine = () =>
        server
          .output()
          .split('\n')
          .find((l) => l.includes('"url":"/api/v1/auth/register"'));
      await expect.poll(accessLine).toBeDefined();
      const line = accessLine();
      expect(line).not.toContain('trace_id');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
