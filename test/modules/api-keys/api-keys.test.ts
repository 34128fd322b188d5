import { createHash, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCursors } from '../../../src/http/pagination.js';
import { createApiKeysService, MAX_LIVE_KEYS_PER_USER } from '../../../src/modules/api-keys/api-keys.service.js';
import { createAuditLog } from '../../../src/modules/audit/audit.port.js';
import { createLogger } from '../../../src/platform/logger.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

const PATH = '/api/v1/auth/api-keys';
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function createKey(user: SignedInUser, body: Record<string, unknown> = { name: 'Spreadsheet' }) {
  const res = await request(t.app)
    .post(PATH)
    .set(bearer(user.accessToken))
    .send({ password: user.password, ...body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.apiKey.id as string, key: res.body.key as string, body: res.body };
}

const me = (key: string) => request(t.app).get('/api/v1/users/me').set(bearer(key));

const lastUsedAt = async (app: TestApp, id: string) =>
  (await app.db.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt;

/**
 * The service as the app builds it, on a test app's database and Redis. Its `settled()` says when the uses noted so
 * far are recorded, which a request does not wait for: "no write happened" can then be asserted, not waited out.
 */
const keysService = (app: TestApp) =>
  createApiKeysService({
    db: app.db,
    auditLog: createAuditLog(),
    cursors: createCursors(app.config.auth.jwtSecret),
    redis: app.redisGuard,
    keyPrefix: app.config.redis.keyPrefix,
    logger: createLogger({ level: 'silent' }),
    // These tests use the service to authenticate keys, never to create them.
    confirmPassword: () => Promise.reject(new Error('creating keys is tested through the API')),
    assertEmailVerified: () => Promise.reject(new Error('creating keys is tested through the API')),
    now: () => new Date(),
  });

describe('POST /api/v1/auth/api-keys', () => {
  it('when signed in, answers 201 with the key once, and stores only its SHA-256 and a display prefix', async () => {
    const user = await registerUser(t);
    const before = Date.now();
    const res = await request(t.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({ name: '  Spreadsheet  ', password: user.password });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^mk_[A-Za-z0-9_-]{43}$/);
    expect(res.body.apiKey).toEqual({
      id: expect.any(String),
      name: 'Spreadsheet',
      prefix: res.body.key.slice(0, 11),
      scopes: ['read'],
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: expect.any(String),
      revokedAt: null,
    });
    // Without expiresInDays, a key lives 90 days.
    const lifetime = Date.parse(res.body.apiKey.expiresAt) - before;
    expect(lifetime).toBeGreaterThanOrEqual(90 * 86_400_000 - 1_000);
    expect(lifetime).toBeLessThanOrEqual(90 * 86_400_000 + 60_000);
    const row = await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id: res.body.apiKey.id } });
    expect(row.keyHash).toBe(sha256(res.body.key));
    expect(row.userId).toBe(user.id);
    const secret = res.body.key.slice(3);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('when expiresInDays is given, sets expiresAt that many days ahead', async () => {
    const user = await registerUser(t);
    const before = Date.now();
    const { body } = await createKey(user, { name: 'CI', expiresInDays: 30 });
    const expiresAt = Date.parse(body.apiKey.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(30 * 86_400_000 - 1_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);
  });

  it('when the current password is missing or wrong, refuses (422, 403 invalid-password) and stores nothing', async () => {
    const user = await registerUser(t);
    const missing = await request(t.app).post(PATH).set(bearer(user.accessToken)).send({ name: 'x' });
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body.errors)).toContain('body.password');
    for (const password of ['not-the-password-1', `${user.password} `]) {
      const wrong = await request(t.app).post(PATH).set(bearer(user.accessToken)).send({ name: 'x', password });
      expect(wrong.status, password).toBe(403);
      expect(wrong.body.type).toMatch(/\/invalid-password$/);
    }
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.api_key_create' } })).toBe(0);
  });

  it('when the body asks for scopes or has invalid fields, answers 422 and stores nothing', async () => {
    const user = await registerUser(t);
    const bodies = [
      { name: 'x', scopes: ['write'] },
      { name: 'x', userId: randomUUID() },
      {},
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'x', expiresInDays: 0 },
      { name: 'x', expiresInDays: 366 },
      { name: 'x', expiresInDays: 1.5 },
      { name: 'x', expiresInDays: '30' },
    ];
    for (const body of bodies) {
      const res = await request(t.app)
        .post(PATH)
        .set(bearer(user.accessToken))
        .send({ password: user.password, ...body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.type).toBe('application/problem+json');
    }
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);
  });

  it(`when ${MAX_LIVE_KEYS_PER_USER} keys are live, answers 409; revoked and expired keys do not count`, async () => {
    const user = await registerUser(t);
    const keys = [];
    for (let i = 0; i < MAX_LIVE_KEYS_PER_USER; i++) keys.push(await createKey(user, { name: `k${i}` }));
    const refused = await request(t.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({ name: 'one more', password: user.password });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/\/api-key-limit-reached$/);
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(MAX_LIVE_KEYS_PER_USER);

    await request(t.app).delete(`${PATH}/${keys[0]?.id}`).set(bearer(user.accessToken)).expect(204);
    await t.db.prisma.apiKey.update({ where: { id: keys[1]?.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await createKey(user, { name: 'after revoke' });
    await createKey(user, { name: 'after expiry' });
    const again = await request(t.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({ name: 'too many', password: user.password });
    expect(again.status).toBe(409);
  });

  it('when many creates race at the cap, still no more than the cap are live', async () => {
    const user = await registerUser(t);
    const results = await Promise.all(
      Array.from({ length: MAX_LIVE_KEYS_PER_USER + 5 }, (_, i) =>
        request(t.app)
          .post(PATH)
          .set(bearer(user.accessToken))
          .send({ name: `k${i}`, password: user.password }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(MAX_LIVE_KEYS_PER_USER);
    expect(results.filter((r) => r.status === 409)).toHaveLength(5);
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(MAX_LIVE_KEYS_PER_USER);
  });

  it('when not signed in, answers 401', async () => {
    const res = await request(t.app).post(PATH).send({ name: 'x' });
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
  });

  it('when a key is created and revoked, records audit entries that hold no key material', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user);
    await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken)).expect(204);
    const rows = await t.db.prisma.auditLog.findMany({
      where: { userId: user.id, action: { in: ['auth.api_key_create', 'auth.api_key_revoke'] } },
      orderBy: { createdAt: 'asc' },
    });
    expect(rows.map((r) => [r.action, r.targetType, r.targetId])).toEqual([
      ['auth.api_key_create', 'api_key', id],
      ['auth.api_key_revoke', 'api_key', id],
    ]);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(key.slice(3, 11));
    expect(text).not.toContain(sha256(key));
  });
});

describe('API keys end with the credentials that made them', () => {
  const liveKeysOf = (userId: string) => t.db.prisma.apiKey.count({ where: { userId, revokedAt: null } });

  it('when the password is changed, every API key of the account stops working at once and is revoked', async () => {
    const user = await registerUser(t);
    const [first, second] = [await createKey(user, { name: 'one' }), await createKey(user, { name: 'two' })];
    const other = await registerUser(t);
    const bystander = await createKey(other);
    const changed = await request(t.app)
      .post('/api/v1/auth/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: user.password, newPassword: 'violet-Tiger-toaster-1977' });
    expect(changed.status).toBe(204);
    for (const { key } of [first, second]) expect((await me(key)).status).toBe(401);
    expect(await liveKeysOf(user.id)).toBe(0);
    const revoked = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'auth.api_key_revoke' } });
    expect(revoked.map((r) => r.targetId).sort()).toEqual([first.id, second.id].sort());
    expect((await me(bystander.key)).status).toBe(200);
  });

  it('when every session is signed out (logout-all), every API key of the account is revoked too', async () => {
    const user = await registerUser(t);
    const { key } = await createKey(user);
    expect((await me(key)).status).toBe(200);
    await request(t.app).post('/api/v1/auth/logout-all').set(bearer(user.accessToken)).expect(204);
    expect((await me(key)).status).toBe(401);
    expect(await liveKeysOf(user.id)).toBe(0);
  });

  it('when key creation is used to guess the password, the attempts are limited like a password change', async () => {
    const limited = await startTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const user = await registerUser(limited);
      const attempt = () =>
        request(limited.app)
          .post(PATH)
          .set(bearer(user.accessToken))
          .send({ name: 'x', password: 'a-guess-at-the-password' });
      expect([(await attempt()).status, (await attempt()).status, (await attempt()).status]).toEqual([403, 403, 429]);
      expect(await limited.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);
    } finally {
      await limited.close();
    }
  });
});

describe('GET /api/v1/auth/api-keys', () => {
  it("when signed in, lists the caller's keys newest first, revoked ones included, never a hash or key", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const first = await createKey(user, { name: 'first' });
    const second = await createKey(user, { name: 'second' });
    await createKey(other, { name: 'not yours' });
    await request(t.app).delete(`${PATH}/${first.id}`).set(bearer(user.accessToken)).expect(204);

    const res = await request(t.app).get(PATH).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data.map((k: { name: string }) => k.name)).toEqual(['second', 'first']);
    expect(res.body.data[0].revokedAt).toBeNull();
    expect(res.body.data[1].revokedAt).toEqual(expect.any(String));
    for (const item of res.body.data) expect(Object.keys(item)).not.toContain('keyHash');
    for (const { key } of [first, second]) {
      expect(res.text).not.toContain(key.slice(3));
      expect(res.text).not.toContain(sha256(key));
    }
  });

  it('when there are more keys than the limit, pages through them with a cursor', async () => {
    const user = await registerUser(t);
    for (const name of ['a', 'b', 'c']) await createKey(user, { name });
    const page1 = await request(t.app).get(`${PATH}?limit=2`).set(bearer(user.accessToken));
    expect(page1.body.data.map((k: { name: string }) => k.name)).toEqual(['c', 'b']);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await request(t.app)
      .get(PATH)
      .query({ limit: 2, cursor: page1.body.nextCursor })
      .set(bearer(user.accessToken));
    expect(page2.body).toEqual({ data: [expect.objectContaining({ name: 'a' })], nextCursor: null });
  });

  it('when the cursor is forged or the limit invalid, answers 400 or 422', async () => {
    const user = await registerUser(t);
    const forged = await request(t.app).get(`${PATH}?cursor=abc.def`).set(bearer(user.accessToken));
    expect(forged.status).toBe(400);
    const badLimit = await request(t.app).get(`${PATH}?limit=0`).set(bearer(user.accessToken));
    expect(badLimit.status).toBe(422);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).get(PATH)).status).toBe(401);
  });
});

describe('DELETE /api/v1/auth/api-keys/:id', () => {
  it('when the key is yours, answers 204 and the key stops working at once', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user);
    expect((await me(key)).status).toBe(200);
    const res = await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(204);
    const row = await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.revokedAt).not.toBeNull();
    const after = await me(key);
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('when the key is already revoked, answers 204 again and records nothing more', async () => {
    const user = await registerUser(t);
    const { id } = await createKey(user);
    await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken)).expect(204);
    const { revokedAt } = await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    await request(t.app).delete(`${PATH}/${id}`).set(bearer(user.accessToken)).expect(204);
    expect((await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id } })).revokedAt).toEqual(revokedAt);
    expect(await t.db.prisma.auditLog.count({ where: { action: 'auth.api_key_revoke', targetId: id } })).toBe(1);
  });

  it("when the key is another user's, answers 404 and the key still works", async () => {
    const owner = await registerUser(t);
    const intruder = await registerUser(t);
    const { id, key } = await createKey(owner);
    const res = await request(t.app).delete(`${PATH}/${id}`).set(bearer(intruder.accessToken));
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/problem+json');
    expect((await t.db.prisma.apiKey.findUniqueOrThrow({ where: { id } })).revokedAt).toBeNull();
    expect((await me(key)).status).toBe(200);
  });

  it("when the id is unknown, answers 404 like another user's key", async () => {
    const user = await registerUser(t);
    const res = await request(t.app).delete(`${PATH}/${randomUUID()}`).set(bearer(user.accessToken));
    expect(res.status).toBe(404);
  });

  it('when the id is not a UUID, answers 400', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).delete(`${PATH}/not-a-uuid`).set(bearer(user.accessToken));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'params.id', message: expect.any(String) }]);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).delete(`${PATH}/${randomUUID()}`)).status).toBe(401);
  });
});

describe('managing keys with a cookie session', () => {
  /** Signs in as a web client and answers its cookies (as one Cookie header) and CSRF token. */
  async function webSession(user: SignedInUser) {
    const res = await request(t.app)
      .post('/api/v1/auth/login')
      .set('X-Client', 'web')
      .send({ email: user.email, password: user.password });
    const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    const cookie = setCookies.map((c) => c.split(';')[0]).join('; ');
    return { cookie, csrfToken: res.body.csrfToken as string };
  }

  it('when X-CSRF-Token is missing, answers 403 and creates nothing; with it, 201', async () => {
    const user = await registerUser(t);
    const web = await webSession(user);
    const refused = await request(t.app)
      .post(PATH)
      .set('Cookie', web.cookie)
      .send({ name: 'x', password: user.password });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toMatch(/\/csrf-token-invalid$/);
    expect(await t.db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);
    const ok = await request(t.app)
      .post(PATH)
      .set('Cookie', web.cookie)
      .set('X-CSRF-Token', web.csrfToken)
      .send({ name: 'x', password: user.password });
    expect(ok.status).toBe(201);
  });
});

describe('authenticating with an API key', () => {
  it('when the key is valid, GET /users/me answers 200 and lastUsedAt is recorded', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user);
    const res = await me(key);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
    // Written after the answer: wait for it.
    await expect.poll(() => lastUsedAt(t, id), { timeout: 10_000 }).not.toBeNull();
    expect(Date.now() - ((await lastUsedAt(t, id))?.getTime() ?? 0)).toBeLessThan(10_000);
  });

  it('when the key is used again within a minute, lastUsedAt is not written again', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user);
    const keys = keysService(t);
    expect(await keys.principalOfKey(key)).toMatchObject({ kind: 'api-key', apiKeyId: id });
    await keys.settled();
    expect(await lastUsedAt(t, id)).not.toBeNull();
    const marker = new Date('2000-01-01T00:00:00.000Z');
    await t.db.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: marker } });
    for (let i = 0; i < 3; i++) expect(await keys.principalOfKey(key)).toMatchObject({ apiKeyId: id });
    await keys.settled();
    expect(await lastUsedAt(t, id)).toEqual(marker);
    const ttl = await t.redis?.ttl(`${t.config.redis.keyPrefix}api-key-used:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('when the key writes (PATCH /users/me), answers 403 api-key-read-only and changes nothing', async () => {
    const user = await registerUser(t, { name: 'Ann Lee' });
    const { key } = await createKey(user);
    const res = await request(t.app).patch('/api/v1/users/me').set(bearer(key)).send({ name: 'Mallory' });
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/api-key-read-only$/);
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('Ann Lee');
  });

  it('when the key tries to manage keys, answers 403 api-key-not-allowed and creates nothing', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user);
    const attempts = [
      request(t.app).post(PATH).set(bearer(key)).send({ name: 'minted' }),
      request(t.app).get(PATH).set(bearer(key)),
      request(t.app).delete(`${PATH}/${id}`).set(bearer(key)),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/\/api-key-not-allowed$/);
    }
    const rows = await t.db.prisma.apiKey.findMany({ where: { userId: user.id } });
    expect(rows.map((r) => [r.id, r.revokedAt])).toEqual([[id, null]]);
  });

  it('when the key has expired, answers 401', async () => {
    const user = await registerUser(t);
    const { id, key } = await createKey(user, { name: 'short', expiresInDays: 1 });
    await t.db.prisma.apiKey.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect((await me(key)).status).toBe(401);
  });

  it('when its owner is suspended, answers 401', async () => {
    const user = await registerUser(t);
    const { key } = await createKey(user);
    await t.db.prisma.user.update({ where: { id: user.id }, data: { status: 'suspended' } });
    expect((await me(key)).status).toBe(401);
  });

  it('when the key is garbage or unknown, answers 401', async () => {
    for (const key of ['mk_xxx', `mk_${randomBytes(32).toString('base64url')}`, 'mk_']) {
      const res = await me(key);
      expect(res.status, key).toBe(401);
      expect(res.body.type).toMatch(/\/invalid-token$/);
    }
  });
});

describe('without Redis (development)', () => {
  let dev: TestApp;
  beforeAll(async () => {
    dev = await startTestApp({ redis: 'none' });
  });
  afterAll(() => dev.close());

  it('when a key is used, lastUsedAt is still recorded, once a minute, from memory', async () => {
    const user = await registerUser(dev);
    const created = await request(dev.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({ name: 'dev', password: user.password });
    const { id } = created.body.apiKey;
    const keys = keysService(dev);
    expect(await keys.principalOfKey(created.body.key)).toMatchObject({ apiKeyId: id });
    await keys.settled();
    expect(await lastUsedAt(dev, id)).not.toBeNull();
    const marker = new Date('2000-01-01T00:00:00.000Z');
    await dev.db.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: marker } });
    expect(await keys.principalOfKey(created.body.key)).toMatchObject({ apiKeyId: id });
    await keys.settled();
    expect(await lastUsedAt(dev, id)).toEqual(marker);
  });
});
