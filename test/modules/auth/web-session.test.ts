import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const WEB = { 'X-Client': 'web' };

/** The cookies a response set, by name, with their raw attribute strings. */
function setCookies(res: request.Response): Map<string, { value: string; attributes: string }> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return new Map(
    (raw ?? []).map((line) => {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      return [pair.slice(0, at), { value: decodeURIComponent(pair.slice(at + 1)), attributes: attributes.join(';') }];
    }),
  );
}

interface WebSession {
  cookie: string;
  refreshCookie: string;
  csrfToken: string;
  jar: Map<string, { value: string; attributes: string }>;
}

async function webLogin(user: SignedInUser): Promise<WebSession> {
  const res = await request(t.app)
    .post('/api/v1/auth/login')
    .set(WEB)
    .send({ email: user.email, password: user.password });
  expect(res.status).toBe(200);
  const jar = setCookies(res);
  const value = (name: string) => jar.get(name)?.value ?? '';
  return {
    jar,
    csrfToken: res.body.csrfToken,
    cookie: `__Host-mingus-access=${value('__Host-mingus-access')}; __Host-mingus-csrf=${value('__Host-mingus-csrf')}`,
    refreshCookie: `__Secure-mingus-refresh=${value('__Secure-mingus-refresh')}; __Host-mingus-csrf=${value('__Host-mingus-csrf')}`,
  };
}

describe('web sign-in (X-Client: web)', () => {
  it('when a web client signs in, the tokens go into HttpOnly, Secure, SameSite=Strict cookies and never the body', async () => {
    const user = await registerUser(t);
    const session = await webLogin(user);
    const access = session.jar.get('__Host-mingus-access');
    const refresh = session.jar.get('__Secure-mingus-refresh');
    const csrf = session.jar.get('__Host-mingus-csrf');
    for (const cookie of [access, refresh, csrf]) {
      expect(cookie?.attributes).toMatch(/HttpOnly/);
      expect(cookie?.attributes).toMatch(/Secure/);
      expect(cookie?.attributes).toMatch(/SameSite=Strict/);
    }
    expect(access?.attributes).toMatch(/Path=\/(;|$)/);
    expect(access?.attributes).not.toMatch(/Domain=/);
    expect(refresh?.attributes).toMatch(/Path=\/api\/v1\/auth/);
    const login = await request(t.app)
      .post('/api/v1/auth/login')
      .set(WEB)
      .send({ email: user.email, password: user.password });
    expect(Object.keys(login.body).sort()).toEqual(['csrfToken', 'expiresIn', 'user']);
    expect(JSON.stringify(login.body)).not.toContain(session.jar.get('__Host-mingus-access')?.value);
  });

  it('when registering as a web client, the answer is 201 with cookies and no tokens in the body', async () => {
    const res = await request(t.app)
      .post('/api/v1/auth/register')
      .set(WEB)
      .send({ email: `web-${Date.now()}@example.com`, password: 'purple-Monkey-dishwasher-88' });
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('accessToken');
    expect(res.body).not.toHaveProperty('refreshToken');
    expect(setCookies(res).has('__Host-mingus-access')).toBe(true);
  });

  it('when the session cookie is sent, reads work without a CSRF token', async () => {
    const session = await webLogin(await registerUser(t));
    const res = await request(t.app).get('/api/v1/users/me').set('Cookie', session.cookie);
    expect(res.status).toBe(200);
  });
});

describe('CSRF on cookie sessions', () => {
  const patchMe = (cookie: string, csrf?: string) => {
    const req = request(t.app).patch('/api/v1/users/me').set('Cookie', cookie);
    if (csrf !== undefined) req.set('X-CSRF-Token', csrf);
    return req.send({ name: 'Changed' });
  };

  it('when a cookie-authenticated write has no X-CSRF-Token, answers 403 problem+json and changes nothing', async () => {
    const user = await registerUser(t, { name: 'Original' });
    const session = await webLogin(user);
    const res = await patchMe(session.cookie);
    expect(res.status).toBe(403);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toMatch(/csrf-token-invalid$/);
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('Original');
  });

  it('when the X-CSRF-Token is wrong, answers 403', async () => {
    const session = await webLogin(await registerUser(t));
    expect((await patchMe(session.cookie, 'forged-token')).status).toBe(403);
    expect((await patchMe(session.cookie, `${session.csrfToken}x`)).status).toBe(403);
  });

  it('when the token (and its cookie) come from another session, answers 403', async () => {
    const victim = await webLogin(await registerUser(t));
    const attacker = await webLogin(await registerUser(t));
    const accessOnly = victim.cookie.split(';')[0];
    const attackerCsrfCookie = attacker.cookie.split(';')[1];
    expect((await patchMe(`${accessOnly};${attackerCsrfCookie}`, attacker.csrfToken)).status).toBe(403);
  });

  it('when the token is valid, the write goes through', async () => {
    const session = await webLogin(await registerUser(t));
    const res = await patchMe(session.cookie, session.csrfToken);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Changed');
  });

  it('when GET /auth/csrf is called, issues a token bound to the session that then works', async () => {
    const session = await webLogin(await registerUser(t));
    const res = await request(t.app).get('/api/v1/auth/csrf').set('Cookie', session.cookie);
    expect(res.status).toBe(200);
    const csrfCookie = setCookies(res).get('__Host-mingus-csrf')?.value;
    expect(csrfCookie).toBe(res.body.csrfToken);
    const cookie = `${session.cookie.split(';')[0]}; __Host-mingus-csrf=${csrfCookie}`;
    expect((await patchMe(cookie, res.body.csrfToken)).status).toBe(200);
  });

  it('when a page comes back with its refresh and CSRF cookies only, GET /auth/csrf hands back the token that lets it refresh', async () => {
    // A reload after the access cookie expired, or a browser restart: the page's token is gone, both 30-day
    // cookies are not. The CSRF cookie must be this session's: the token handed back is that cookie's.
    const session = await webLogin(await registerUser(t));
    const res = await request(t.app).get('/api/v1/auth/csrf').set('Cookie', session.refreshCookie);
    expect(res.status).toBe(200);
    expect(res.body.csrfToken).toBe(session.csrfToken);
    expect(session.jar.get('__Host-mingus-csrf')?.attributes).toMatch(/Max-Age=2592000/);
    const refreshed = await request(t.app)
      .post('/api/v1/auth/refresh')
      .set(WEB)
      .set('Cookie', session.refreshCookie)
      .set('X-CSRF-Token', res.body.csrfToken);
    expect(refreshed.status).toBe(200);
    expect(setCookies(refreshed).get('__Host-mingus-access')?.value).toEqual(expect.any(String));
  });

  it("when the refresh cookie comes without its session's CSRF cookie (one planted by another host of the site), the session is not resumed", async () => {
    const victim = await webLogin(await registerUser(t));
    const attacker = await webLogin(await registerUser(t));
    const refreshOf = (s: WebSession) => s.refreshCookie.split(';')[0] as string;
    const csrfOf = (s: WebSession) => `__Host-mingus-csrf=${s.jar.get('__Host-mingus-csrf')?.value}`;
    for (const cookie of [refreshOf(attacker), `${refreshOf(attacker)}; ${csrfOf(victim)}`]) {
      const res = await request(t.app).get('/api/v1/auth/csrf').set('Cookie', cookie);
      expect(res.status, cookie).toBe(401);
      expect(res.body.type).toMatch(/invalid-refresh-token$/);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('when the refresh cookie is spent or unknown and no session is signed in, GET /auth/csrf answers 401', async () => {
    const session = await webLogin(await registerUser(t));
    const rotated = await request(t.app)
      .post('/api/v1/auth/refresh')
      .set(WEB)
      .set('Cookie', session.refreshCookie)
      .set('X-CSRF-Token', session.csrfToken);
    expect(rotated.status).toBe(200);
    for (const cookie of [session.refreshCookie, '__Secure-mingus-refresh=made-up', '']) {
      const res = await request(t.app).get('/api/v1/auth/csrf').set('Cookie', cookie);
      expect(res.status, cookie).toBe(401);
      expect(res.type).toBe('application/problem+json');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const stale = await request(t.app).get('/api/v1/auth/csrf').set('Authorization', 'Bearer not-a-token');
    expect(stale.status).toBe(401);
    expect(stale.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('when a signed-in page asks for the CSRF token again, it gets the one it holds (other tabs keep theirs)', async () => {
    const session = await webLogin(await registerUser(t));
    const res = await request(t.app).get('/api/v1/auth/csrf').set('Cookie', session.cookie);
    expect(res.status).toBe(200);
    expect(res.body.csrfToken).toBe(session.csrfToken);
  });

  it('when a bearer token authenticates the write, no CSRF token is needed', async () => {
    const user = await registerUser(t);
    const res = await request(t.app).patch('/api/v1/users/me').set(bearer(user.accessToken)).send({ name: 'Bearer' });
    expect(res.status).toBe(200);
  });

  it('when a web client refreshes with its cookie, a CSRF token is required and the cookies rotate', async () => {
    const session = await webLogin(await registerUser(t));
    const refresh = (csrf?: string) => {
      const req = request(t.app).post('/api/v1/auth/refresh').set(WEB).set('Cookie', session.refreshCookie);
      return csrf ? req.set('X-CSRF-Token', csrf) : req;
    };
    expect((await refresh()).status).toBe(403);
    const res = await refresh(session.csrfToken);
    expect(res.status).toBe(200);
    const jar = setCookies(res);
    expect(jar.get('__Secure-mingus-refresh')?.value).not.toBe(session.jar.get('__Secure-mingus-refresh')?.value);
    expect(res.body).not.toHaveProperty('refreshToken');
    expect(res.body.csrfToken).toEqual(expect.any(String));
    expect(res.body.csrfToken).not.toBe(session.csrfToken);
  });

  it('when a refresh cookie that names no session comes to sign-out, only the web app (X-Client: web) gets the cookies cleared', async () => {
    // A junk refresh cookie planted by another host of the site, and a plain form post: nothing to end, and the
    // user's own cookies stay.
    const junk = '__Secure-mingus-refresh=planted-by-a-sibling';
    const forged = await request(t.app).post('/api/v1/auth/logout').set('Cookie', junk);
    expect(forged.status).toBe(204);
    expect(forged.headers['set-cookie']).toBeUndefined();
    const web = await request(t.app).post('/api/v1/auth/logout').set(WEB).set('Cookie', junk);
    expect(web.status).toBe(204);
    expect(setCookies(web).get('__Host-mingus-access')?.attributes).toMatch(/Expires=Thu, 01 Jan 1970/);
  });

  it('when a web client logs out with its cookie and no body, its cookies are cleared and its session ends', async () => {
    const session = await webLogin(await registerUser(t));
    const noCsrf = await request(t.app).post('/api/v1/auth/logout').set(WEB).set('Cookie', session.refreshCookie);
    expect(noCsrf.status).toBe(403);
    const res = await request(t.app)
      .post('/api/v1/auth/logout')
      .set(WEB)
      .set('Cookie', session.refreshCookie)
      .set('X-CSRF-Token', session.csrfToken);
    expect(res.status).toBe(204);
    const cleared = setCookies(res);
    expect(cleared.get('__Host-mingus-access')?.attributes).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await request(t.app).get('/api/v1/users/me').set('Cookie', session.cookie)).status).toBe(401);
  });

  it('when the access cookie is stale, public routes such as login still work', async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .post('/api/v1/auth/login')
      .set('Cookie', '__Host-mingus-access=stale.garbage.token')
      .send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
  });
});
