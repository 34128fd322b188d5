import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../support/auth.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

let t: TestApp;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let user: SignedInUser;
beforeAll(async () => {
  // The app reaches the run's PostgreSQL through a proxy this file cuts and restores.
  const server = new URL(inject('pgServerUrl'));
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  t = await startTestApp({ databaseUrl: (url) => proxy.through(url) });
  user = await registerUser(t);
});
afterAll(async () => {
  await t.close();
  await proxy.close();
});

const refusals = () => t.logs().filter((l) => l.msg === 'database unreachable: answering 503 until it is back');

describe('when PostgreSQL cannot be reached', () => {
  it('answers 503 database-unavailable with Retry-After, logs the outage once and no request failure, and recovers', async () => {
    proxy.cut();
    try {
      for (let i = 0; i < 5; i++) {
        const res = await request(t.app).get('/api/v1/profile').set(bearer(user.accessToken));
        expect(res.status).toBe(503);
        expect(res.type).toBe('application/problem+json');
        expect(res.body.type).toMatch(/database-unavailable$/);
        expect(res.headers['retry-after']).toBe('5');
      }
      expect(refusals()).toHaveLength(1);
      expect(t.logs().filter((l) => l.msg === 'request failed')).toEqual([]);
      const metrics = await request(t.app).get('/metrics').set(bearer(t.metricsToken));
      expect(metrics.text).toMatch(/mingus_dependency_unavailable_total\{dependency="postgresql"\} 5/);
    } finally {
      proxy.restore();
    }
    const res = await request(t.app).get('/api/v1/profile').set(bearer(user.accessToken));
    expect(res.status).toBe(200);
  });

  it('answers a write 503 too, and it changes nothing', async () => {
    proxy.cut();
    try {
      const res = await request(t.app).patch('/api/v1/users/me').set(bearer(user.accessToken)).send({ name: 'Outage' });
      expect(res.status).toBe(503);
    } finally {
      proxy.restore();
    }
    const me = await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken));
    expect(me.body.name).not.toBe('Outage');
  });
});
