import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, GOOD_PASSWORD, login, registerUser, type SignedInUser } from '../support/auth.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

/** Production's default (REDIS_COMMAND_TIMEOUT_MS): the figures below are the ones production would show. */
const COMMAND_TIMEOUT_MS = 200;
/** The targets: authenticated reads p99, and credential routes' 503, while Redis is frozen. */
const TARGET_MS = 300;
/** Room for a loaded two-core machine running other test files meanwhile. */
const MARGIN = 2;

const redisUrl = inject('redisUrl');
const redisServer = () => {
  const url = new URL(redisUrl ?? 'redis://127.0.0.1:6379');
  return { host: url.hostname, port: Number(url.port || 6379) };
};

const OUTAGE_LINE = 'redis unavailable: bypassing it until it answers again';

/** `count` requests, `concurrency` at a time; each answer with the milliseconds it took. */
async function load(count: number, concurrency: number, send: () => Promise<request.Response>) {
  const results: { status: number; ms: number }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const started = performance.now();
      const res = await send();
      results.push({ status: res.status, ms: performance.now() - started });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const metricValue = async (t: TestApp, name: string) => {
  const res = await request(t.app).get('/metrics').set(bearer(t.metricsToken));
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text)?.[1]);
};

describe.runIf(redisUrl)('when Redis freezes (it keeps the connection and never answers)', () => {
  let t: TestApp;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let user: SignedInUser;
  beforeAll(async () => {
    proxy = await startTcpProxy(redisServer());
    t = await startTestApp({
      redisUrl: (url) => proxy.through(url),
      env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) },
    });
    user = await registerUser(t);
  });
  afterAll(async () => {
    await t.close();
    await proxy.close();
  });

  it('serves authenticated reads from PostgreSQL fast, answers credential routes 503 fast, logs the outage once, and recovers when Redis answers', async () => {
    proxy.hang();
    try {
      // The first requests wait for the deadline, until enough of them went unanswered to bypass Redis; a sustained
      // outage's p99 is the bypassed requests'.
      const reads = await load(400, 4, () => request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken)));
      expect(reads.map((r) => r.status)).toEqual(Array(400).fill(200));
      const latencies = reads.map((r) => r.ms);
      expect(percentile(latencies, 99), `reads p99 of ${JSON.stringify(latencies.map(Math.round))}`).toBeLessThan(
        TARGET_MS * MARGIN,
      );
      expect(Math.max(...latencies)).toBeLessThan(COMMAND_TIMEOUT_MS + 1_000);

      const credentialRoutes = {
        login: () => request(t.app).post('/api/v1/auth/login').send({ email: user.email, password: user.password }),
        register: () =>
          request(t.app).post('/api/v1/auth/register').send({ email: 'frozen@example.com', password: GOOD_PASSWORD }),
        refresh: () => request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }),
      };
      for (const [route, send] of Object.entries(credentialRoutes)) {
        const started = performance.now();
        const res = await send();
        expect(performance.now() - started, `${route} answered`).toBeLessThan(TARGET_MS * MARGIN);
        expect(res.status).toBe(503);
        expect(res.type).toBe('application/problem+json');
        expect(res.body.type).toMatch(/auth-unavailable$/);
      }
      // Still ready, so that a Redis every pod shares does not take them all out of the Service.
      const readiness = await request(t.app).get('/health/readiness');
      expect(readiness.status).toBe(200);
      expect(readiness.body).toMatchObject({ status: 'degraded', checks: { redis: 'failing' } });

      const outages = t.logs().filter((l) => l.msg === OUTAGE_LINE);
      expect(outages).toHaveLength(1);
      expect(outages[0]?.err).toEqual({ message: `redis did not answer within ${COMMAND_TIMEOUT_MS} ms` });
      expect(t.rawLogs()).not.toContain('[object Object]');
      expect(t.logs().filter((l) => l.msg === 'request failed')).toEqual([]);
      // Reads went through without the API limit, and each was counted.
      expect(await metricValue(t, 'mingus_redis_bypassed')).toBe(1);
      expect(await metricValue(t, 'mingus_redis_fail_open_total{limiter="api"}')).toBeGreaterThanOrEqual(400);
    } finally {
      proxy.thaw();
    }

    await expect
      .poll(async () => (await login(t, user.email, user.password)).status, { timeout: 10_000, interval: 100 })
      .toBe(200);
    expect(await metricValue(t, 'mingus_redis_bypassed')).toBe(0);
    expect(t.logs().filter((l) => l.msg === 'redis answering again')).toHaveLength(1);
  });
});

describe.runIf(redisUrl)('when Redis goes down (connections refused)', () => {
  it('answers credential routes 503 at once, serves reads, and recovers when it is back', async () => {
    const proxy = await startTcpProxy(redisServer());
    const t = await startTestApp({
      redisUrl: (url) => proxy.through(url),
      env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) },
    });
    try {
      const user = await registerUser(t);
      proxy.cut();
      await expect.poll(() => t.logs().some((l) => l.msg === OUTAGE_LINE), { timeout: 5_000 }).toBe(true);

      const started = performance.now();
      const res = await login(t, user.email, user.password);
      expect(performance.now() - started).toBeLessThan(TARGET_MS * MARGIN);
      expect(res.status).toBe(503);
      const me = await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken));
      expect(me.status).toBe(200);

      proxy.restore();
      await expect
        .poll(async () => (await login(t, user.email, user.password)).status, { timeout: 10_000, interval: 100 })
        .toBe(200);
      expect(t.logs().filter((l) => l.msg === OUTAGE_LINE)).toHaveLength(1);
    } finally {
      await t.close();
      await proxy.close();
    }
  });
});

describe.runIf(redisUrl)('with a healthy Redis and a busy process', () => {
  it('never answers a sign-in 503: ten registrations at once, each with a costly password check, all succeed', async () => {
    const t = await startTestApp({ env: { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) } });
    try {
      // A long password makes the strength estimate a long synchronous stretch: while one request computes it, the
      // others' Redis answers wait unread.
      const password = `${GOOD_PASSWORD}-${'correct-horse-battery-staple-'.repeat(3)}`;
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          request(t.app)
            .post('/api/v1/auth/register')
            .send({ email: `busy-${i}-${Date.now()}@example.com`, password }),
        ),
      );
      expect(
        answers.map((r) => r.status),
        JSON.stringify(t.logs().filter((l) => l.level === 'error' || l.level === 50)),
      ).toEqual(Array(10).fill(201));
      expect(t.logs().filter((l) => l.msg === OUTAGE_LINE)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
