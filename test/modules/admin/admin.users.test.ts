import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, login, registerAdmin, registerUser, type SignedInUser } from '../../support/auth.js';

let t: TestApp;
let admin: SignedInUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await registerAdmin(t);
});
afterAll(() => t.close());

const asAdmin = () => bearer(admin.accessToken);

/** Accounts straight into the table: listing needs rows, not sessions (and bcrypt would only slow the tests). */
async function seedUsers(emails: string[], createdAt?: Date) {
  await t.db.prisma.user.createMany({
    data: emails.map((email) => ({ email, passwordHash: 'not-a-hash', ...(createdAt ? { createdAt } : {}) })),
  });
}

describe('who may call the admin routes', () => {
  const routes: { method: 'get' | 'patch'; path: string; body?: object }[] = [
    { method: 'get', path: '/api/v1/admin/users' },
    { method: 'patch', path: `/api/v1/admin/users/${randomUUID()}`, body: { status: 'suspended' } },
    { method: 'get', path: '/api/v1/admin/audit-log' },
  ];

  it('when a plain user calls any admin route, answers 403 problem+json', async () => {
    const user = await registerUser(t);
    for (const route of routes) {
      const res = await request(t.app)[route.method](route.path).set(bearer(user.accessToken)).send(route.body);
      expect(res.status, route.path).toBe(403);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/\/forbidden$/);
    }
  });

  it('when nobody is signed in, answers 401 on every admin route', async () => {
    for (const route of routes) {
      const res = await request(t.app)[route.method](route.path).send(route.body);
      expect(res.status, route.path).toBe(401);
      expect(res.type).toBe('application/problem+json');
    }
  });

  it('when an admin presents a personal API key, answers 403 api-key-not-allowed on every admin route', async () => {
    const created = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(asAdmin())
      .send({ name: 'admin script', password: admin.password });
    expect(created.status).toBe(201);
    for (const route of routes) {
      const res = await request(t.app)[route.method](route.path).set(bearer(created.body.key)).send(route.body);
      expect(res.status, route.path).toBe(403);
      expect(res.body.type).toMatch(/\/api-key-not-allowed$/);
    }
  });

  it('when an admin signed in by cookie changes an account without X-CSRF-Token, answers 403 and changes nothing', async () => {
    const target = await registerUser(t);
    const web = await request(t.app)
      .post('/api/v1/auth/login')
      .set('X-Client', 'web')
      .send({ email: admin.email, password: admin.password });
    expect(web.status).toBe(200);
    const cookies = web.headers['set-cookie'] as unknown as string[];
    const res = await request(t.app)
      .patch(`/api/v1/admin/users/${target.id}`)
      .set('Cookie', cookies)
      .send({ status: 'suspended' });
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/csrf-token-invalid$/);
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: target.id } })).status).toBe('active');

    const withToken = await request(t.app)
      .patch(`/api/v1/admin/users/${target.id}`)
      .set('Cookie', cookies)
      .set('X-CSRF-Token', web.body.csrfToken)
      .send({ status: 'suspended' });
    expect(withToken.status).toBe(200);
  });
});

describe('GET /api/v1/admin/users', () => {
  it('when listing page by page, returns every account once, newest first, and ends with nextCursor null', async () => {
    const listed = await startTestApp();
    try {
      const boss = await registerAdmin(listed);
      const tag = randomUUID().slice(0, 8);
      // Three accounts created in the same millisecond: only the id can order them, and no page may lose one.
      const sameInstant = new Date(Date.now() + 60_000);
      await listed.db.prisma.user.createMany({
        data: [1, 2, 3].map((i) => ({
          email: `tie-${i}-${tag}@example.com`,
          passwordHash: 'x',
          createdAt: sameInstant,
        })),
      });
      await listed.db.prisma.user.createMany({
        data: [4, 5].map((i) => ({
          email: `old-${i}-${tag}@example.com`,
          passwordHash: 'x',
          createdAt: new Date(i * 1e9),
        })),
      });

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await request(listed.app)
          .get('/api/v1/admin/users')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(bearer(boss.accessToken));
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((u: { id: string }) => u.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);

      expect(pages).toBe(3);
      expect(cursor).toBeNull();
      const expected = await listed.db.prisma.user.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        select: { id: true },
      });
      expect(seen).toEqual(expected.map((u) => u.id));
      expect(seen).toHaveLength(6);
    } finally {
      await listed.close();
    }
  });

  it('when listing, shows the public view of each account and never a password hash', async () => {
    const res = await request(t.app).get('/api/v1/admin/users').set(asAdmin());
    expect(res.status).toBe(200);
    const mine = res.body.data.find((u: { id: string }) => u.id === admin.id);
    expect(mine).toEqual({
      id: admin.id,
      email: admin.email,
      name: null,
      role: 'admin',
      status: 'active',
      createdAt: expect.any(String),
    });
    expect(res.text).not.toMatch(/passwordHash|\$2[aby]\$/);
  });

  it('when filtering by email, matches a case-insensitive substring and treats _ and % literally', async () => {
    const tag = randomUUID().slice(0, 8);
    await seedUsers([`ann_lee-${tag}@example.com`, `annxlee-${tag}@example.com`, `bob-${tag}@example.com`]);
    const res = await request(t.app)
      .get('/api/v1/admin/users')
      .query({ email: `ANN_LEE-${tag.toUpperCase()}` })
      .set(asAdmin());
    expect(res.status).toBe(200);
    expect(res.body.data.map((u: { email: string }) => u.email)).toEqual([`ann_lee-${tag}@example.com`]);

    const percent = await request(t.app).get('/api/v1/admin/users').query({ email: '%' }).set(asAdmin());
    expect(percent.body.data).toEqual([]);
  });

  it('when the cursor is junk or tampered with, answers 400 invalid-cursor', async () => {
    await seedUsers([`a-${randomUUID()}@example.com`, `b-${randomUUID()}@example.com`]);
    const first = await request(t.app).get('/api/v1/admin/users').query({ limit: 1 }).set(asAdmin());
    const cursor = first.body.nextCursor as string;
    const [body, mac] = cursor.split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify(['2000-01-01T00:00:00.000Z', randomUUID()])).toString('base64url')}.${mac}`;
    for (const bad of ['junk', `${body}.${mac}x`, forged, `${cursor}.more`]) {
      const res = await request(t.app).get('/api/v1/admin/users').query({ cursor: bad }).set(asAdmin());
      expect(res.status, bad).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/\/invalid-cursor$/);
    }
  });

  it('when limit is over 100 or not a number, answers 422 naming query.limit', async () => {
    for (const limit of ['101', '0', 'ten', '-1']) {
      const res = await request(t.app).get('/api/v1/admin/users').query({ limit }).set(asAdmin());
      expect(res.status, limit).toBe(422);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    }
  });
});

describe('PATCH /api/v1/admin/users/:id', () => {
  it('when an admin suspends an account, its access token fails at once, its login answers 403 and an audit row names status', async () => {
    const user = await registerUser(t);
    expect((await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken))).status).toBe(200);

    const res = await request(t.app)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(asAdmin())
      .send({ status: 'suspended' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, status: 'suspended', role: 'user' });

    const me = await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken));
    expect(me.status).toBe(401);
    const again = await login(t, user.email, user.password);
    expect(again.status).toBe(403);
    expect(again.body.type).toMatch(/\/account-suspended$/);
    const refreshed = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(401);

    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'admin.user_update' } });
    expect(rows).toEqual([
      expect.objectContaining({
        actorId: admin.id,
        targetType: 'user',
        targetId: user.id,
        fields: ['status'],
        requestId: res.headers['x-request-id'],
      }),
    ]);
    expect(await t.db.prisma.refreshToken.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);
  });

  it('when an admin reactivates a suspended account, it can sign in again', async () => {
    const user = await registerUser(t);
    await request(t.app).patch(`/api/v1/admin/users/${user.id}`).set(asAdmin()).send({ status: 'suspended' });
    const res = await request(t.app).patch(`/api/v1/admin/users/${user.id}`).set(asAdmin()).send({ status: 'active' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('active');
    expect((await login(t, user.email, user.password)).status).toBe(200);
  });

  it('when an admin changes a role, records fields [role] with the actor and ends the stale sessions', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).patch(`/api/v1/admin/users/${user.id}`).set(asAdmin()).send({ role: 'admin' });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('admin');

    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'admin.user_update' } });
    expect(rows).toEqual([expect.objectContaining({ actorId: admin.id, fields: ['role'] })]);
    // The old token says `role: user`: it must not outlive the change.
    expect((await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken))).status).toBe(401);
    const fresh = await login(t, user.email, user.password);
    const list = await request(t.app).get('/api/v1/admin/users').set(bearer(fresh.body.accessToken));
    expect(list.status).toBe(200);
  });

  it('when the body sets what is already set, answers 200 and records nothing', async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(asAdmin())
      .send({ status: 'active', role: 'user' });
    expect(res.status).toBe(200);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'admin.user_update' } })).toBe(0);
    expect((await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken))).status).toBe(200);
  });

  it('when an admin changes their own role or status, answers 409 cannot-change-self and changes nothing', async () => {
    for (const body of [{ role: 'user' }, { status: 'suspended' }]) {
      const res = await request(t.app).patch(`/api/v1/admin/users/${admin.id}`).set(asAdmin()).send(body);
      expect(res.status).toBe(409);
      expect(res.type).toBe('application/problem+json');
      expect(res.body.type).toMatch(/\/cannot-change-self$/);
    }
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: admin.id } });
    expect(row).toMatchObject({ role: 'admin', status: 'active' });
  });

  it('when the id names no account, answers 404', async () => {
    const res = await request(t.app)
      .patch(`/api/v1/admin/users/${randomUUID()}`)
      .set(asAdmin())
      .send({ role: 'admin' });
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
  });

  it('when the id is not a UUID, answers 400 invalid-parameter', async () => {
    const res = await request(t.app).patch('/api/v1/admin/users/not-a-uuid').set(asAdmin()).send({ role: 'admin' });
    expect(res.status).toBe(400);
    expect(res.body.type).toMatch(/\/invalid-parameter$/);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
  });

  it('when the body names no field, an unknown field or a bad value, answers 422 and changes nothing', async () => {
    const user = await registerUser(t);
    for (const body of [
      {},
      { email: 'x@example.com' },
      { status: 'deleted' },
      { role: 'owner' },
      { role: 'admin', name: 'x' },
    ]) {
      const res = await request(t.app).patch(`/api/v1/admin/users/${user.id}`).set(asAdmin()).send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect(await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({
      role: 'user',
      status: 'active',
      email: user.email,
    });
  });
});
