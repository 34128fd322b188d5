import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, login, registerUser } from '../../support/auth.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const me = (headers: Record<string, string>) => request(t.app).get('/api/v1/users/me').set(headers);
const claimsOf = (token: string) => jwt.decode(token) as { sub: string; role: string; sid: string };

/** The claims of `base` signed with `secret`, as the service would sign them. */
function resign(base: string, secret: string) {
  const { sub, role, sid } = claimsOf(base);
  const { issuer, audience } = t.config.auth;
  return jwt.sign({ role, sid }, secret, { algorithm: 'HS256', subject: sub, issuer, audience, expiresIn: 900 });
}

describe('access tokens', () => {
  it('when the token is valid, GET /users/me answers the account with its sub, role and sid claims', async () => {
    const user = await registerUser(t);
    const claims = jwt.decode(user.accessToken, { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
    expect(claims.header.alg).toBe('HS256');
    expect(claims.payload).toMatchObject({ sub: user.id, role: 'user', iss: 'mingus-api', aud: 'mingus-clients' });
    expect((claims.payload.exp ?? 0) - (claims.payload.iat ?? 0)).toBe(900);
    const res = await me(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: user.email, role: 'user', status: 'active' });
    expect(res.body).not.toHaveProperty('passwordHash');
  });

  it('when the token says alg none, it is refused', async () => {
    const user = await registerUser(t);
    const { sub, role, sid } = claimsOf(user.accessToken);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({ sub, role: 'admin', sid, iss: 'mingus-api', aud: 'mingus-clients', iat: now, exp: now + 900 }),
    ).toString('base64url');
    expect(role).toBe('user');
    const res = await me(bearer(`${header}.${payload}.`));
    expect(res.status).toBe(401);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/invalid-token$/);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('when the token is signed with another key, it is refused', async () => {
    const user = await registerUser(t);
    expect((await me(bearer(resign(user.accessToken, 'another-secret-of-at-least-32-bytes!!')))).status).toBe(401);
  });

  it('when the payload is tampered with (role raised to admin), the signature no longer matches', async () => {
    const user = await registerUser(t);
    const [header, payload, signature] = user.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const raised = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    expect((await me(bearer(`${header}.${raised}.${signature}`))).status).toBe(401);
  });

  it('when the token has expired, it is refused', async () => {
    const user = await registerUser(t);
    const { sub, role, sid } = claimsOf(user.accessToken);
    const pastToken = jwt.sign(
      { role, sid, iat: Math.floor(Date.now() / 1000) - 1000, exp: Math.floor(Date.now() / 1000) - 60 },
      t.config.auth.jwtSecret,
      { algorithm: 'HS256', subject: sub, issuer: t.config.auth.issuer, audience: t.config.auth.audience },
    );
    expect((await me(bearer(pastToken))).status).toBe(401);
    expect((await me(bearer(resign(user.accessToken, t.config.auth.jwtSecret)))).status).toBe(200);
  });

  it('when the audience or issuer is another service, the token is refused', async () => {
    const user = await registerUser(t);
    const { sub, role, sid } = claimsOf(user.accessToken);
    const sign = (issuer: string, audience: string) =>
      jwt.sign({ role, sid }, t.config.auth.jwtSecret, {
        algorithm: 'HS256',
        subject: sub,
        issuer,
        audience,
        expiresIn: 900,
      });
    expect((await me(bearer(sign(t.config.auth.issuer, 'another-audience')))).status).toBe(401);
    expect((await me(bearer(sign('another-issuer', t.config.auth.audience)))).status).toBe(401);
    expect((await me(bearer(sign(t.config.auth.issuer, t.config.auth.audience)))).status).toBe(200);
  });

  it('when the token has no exp, it is refused even with a good signature and a live session', async () => {
    const user = await registerUser(t);
    const { sub, role, sid } = claimsOf(user.accessToken);
    const { issuer, audience, jwtSecret } = t.config.auth;
    const eternal = jwt.sign({ role, sid }, jwtSecret, { algorithm: 'HS256', subject: sub, issuer, audience });
    expect((jwt.decode(eternal) as jwt.JwtPayload).exp).toBeUndefined();
    const res = await me(bearer(eternal));
    expect(res.status).toBe(401);
    expect(res.body.type).toMatch(/invalid-token$/);
    expect((await me(bearer(user.accessToken))).status).toBe(200);
  });

  it("when the token joins one user's sub to another user's live session, it is refused for both", async () => {
    const [ann, bob] = [await registerUser(t), await registerUser(t)];
    const { issuer, audience, jwtSecret } = t.config.auth;
    const sign = (sub: string, sid: string) =>
      jwt.sign({ role: 'user', sid }, jwtSecret, {
        algorithm: 'HS256',
        subject: sub,
        issuer,
        audience,
        expiresIn: 900,
      });
    const annWithBobsSession = sign(ann.id, claimsOf(bob.accessToken).sid);
    const res = await me(bearer(annWithBobsSession));
    expect(res.status).toBe(401);
    expect(res.body.type).toMatch(/invalid-token$/);
    // Asked again (a cached answer about the session, if any, must not decide differently), and for the other way.
    expect((await me(bearer(annWithBobsSession))).status).toBe(401);
    expect((await me(bearer(sign(bob.id, claimsOf(ann.accessToken).sid)))).status).toBe(401);
    // Each own pair still works.
    expect((await me(bearer(sign(ann.id, claimsOf(ann.accessToken).sid)))).body.id).toBe(ann.id);
    expect((await me(bearer(bob.accessToken))).body.id).toBe(bob.id);
  });

  it('when the claims are not ours (no sid, unknown role), the token is refused even with a good signature', async () => {
    const user = await registerUser(t);
    const { sub } = claimsOf(user.accessToken);
    const opts = {
      algorithm: 'HS256' as const,
      subject: sub,
      issuer: t.config.auth.issuer,
      audience: t.config.auth.audience,
    };
    expect((await me(bearer(jwt.sign({ role: 'user' }, t.config.auth.jwtSecret, opts)))).status).toBe(401);
    const { sid } = claimsOf(user.accessToken);
    expect((await me(bearer(jwt.sign({ role: 'root', sid }, t.config.auth.jwtSecret, opts)))).status).toBe(401);
  });

  it('when a token arrives in the query string, it is ignored (401), never read from there', async () => {
    const user = await registerUser(t);
    for (const name of ['access_token', 'token', 'accessToken']) {
      const res = await request(t.app).get(`/api/v1/users/me?${name}=${user.accessToken}`);
      expect(res.status).toBe(401);
      expect(res.body.type).toMatch(/authentication-required$/);
    }
  });

  it('when the Authorization header is not a bearer token, the request is unauthenticated', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'token xyz']) {
      const res = await me({ Authorization: value });
      expect(res.status, value).toBe(401);
    }
  });
});

describe('refresh tokens', () => {
  it('when a refresh token is used, a new pair is issued in the same session and the old token is spent', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.refreshToken).not.toBe(user.refreshToken);
    expect(claimsOf(res.body.accessToken).sid).toBe(claimsOf(user.accessToken).sid);
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
    const rows = await t.db.prisma.refreshToken.findMany({ where: { userId: user.id } });
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect([user.refreshToken, res.body.refreshToken]).not.toContain(row.tokenHash);
    }
    expect((await me(bearer(res.body.accessToken))).status).toBe(200);
  });

  it('when a spent refresh token is replayed, the whole family is revoked: every token of the session dies', async () => {
    const user = await registerUser(t);
    const first = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    const replay = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.type).toMatch(/invalid-refresh-token$/);
    // The legitimate holder's newer tokens are dead too: the thief and the victim must both sign in again.
    expect(
      (await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: first.body.refreshToken })).status,
    ).toBe(401);
    expect((await me(bearer(first.body.accessToken))).status).toBe(401);
    expect((await me(bearer(user.accessToken))).status).toBe(401);
    const audit = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'auth.refresh_reuse' } });
    expect(audit).toHaveLength(1);
  });

  it('when two requests race with one refresh token, at most one gets a new pair', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 401)).toBe(true);
    const heads = await t.db.prisma.refreshToken.count({
      where: { userId: user.id, replacedById: null, revokedAt: null },
    });
    expect(heads).toBeLessThanOrEqual(1);
  });

  it('when the refresh token is unknown, expired or missing, answers 401', async () => {
    const user = await registerUser(t);
    expect(
      (
        await request(t.app)
          .post('/api/v1/auth/refresh')
          .send({ refreshToken: 'x'.repeat(43) })
      ).status,
    ).toBe(401);
    // No body at all (a client neither mobile nor web): the answer it always had.
    expect((await request(t.app).post('/api/v1/auth/refresh')).status).toBe(401);
    await t.db.prisma.refreshToken.updateMany({
      where: { userId: user.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken })).status).toBe(
      401,
    );
  });

  it('when a mobile client sends a body without refreshToken, answers 422 naming body.refreshToken', async () => {
    const res = await request(t.app).post('/api/v1/auth/refresh').send({});
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.refreshToken']);
  });

  it('when the refresh token lives REFRESH_TOKEN_TTL_DAYS, its expiry says so', async () => {
    const user = await registerUser(t);
    const row = await t.db.prisma.refreshToken.findFirstOrThrow({ where: { userId: user.id } });
    const days = (row.expiresAt.getTime() - row.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(30, 2);
  });
});

describe('logout', () => {
  it('when a session logs out, its access token stops working at once and its refresh token is dead', async () => {
    const user = await registerUser(t);
    const other = await login(t, user.email, user.password);
    const res = await request(t.app).post('/api/v1/auth/logout').send({ refreshToken: user.refreshToken });
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await me(bearer(user.accessToken))).status).toBe(401);
    expect((await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken })).status).toBe(
      401,
    );
    // Another session of the same account is untouched.
    expect((await me(bearer(other.body.accessToken))).status).toBe(200);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.logout' } })).toBe(1);
  });

  it('when logout names an unknown token, answers 204 and changes nothing', async () => {
    const user = await registerUser(t);
    expect((await request(t.app).post('/api/v1/auth/logout').send({ refreshToken: 'unknown-token' })).status).toBe(204);
    expect((await me(bearer(user.accessToken))).status).toBe(200);
  });

  it('when a mobile client sends a body without refreshToken, answers 422 naming body.refreshToken', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).post('/api/v1/auth/logout').set(bearer(user.accessToken)).send({});
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.refreshToken']);
    expect((await me(bearer(user.accessToken))).status).toBe(200);
  });

  it('when logout has neither a body nor a refresh cookie, answers 422 naming body.refreshToken', async () => {
    const res = await request(t.app).post('/api/v1/auth/logout');
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.refreshToken']);
  });

  it('when the document describes refresh and logout, the body is optional and a body needs refreshToken', async () => {
    const document = (await request(t.app).get('/openapi.json')).body;
    for (const [path, schema] of [
      ['/api/v1/auth/refresh', 'Refresh'],
      ['/api/v1/auth/logout', 'Logout'],
    ] as const) {
      const body = document.paths[path].post.requestBody;
      expect(body.required, path).toBe(false);
      expect(body.content['application/json'].schema).toEqual({ $ref: `#/components/schemas/${schema}` });
      expect(document.components.schemas[schema].required, schema).toEqual(['refreshToken']);
    }
  });

  it('when logout-all is called, every access token of every session stops working at once', async () => {
    const user = await registerUser(t);
    const second = await login(t, user.email, user.password);
    const res = await request(t.app).post('/api/v1/auth/logout-all').set(bearer(second.body.accessToken));
    expect(res.status).toBe(204);
    expect((await me(bearer(user.accessToken))).status).toBe(401);
    expect((await me(bearer(second.body.accessToken))).status).toBe(401);
    for (const token of [user.refreshToken, second.body.refreshToken]) {
      expect((await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: token })).status).toBe(401);
    }
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.logout_all' } })).toBe(1);
  });

  it('when the session cache in Redis is lost, a revoked session stays revoked (the database decides)', async () => {
    const user = await registerUser(t);
    await request(t.app).post('/api/v1/auth/logout').send({ refreshToken: user.refreshToken });
    const keys = await t.redis?.keys(`${t.config.redis.keyPrefix}session:*`);
    if (keys?.length) await t.redis?.del(...keys);
    expect((await me(bearer(user.accessToken))).status).toBe(401);
  });
});

describe('revocation is final for a whole session', () => {
  it('when any token of a session was revoked (a revocation racing a refresh), its newest token and access token die too', async () => {
    const user = await registerUser(t);
    const rotated = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken });
    expect(rotated.status).toBe(200);
    // What a logout that raced the refresh leaves behind: the spent token revoked, its successor untouched.
    await t.db.prisma.refreshToken.updateMany({
      where: { userId: user.id, replacedById: { not: null } },
      data: { revokedAt: new Date() },
    });
    const keys = await t.redis?.keys(`${t.config.redis.keyPrefix}session:*`);
    if (keys?.length) await t.redis?.del(...keys);
    expect((await me(bearer(rotated.body.accessToken))).status).toBe(401);
    const refresh = await request(t.app).post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken });
    expect(refresh.status).toBe(401);
  });
});
