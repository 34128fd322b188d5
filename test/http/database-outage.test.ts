import type { PoolClient } from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, GOOD_PASSWORD, registerUser, type SignedInUser } from '../support/auth.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

let t: TestApp;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let user: SignedInUser;
/** The run's PostgreSQL server, which the apps of this file reach through a proxy the tests cut, freeze and restore. */
const postgres = () => {
  const server = new URL(inject('pgServerUrl'));
  return { host: server.hostname, port: Number(server.port || 5432) };
};
beforeAll(async () => {
  proxy = await startTcpProxy(postgres());
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

describe('when PostgreSQL freezes (it takes connections and never answers)', () => {
  it('answers 503 within the statement timeout plus a second, whether a request holds a connection or waits for one', async () => {
    const frozen = await startTcpProxy(postgres());
    const statementMs = 500;
    const a = await startTestApp({
      databaseUrl: (url) => frozen.through(url),
      env: { DATABASE_STATEMENT_TIMEOUT_MS: String(statementMs), DATABASE_CONNECTION_WAIT_MS: '300' },
    });
    try {
      const someone = await registerUser(a); // the pool now holds open connections
      frozen.hang();
      const started = performance.now();
      // More requests than the pool has connections: some hold one whose statement never returns, the others wait.
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => request(a.app).get('/api/v1/profile').set(bearer(someone.accessToken))),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(8).fill(503));
      expect(answers.every((r) => /database-unavailable$/.test(r.body.type))).toBe(true);
      expect(performance.now() - started).toBeLessThan(statementMs + 1_000);
    } finally {
      frozen.cut();
      await a.close();
      await frozen.close();
    }
  });
});

describe('when a statement outlasts the statement timeout (a lock held elsewhere)', () => {
  it('answers 503 database-unavailable once PostgreSQL cancels it, and changes nothing', async () => {
    const statementMs = 300;
    const a = await startTestApp({ env: { DATABASE_STATEMENT_TIMEOUT_MS: String(statementMs) } });
    const holder = await a.db.pool.connect();
    try {
      const someone = await registerUser(a);
      // Another session holds the account's row, as a long migration or a stuck transaction would.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [someone.id]);
      const started = performance.now();
      const res = await request(a.app)
        .patch('/api/v1/users/me')
        .set(bearer(someone.accessToken))
        .send({ name: 'Late' });
      expect(res.status).toBe(503);
      expect(res.body.type).toMatch(/database-unavailable$/);
      expect(performance.now() - started).toBeLessThan(statementMs + 1_000);
      await holder.query('ROLLBACK');
      const me = await request(a.app).get('/api/v1/users/me').set(bearer(someone.accessToken));
      expect(me.body.name).not.toBe('Late');
      expect(a.logs().filter((l) => l.msg === 'request failed')).toEqual([]);
    } finally {
      holder.release();
      await a.close();
    }
  });
});

describe('when every pooled connection is taken for longer than the connection wait', () => {
  it('answers a write in a transaction 503 database-unavailable, not 500', async () => {
    // Longer than Prisma's own 2 s wait for a transaction's connection, which used to end such a request first (500).
    const waitMs = 2_500;
    const a = await startTestApp({ env: { DATABASE_CONNECTION_WAIT_MS: String(waitMs) } });
    const held: PoolClient[] = [];
    try {
      const someone = await registerUser(a);
      // The test app's pool has five connections: all of them busy elsewhere.
      for (let i = 0; i < 5; i++) held.push(await a.db.pool.connect());
      const started = performance.now();
      const res = await request(a.app)
        .post('/api/v1/auth/register')
        .send({ email: `waiting-${someone.id}@example.com`, password: GOOD_PASSWORD });
      expect(res.status).toBe(503);
      expect(res.body.type).toMatch(/database-unavailable$/);
      expect(performance.now() - started).toBeLessThan(waitMs + 2_000);
      expect(a.logs().filter((l) => l.msg === 'request failed')).toEqual([]);
    } finally {
      for (const client of held) client.release();
      await a.close();
    }
  });
});
