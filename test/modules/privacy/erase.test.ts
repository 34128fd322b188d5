import { createHmac, hkdfSync } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE } from '../../../src/http/session-cookies.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, login, registerUser, type SignedInUser } from '../../support/auth.js';
import { checkinOn } from '../../support/checkins.js';
import { type PlaidServer, plaidEnv, startPlaidServer } from '../../support/plaid-server.js';
import { billingEnv, type StripeServer, startStripeServer } from '../../support/stripe-server.js';
import { seedPersonalData } from './personal-data.seed.js';
import { rowsReferring } from './personal-data.tables.js';

const ME = '/api/v1/users/me';

let t: TestApp;
/**
 * Billing and bank links are configured (against local Stripe- and Plaid-compatible servers): their sections end the
 * customer and revoke the bank links before erasing.
 */
let stripe: StripeServer;
let plaid: PlaidServer;
beforeAll(async () => {
  stripe = await startStripeServer();
  plaid = await startPlaidServer();
  t = await startTestApp({ env: { ...billingEnv(stripe), ...plaidEnv(plaid) } });
});
afterAll(async () => {
  await t.close();
  await stripe.close();
  await plaid.close();
});

/** The plan that sells bank links, as Stripe's webhook would leave it. */
async function professionalPlan(userId: string) {
  await t.db.pool.query(
    `INSERT INTO subscriptions (user_id, stripe_customer_id, stripe_subscription_id, plan, status)
     VALUES ($1, $2, $3, 'professional', 'active')
     ON CONFLICT (user_id) DO UPDATE SET plan = 'professional', status = 'active'`,
    [userId, `cus_erase${userId.slice(0, 8)}`, `sub_erase${userId.slice(0, 8)}`],
  );
}

/** Computed here from the documented derivation, not with the app's function. */
function pseudonymOf(userId: string): string {
  const key = Buffer.from(
    hkdfSync('sha256', t.config.auth.jwtSecret, Buffer.alloc(0), 'mingus/privacy/erasure-pseudonym/v1', 32),
  );
  return createHmac('sha256', key).update(userId).digest('hex');
}

const erase = (token: string, body: unknown) =>
  request(t.app)
    .delete(ME)
    .set(bearer(token))
    .send(body as object);
const me = (token: string) => request(t.app).get(ME).set(bearer(token));
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function seededUser(): Promise<SignedInUser> {
  const user = await registerUser(t);
  await seedPersonalData(t, user.id);
  return user;
}

describe('DELETE /api/v1/users/me', () => {
  it('when the password is right, answers 204 and no table holds a row referring to the user', async () => {
    const ann = await seededUser();
    // Ann also acted on someone else's record (as an administrator would): the audit log's actor column names her.
    const bob = await registerUser(t);
    await t.db.pool.query(
      `INSERT INTO audit_log (user_id, actor_id, action, target_type, target_id, fields)
       VALUES ($1, $2, 'admin.user_update', 'user', $3, '{status}')`,
      [bob.id, ann.id, bob.id],
    );
    const before = await rowsReferring(t, ann.id);
    // Every column that can name a user does name Ann, so "none does afterwards" below covers each of them.
    expect(Object.entries(before).filter(([, n]) => n === 0)).toEqual([]);
    expect(total(before)).toBeGreaterThanOrEqual(15);
    const { rows: auditBefore } = await t.db.pool.query('SELECT id FROM audit_log WHERE user_id = $1', [ann.id]);
    expect(auditBefore.length).toBeGreaterThan(0);

    const res = await erase(ann.accessToken, { password: ann.password });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    const after = await rowsReferring(t, ann.id);
    expect(Object.entries(after).filter(([, n]) => n > 0)).toEqual([]);
    // Deleted, not merely unlinked: the foreign key alone would only null user_id and keep the entries.
    const { rows: auditLeft } = await t.db.pool.query('SELECT id FROM audit_log WHERE id = ANY($1::uuid[])', [
      auditBefore.map((r: { id: string }) => r.id),
    ]);
    expect(auditLeft).toEqual([]);
    // Nothing names the user elsewhere either: audit targets, idempotent answers.
    const { rows } = await t.db.pool.query(
      `SELECT (SELECT count(*) FROM audit_log WHERE target_id = $1)::int AS audit,
              (SELECT count(*) FROM users WHERE email = $2)::int AS users`,
      [ann.id, ann.email],
    );
    expect(rows[0]).toEqual({ audit: 0, users: 0 });
  });

  it('when erased, leaves exactly one pseudonymous privacy.erase entry: a keyed hash, no user, actor or address', async () => {
    const ann = await seededUser();
    const res = await erase(ann.accessToken, { password: ann.password });
    expect(res.status).toBe(204);
    const { rows } = await t.db.pool.query(
      `SELECT user_id, actor_id, target_type, target_id, ip, request_id, fields FROM audit_log
       WHERE action = 'privacy.erase' AND target_id = $1`,
      [pseudonymOf(ann.id)],
    );
    expect(rows).toEqual([
      {
        user_id: null,
        actor_id: null,
        target_type: 'user-pseudonym',
        target_id: pseudonymOf(ann.id),
        ip: null,
        request_id: res.headers['x-request-id'],
        fields: expect.arrayContaining(['sessions', 'apiKeys', 'auditLog']),
      },
    ]);
    expect(rows[0].target_id).not.toContain(ann.id);
  });

  it('when erased, every session ends at once: access tokens of each device → 401, refresh → 401, login → 401', async () => {
    const ann = await registerUser(t);
    const phone = (await login(t, ann.email, ann.password)).body as { accessToken: string; refreshToken: string };
    // Both sessions are now cached as live in Redis: only an explicit "ended" mark stops them before a minute.
    expect((await me(ann.accessToken)).status).toBe(200);
    expect((await me(phone.accessToken)).status).toBe(200);

    expect((await erase(phone.accessToken, { password: ann.password })).status).toBe(204);

    for (const token of [ann.accessToken, phone.accessToken]) {
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(res.body.type).toMatch(/\/invalid-token$/);
    }
    for (const refreshToken of [ann.refreshToken, phone.refreshToken]) {
      expect((await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken })).status).toBe(401);
    }
    expect((await login(t, ann.email, ann.password)).status).toBe(401);
  });

  it('when another user has data, it is untouched, and entries the erased admin wrote about them lose only the actor', async () => {
    const bob = await seededUser();
    const admin = await seededUser();
    await t.db.pool.query(
      `INSERT INTO audit_log (user_id, actor_id, action, target_type, target_id, fields)
       VALUES ($1, $2, 'admin.user_update', 'user', $3, '{status}')`,
      [bob.id, admin.id, bob.id],
    );
    const bobBefore = await rowsReferring(t, bob.id);

    expect((await erase(admin.accessToken, { password: admin.password })).status).toBe(204);

    expect(await rowsReferring(t, bob.id)).toEqual(bobBefore);
    const { rows } = await t.db.pool.query(
      `SELECT actor_id FROM audit_log WHERE user_id = $1 AND action = 'admin.user_update'`,
      [bob.id],
    );
    expect(rows).toEqual([{ actor_id: null }]);
    expect((await me(bob.accessToken)).status).toBe(200);
  });

  it('when the user has bank links, each is removed at Plaid before the rows go', async () => {
    const user = await registerUser(t);
    await seedPersonalData(t, user.id);
    await professionalPlan(user.id);
    const linked = await request(t.app)
      .post('/api/v1/banking/items')
      .set(bearer(user.accessToken))
      .send({ publicToken: plaid.publicToken('ins_erase') });
    expect(linked.status).toBe(201);
    const plaidItemId = (await t.db.prisma.plaidItem.findUniqueOrThrow({ where: { id: linked.body.id } })).plaidItemId;
    const res = await request(t.app).delete(ME).set(bearer(user.accessToken)).send({ password: user.password });
    expect(res.status).toBe(204);
    expect(plaid.itemOf(plaidItemId).removed).toBe(true);
    expect(await t.db.prisma.plaidItem.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when Plaid cannot be reached, the erasure is refused with 502 and nothing is erased', async () => {
    const user = await registerUser(t);
    await professionalPlan(user.id);
    const linked = await request(t.app)
      .post('/api/v1/banking/items')
      .set(bearer(user.accessToken))
      .send({ publicToken: plaid.publicToken('ins_erase_down') });
    expect(linked.status).toBe(201);
    plaid.failures.set('/item/remove', { status: 500, error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR' });
    try {
      const res = await request(t.app).delete(ME).set(bearer(user.accessToken)).send({ password: user.password });
      expect(res.status).toBe(502);
      expect(res.body.type).toMatch(/banking-upstream-failed$/);
    } finally {
      plaid.failures.clear();
    }
    expect(await t.db.prisma.user.count({ where: { id: user.id } })).toBe(1);
    expect(await t.db.prisma.plaidItem.count({ where: { userId: user.id } })).toBe(1);
  });

  it('when the password is wrong, answers 403 invalid-password and erases nothing', async () => {
    const ann = await seededUser();
    const before = await rowsReferring(t, ann.id);
    const res = await erase(ann.accessToken, { password: `${ann.password}x` });
    expect(res.status).toBe(403);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/\/invalid-password$/);
    expect(await rowsReferring(t, ann.id)).toEqual(before);
    expect((await me(ann.accessToken)).status).toBe(200);
  });

  it('when the body has no password, an empty one, or other fields, answers 422 and erases nothing', async () => {
    const ann = await registerUser(t);
    for (const body of [{}, { password: '' }, { password: 123 }, { password: ann.password, confirm: true }]) {
      const res = await erase(ann.accessToken, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect((await me(ann.accessToken)).status).toBe(200);
  });

  it('when called with an API key, answers 403 api-key-not-allowed and erases nothing', async () => {
    const ann = await registerUser(t);
    const created = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(ann.accessToken))
      .send({ name: 'k', password: ann.password });
    const res = await erase(created.body.key, { password: ann.password });
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/api-key-not-allowed$/);
    expect((await me(ann.accessToken)).status).toBe(200);
  });

  it('when not signed in, answers 401', async () => {
    const res = await request(t.app).delete(ME).send({ password: 'whatever-it-is' });
    expect(res.status).toBe(401);
  });

  it('when a web session erases with its CSRF token, answers 204 and clears the session cookies', async () => {
    const ann = await registerUser(t);
    const signIn = await request(t.app)
      .post('/api/v1/auth/login')
      .set('X-Client', 'web')
      .send({ email: ann.email, password: ann.password });
    expect(signIn.status).toBe(200);
    const jar = new Map(
      (signIn.headers['set-cookie'] as unknown as string[]).map((c) => {
        const [pair = ''] = c.split(';');
        return [pair.slice(0, pair.indexOf('=')), pair] as const;
      }),
    );
    const cookie = `${jar.get(ACCESS_COOKIE)}; ${jar.get(CSRF_COOKIE)}`;

    const withoutToken = await request(t.app).delete(ME).set('Cookie', cookie).send({ password: ann.password });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.body.type).toMatch(/\/csrf-token-invalid$/);
    expect(await t.db.prisma.user.count({ where: { id: ann.id } })).toBe(1);

    const res = await request(t.app)
      .delete(ME)
      .set('Cookie', cookie)
      .set('X-CSRF-Token', signIn.body.csrfToken)
      .send({ password: ann.password });
    expect(res.status).toBe(204);
    const cleared = (res.headers['set-cookie'] as unknown as string[]).filter((c) =>
      /Expires=Thu, 01 Jan 1970/.test(c),
    );
    expect(cleared.map((c) => c.split('=')[0]).sort()).toEqual([ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE].sort());
    expect((await request(t.app).get(ME).set('Cookie', cookie)).status).toBe(401);
  });

  it('when the account is already erased, a second request with the same token answers 401', async () => {
    const ann = await registerUser(t);
    expect((await erase(ann.accessToken, { password: ann.password })).status).toBe(204);
    expect((await erase(ann.accessToken, { password: ann.password })).status).toBe(401);
  });
});

describe('DELETE /api/v1/users/me rate limit', () => {
  it('when passwords are guessed past the password-route limit, answers 429 and erases nothing', async () => {
    const limited = await startTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const ann = await registerUser(limited);
      const guess = () =>
        request(limited.app).delete(ME).set(bearer(ann.accessToken)).send({ password: 'not-the-password-1' });
      expect((await guess()).status).toBe(403);
      expect((await guess()).status).toBe(403);
      const third = await guess();
      expect(third.status).toBe(429);
      expect(third.headers['retry-after']).toBeDefined();
      const right = await request(limited.app).delete(ME).set(bearer(ann.accessToken)).send({ password: ann.password });
      expect(right.status).toBe(429);
      expect(await limited.db.prisma.user.count({ where: { id: ann.id } })).toBe(1);
    } finally {
      await limited.close();
    }
  });
});

describe('a request racing an erasure', () => {
  it('when the account row is gone but its session is still cached as live, a write answers 404, not 500', async () => {
    const user = await registerUser(t);
    // One authenticated read caches the session as live (for up to a minute).
    await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken)).expect(200);
    await t.db.pool.query('DELETE FROM users WHERE id = $1', [user.id]);
    const res = await request(t.app)
      .post('/api/v1/reminders')
      .set(bearer(user.accessToken))
      .send({ title: 'Pay rent', dueDate: '2026-12-01' });
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/not-found$/);
    const checkin = await request(t.app)
      .post('/api/v1/checkins')
      .set(bearer(user.accessToken))
      .send(checkinOn('2026-01-10'));
    expect(checkin.status).toBe(404);
  });
});
