import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerAdmin, registerUser } from '../../support/auth.js';

describe('with PostgreSQL and Redis up', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('when anyone asks GET /health, answers only the status, uncached: no version or uptime to fingerprint', async () => {
    const res = await request(t.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('GET /health/liveness answers 200 without touching a dependency', async () => {
    const res = await request(t.app).get('/health/liveness');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /health/readiness answers 200 naming each passing check', async () => {
    const res = await request(t.app).get('/health/readiness');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      checks: { startup: 'ok', shutdown: 'ok', postgres: 'ok', redis: 'ok' },
    });
  });

  it('GET /health/startup answers 200 once started', async () => {
    const res = await request(t.app).get('/health/startup');
    expect(res.status).toBe(200);
  });

  describe('GET /health/detailed', () => {
    it('when no token is sent, answers 401 problem+json with a Bearer challenge', async () => {
      const res = await request(t.app).get('/health/detailed');
      expect(res.status).toBe(401);
      expect(res.type).toBe('application/problem+json');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('when a wrong token is sent, answers 401', async () => {
      for (const header of [`Bearer ${t.healthToken}x`, `Basic ${t.healthToken}`, 'Bearer ', t.healthToken]) {
        const res = await request(t.app).get('/health/detailed').set('Authorization', header);
        expect(res.status, header).toBe(401);
      }
    });

    it('when the token is in the query string, ignores it', async () => {
      const res = await request(t.app).get(`/health/detailed?token=${t.healthToken}`);
      expect(res.status).toBe(401);
    });

    it('when the operator token is sent, reports dependencies, pool, event loop, memory and version', async () => {
      const res = await request(t.app).get('/health/detailed').set('Authorization', `Bearer ${t.healthToken}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        version: '0.0.0-test',
        uptimeSeconds: expect.any(Number),
        started: true,
        dependencies: {
          postgres: { status: 'ok', latencyMs: expect.any(Number) },
          redis: { status: 'ok', latencyMs: expect.any(Number) },
        },
        databasePool: { max: 5, total: expect.any(Number), idle: expect.any(Number), waiting: 0 },
        eventLoopDelayMs: { p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) },
        memoryMb: { rss: expect.any(Number), heapUsed: expect.any(Number), heapTotal: expect.any(Number) },
        node: process.version,
      });
    });

    it("when an admin's access token is sent, reports as for the operator token", async () => {
      const admin = await registerAdmin(t);
      const res = await request(t.app).get('/health/detailed').set(bearer(admin.accessToken));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', dependencies: { postgres: { status: 'ok' } } });
    });

    it("when a plain user's access token is sent, answers 403 problem+json", async () => {
      const user = await registerUser(t);
      const res = await request(t.app).get('/health/detailed').set(bearer(user.accessToken));
      expect(res.status).toBe(403);
      expect(res.type).toBe('application/problem+json');
    });

    it("when an admin's session has ended, the access token gets 401", async () => {
      const admin = await registerAdmin(t);
      await request(t.app).post('/api/v1/auth/logout-all').set(bearer(admin.accessToken));
      const res = await request(t.app).get('/health/detailed').set(bearer(admin.accessToken));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('when it reports, no secret appears in the answer', async () => {
      const res = await request(t.app).get('/health/detailed').set('Authorization', `Bearer ${t.healthToken}`);
      expect(res.text).not.toContain(t.healthToken);
      expect(res.text).not.toContain(t.database.url);
      expect(res.text).not.toMatch(/postgres(ql)?:\/\/|redis:\/\//);
    });
  });

  it('when shutdown begins, readiness turns 503 at once and names the shutdown', async () => {
    const shuttingDown = await startTestApp();
    try {
      shuttingDown.lifecycle.beginShutdown();
      const res = await request(shuttingDown.app).get('/health/readiness');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', checks: { startup: 'ok', shutdown: 'failing' } });
      expect((await request(shuttingDown.app).get('/health/liveness')).status).toBe(200);
    } finally {
      await shuttingDown.close();
    }
  });

  it('when shutdown begins, every answer says Connection: close (no new request on a socket about to close)', async () => {
    const draining = await startTestApp();
    try {
      const before = await request(draining.app).get('/health').set('Connection', 'keep-alive');
      expect(before.headers.connection).toBe('keep-alive');
      draining.lifecycle.beginShutdown();
      for (const path of ['/health', '/health/liveness', '/api/v1/subscriptions/plans']) {
        const res = await request(draining.app).get(path).set('Connection', 'keep-alive');
        expect(res.headers.connection, path).toBe('close');
      }
    } finally {
      await draining.close();
    }
  });
});

describe('while starting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ started: false });
  });
  afterAll(() => t.close());

  it('GET /health/startup answers 503 until startup work is done, then 200', async () => {
    expect((await request(t.app).get('/health/startup')).status).toBe(503);
    expect((await request(t.app).get('/health/readiness')).body.checks.startup).toBe('failing');
    t.lifecycle.markStarted();
    expect((await request(t.app).get('/health/startup')).status).toBe(200);
  });
});

describe('with Redis unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: 'unreachable' });
  });
  afterAll(() => t.close());

  it('GET /health/readiness stays ready but degraded, naming redis, within the check timeout', async () => {
    const started = Date.now();
    const res = await request(t.app).get('/health/readiness');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'degraded',
      checks: { startup: 'ok', shutdown: 'ok', postgres: 'ok', redis: 'failing' },
    });
  });

  it('GET /health/liveness still answers 200: a dead dependency is no reason to restart the process', async () => {
    expect((await request(t.app).get('/health/liveness')).status).toBe(200);
  });

  it('GET /health/detailed says why redis fails', async () => {
    const res = await request(t.app).get('/health/detailed').set('Authorization', `Bearer ${t.healthToken}`);
    expect(res.body.dependencies.redis).toMatchObject({ status: 'failing', error: expect.any(String) });
  });
});

describe('with PostgreSQL unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // Point the running app's pool at a database that no longer exists: the server refuses every new connection.
    await t.database.drop();
  });
  afterAll(() => t.close());

  it('GET /health/readiness answers 503 naming postgres', async () => {
    const res = await request(t.app).get('/health/readiness');
    expect(res.status).toBe(503);
    expect(res.body.checks).toMatchObject({ postgres: 'failing', redis: 'ok' });
  });
});

describe('without Redis configured (development)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ redis: 'none' });
  });
  afterAll(() => t.close());

  it('GET /health/readiness reports redis as not configured and stays ready', async () => {
    const res = await request(t.app).get('/health/readiness');
    expect(res.status).toBe(200);
    expect(res.body.checks.redis).toBe('not_configured');
  });
});

describe('GET /health/detailed under the API rate limit', () => {
  it('when guesses at the admin route exceed the limit, answers 429, while the operator token is never limited', async () => {
    const limited = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const guess = () =>
        request(limited.app)
          .get('/health/detailed')
          .set('Authorization', `Bearer mk_${'x'.repeat(43)}`);
      expect((await guess()).status).toBe(401);
      expect((await guess()).status).toBe(401);
      expect((await guess()).status).toBe(429);
      for (let i = 0; i < 3; i += 1) {
        const res = await request(limited.app)
          .get('/health/detailed')
          .set('Authorization', `Bearer ${limited.healthToken}`);
        expect(res.status).toBe(200);
      }
    } finally {
      await limited.close();
    }
  });
});
