import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerAdmin, registerUser, type SignedInUser } from '../../support/auth.js';

let t: TestApp;
let admin: SignedInUser;
beforeAll(async () => {
  t = await startTestApp();
  admin = await registerAdmin(t);
});
afterAll(() => t.close());

const auditLog = (query: Record<string, string | number>) =>
  request(t.app).get('/api/v1/admin/audit-log').query(query).set(bearer(admin.accessToken));

describe('GET /api/v1/admin/audit-log', () => {
  it('when filtered by userId, returns only that account’s entries, newest first, in the documented shape', async () => {
    const user = await registerUser(t);
    const patched = await request(t.app)
      .patch(`/api/v1/admin/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ status: 'suspended' });

    const res = await auditLog({ userId: user.id });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(['admin.user_update', 'auth.register']);
    expect(res.body.data[0]).toEqual({
      id: expect.any(String),
      action: 'admin.user_update',
      userId: user.id,
      actorId: admin.id,
      targetType: 'user',
      targetId: user.id,
      fields: ['status'],
      ip: expect.any(String),
      requestId: patched.headers['x-request-id'],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('when filtered by action, returns only entries of that action', async () => {
    await registerUser(t);
    const res = await auditLog({ action: 'auth.login' });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThan(0);
    expect(new Set(res.body.data.map((e: { action: string }) => e.action))).toEqual(new Set(['auth.login']));
  });

  it('when filtered by userId and action together, applies both', async () => {
    const user = await registerUser(t);
    const res = await auditLog({ userId: user.id, action: 'auth.register' });
    expect(res.body.data).toEqual([expect.objectContaining({ userId: user.id, action: 'auth.register' })]);
  });

  it('when paging with a cursor, walks every entry once', async () => {
    const user = await registerUser(t);
    for (const status of ['suspended', 'active', 'suspended']) {
      await request(t.app).patch(`/api/v1/admin/users/${user.id}`).set(bearer(admin.accessToken)).send({ status });
    }
    const all = await auditLog({ userId: user.id, limit: 100 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await auditLog({ userId: user.id, limit: 1, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((e: { id: string }) => e.id));
    expect(seen).toHaveLength(4);
  });

  it('when the action is not a known audit action, answers 422 naming query.action', async () => {
    const res = await auditLog({ action: 'auth.everything' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'query.action' })]);
  });

  it('when userId is not a UUID, answers 422 naming query.userId', async () => {
    const res = await auditLog({ userId: 'me' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'query.userId' })]);
  });

  it('when the cursor is junk, answers 400 invalid-cursor; when limit is 101, 422', async () => {
    expect((await auditLog({ cursor: 'junk' })).status).toBe(400);
    expect((await auditLog({ limit: 101 })).status).toBe(422);
  });
});
