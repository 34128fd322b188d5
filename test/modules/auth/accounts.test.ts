import bcrypt from 'bcrypt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, GOOD_PASSWORD, login, registerUser } from '../../support/auth.js';

let t: TestApp;
beforeAll(async () => {
  // Production's lowest cost: the stored hash and the timing of unknown emails are checked at a cost that matters.
  t = await startTestApp({ env: { BCRYPT_COST: '10' } });
});
afterAll(() => t.close());

const register = (body: unknown) =>
  request(t.app)
    .post('/api/v1/auth/register')
    .send(body as object);
const unique = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;

describe('POST /auth/register', () => {
  it('when the input is valid, creates the account with a bcrypt hash and answers 201 with a session', async () => {
    const email = unique('Ann.Lee');
    const res = await register({ email: `  ${email.toUpperCase()} `, password: GOOD_PASSWORD, name: ' Ann Lee ' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      user: { email: email.toLowerCase(), name: 'Ann Lee', role: 'user' },
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { email: email.toLowerCase() } });
    expect(row.passwordHash).toMatch(/^\$2b\$10\$/); // BCRYPT_COST of the test app
    expect(row.passwordHash).not.toContain(GOOD_PASSWORD);
    const audit = await t.db.prisma.auditLog.findMany({ where: { userId: row.id } });
    expect(audit.map((a) => a.action).sort()).toEqual(['auth.register']);
  });

  it('when the email is taken (in any case or with spaces), answers 409 and creates nothing', async () => {
    const email = unique('taken');
    await registerUser(t, { email });
    const res = await register({ email: ` ${email.toUpperCase()}`, password: GOOD_PASSWORD });
    expect(res.status).toBe(409);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/email-taken$/);
    expect(await t.db.prisma.user.count({ where: { email } })).toBe(1);
  });

  it('when the body tries to set role, status or id (mass assignment), answers 422 and creates nothing', async () => {
    for (const extra of [{ role: 'admin' }, { status: 'active' }, { id: '00000000-0000-4000-8000-000000000000' }]) {
      const email = unique('mass');
      const res = await register({ email, password: GOOD_PASSWORD, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(422);
      expect(JSON.stringify(res.body.errors)).toContain(Object.keys(extra)[0]);
      expect(await t.db.prisma.user.count({ where: { email } })).toBe(0);
    }
  });

  it('when the password is too short, too long, common, a keyboard walk, a repeat or the email, answers 422 naming it', async () => {
    const email = unique('weak');
    const refused = [
      'short-pw1!',
      `${'Ab1!'.repeat(32)}x`,
      'password1234',
      'qwertyuiopasdfgh',
      '1qaz2wsx3edc4rfv',
      'aaaaaaaaaaaaaaaa',
      'abcabcabcabcabc',
      `${email}`,
    ];
    for (const password of refused) {
      const res = await register({ email, password });
      expect(res.status, password).toBe(422);
      expect(res.body.errors[0].path, password).toBe('body.password');
    }
    expect(await t.db.prisma.user.count({ where: { email } })).toBe(0);
  });

  it('when credentials carry injection strings or objects, answers 4xx and never 5xx', async () => {
    const payloads: unknown[] = [
      { email: "' OR '1'='1", password: "' OR '1'='1" },
      { email: 'a@example.com; DROP TABLE users;--', password: GOOD_PASSWORD },
      { email: { $gt: '' }, password: { $ne: null } },
      { email: ['a@example.com'], password: [GOOD_PASSWORD] },
      { email: null, password: 12 },
      // Raw JSON: an object literal's __proto__ would set its prototype instead of sending the key.
      `{"email":"${unique('proto')}","password":"${GOOD_PASSWORD}","__proto__":{"role":"admin"}}`,
      `{"email":"${unique('ctor')}","password":"${GOOD_PASSWORD}","constructor":{"prototype":{"role":"admin"}}}`,
    ];
    for (const body of payloads) {
      for (const path of ['/api/v1/auth/register', '/api/v1/auth/login']) {
        const res = await request(t.app)
          .post(path)
          .send(body as object);
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
    }
    expect(await t.db.prisma.user.count({ where: { role: 'admin' } })).toBe(0);
  });
});

describe('POST /auth/login', () => {
  it('when the credentials are right, answers 200 with a new session, the email matched case-insensitively', async () => {
    const user = await registerUser(t);
    const res = await login(t, ` ${user.email.toUpperCase()} `, user.password);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.user.id).toBe(user.id);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.login' } })).toBe(1);
  });

  it('when the password is wrong or the email unknown, answers the same 401 and audits the failure', async () => {
    const user = await registerUser(t);
    const wrong = await login(t, user.email, 'not-the-right-password-1');
    const unknown = await login(t, unique('nobody'), 'not-the-right-password-1');
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.login_failed' } })).toBe(1);
    const anonymous = await t.db.prisma.auditLog.findFirst({ where: { action: 'auth.login_failed', userId: null } });
    expect(anonymous?.targetType).toBe('email-hmac');
    expect(anonymous?.targetId).not.toContain('@');
  });

  it("when the email is unknown, the answer runs one bcrypt comparison at the accounts' cost, as a wrong password does", async () => {
    const user = await registerUser(t);
    // Counted, not replaced: each comparison still runs. What it proves holds whatever the machine's load, which a
    // stopwatch's comparison of the two answers would not.
    const compare = vi.spyOn(bcrypt, 'compare');
    const costsOf = () => compare.mock.calls.map(([, hash]) => bcrypt.getRounds(hash as string));
    await login(t, user.email, 'not-the-right-password-1');
    const forWrongPassword = costsOf();
    compare.mockClear();
    await login(t, unique('ghost'), 'not-the-right-password-1');
    expect(forWrongPassword).toEqual([t.config.auth.bcryptCost]);
    expect(costsOf()).toEqual(forWrongPassword);
  });

  it('when two passwords share their first 72 bytes, one does not open the account of the other', async () => {
    const prefix = 'Ω-purple-Monkey-dishwasher-88-'.padEnd(72, 'x'); // bcrypt alone reads only these 72 bytes
    expect(Buffer.byteLength(prefix)).toBeGreaterThanOrEqual(72);
    const user = await registerUser(t, { password: `${prefix}A` });
    expect((await login(t, user.email, `${prefix}B`)).status).toBe(401);
    expect((await login(t, user.email, `${prefix}A`)).status).toBe(200);
  });

  it('when the account is suspended, the right password answers 403 and no session is created', async () => {
    const user = await registerUser(t);
    await t.db.prisma.user.update({ where: { id: user.id }, data: { status: 'suspended' } });
    const before = await t.db.prisma.refreshToken.count({ where: { userId: user.id } });
    const res = await login(t, user.email, user.password);
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/account-suspended$/);
    expect(await t.db.prisma.refreshToken.count({ where: { userId: user.id } })).toBe(before);
    // A wrong password still gets the generic answer: suspension is not an oracle for guessers.
    expect((await login(t, user.email, 'not-the-right-password-1')).status).toBe(401);
  });
});

describe('POST /auth/password', () => {
  const change = (token: string, body: object) =>
    request(t.app).post('/api/v1/auth/password').set(bearer(token)).send(body);

  it('when the current password is right and the new one strong, changes it and ends every other session', async () => {
    const user = await registerUser(t);
    const other = await login(t, user.email, user.password);
    const newPassword = 'violet-Tiger-toaster-1977';
    const res = await change(user.accessToken, { currentPassword: user.password, newPassword });
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await request(t.app).get('/api/v1/users/me').set(bearer(other.body.accessToken))).status).toBe(401);
    expect((await request(t.app).get('/api/v1/users/me').set(bearer(user.accessToken))).status).toBe(200);
    expect((await login(t, user.email, user.password)).status).toBe(401);
    expect((await login(t, user.email, newPassword)).status).toBe(200);
    const audit = await t.db.prisma.auditLog.findFirstOrThrow({
      where: { userId: user.id, action: 'auth.password_change' },
    });
    expect(audit.fields).toEqual(['password']);
    expect(JSON.stringify(audit)).not.toContain(newPassword);
  });

  it('when the current password is wrong, answers 422 naming currentPassword and changes nothing', async () => {
    const user = await registerUser(t);
    const res = await change(user.accessToken, {
      currentPassword: 'wrong-password-123',
      newPassword: 'violet-Tiger-toaster-1977',
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'body.currentPassword', message: 'is incorrect' }]);
    expect((await login(t, user.email, user.password)).status).toBe(200);
  });

  it('when the new password is weak or the same, answers 422 naming newPassword', async () => {
    const user = await registerUser(t);
    for (const newPassword of ['password1234', user.password, 'qwertyuiopasdfgh']) {
      const res = await change(user.accessToken, { currentPassword: user.password, newPassword });
      expect(res.status, newPassword).toBe(422);
      expect(res.body.errors[0].path).toBe('body.newPassword');
    }
  });

  it('when not signed in, answers 401', async () => {
    const res = await request(t.app).post('/api/v1/auth/password').send({ currentPassword: 'a', newPassword: 'b' });
    expect(res.status).toBe(401);
  });
});

describe('GET and PATCH /users/me', () => {
  it('when the name is changed, answers the updated account', async () => {
    const user = await registerUser(t, { name: 'Ann' });
    const res = await request(t.app)
      .patch('/api/v1/users/me')
      .set(bearer(user.accessToken))
      .send({ name: ' Ann Lee ' });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Ann Lee');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('when the body tries to change role, status, email or id, answers 422 and changes nothing', async () => {
    const user = await registerUser(t, { name: 'Ann' });
    for (const body of [
      { role: 'admin' },
      { status: 'suspended' },
      { email: 'x@example.com' },
      { name: 'B', role: 'admin' },
      { id: user.id },
    ]) {
      const res = await request(t.app).patch('/api/v1/users/me').set(bearer(user.accessToken)).send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    const row = await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row).toMatchObject({ role: 'user', status: 'active', name: 'Ann', email: user.email });
  });

  it('when the name is empty or too long, answers 422 naming it', async () => {
    const user = await registerUser(t);
    for (const name of ['', '   ', 'x'.repeat(201), 42]) {
      const res = await request(t.app).patch('/api/v1/users/me').set(bearer(user.accessToken)).send({ name });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].path).toBe('body.name');
    }
  });

  it('when not signed in, answers 401 with WWW-Authenticate', async () => {
    const res = await request(t.app).get('/api/v1/users/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});
