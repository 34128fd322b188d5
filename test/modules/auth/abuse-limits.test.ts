import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestAppOptions } from '../../support/app.js';
import { bearer, login, registerUser } from '../../support/auth.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function app(env: Record<string, string>, options: TestAppOptions = {}) {
  t = await startTestApp({ ...options, env: { ...env, ...options.env } });
  return t;
}

const email = () => `limits-${randomUUID()}@example.com`;
const wrongLogin = (a: TestApp, address: string, ip?: string) => {
  const req = request(a.app).post('/api/v1/auth/login');
  if (ip) req.set('X-Forwarded-For', ip);
  return req.send({ email: address, password: 'not-the-right-password-1' });
};

describe('rate-limit headers', () => {
  it('when an API route answers, it carries IETF draft-8 RateLimit headers and no legacy X-RateLimit-*', async () => {
    const a = await app({ RATE_LIMIT_PER_MINUTE: '100' });
    const user = await registerUser(a);
    const res = await request(a.app).get('/api/v1/users/me').set(bearer(user.accessToken));
    expect(res.headers.ratelimit).toMatch(/^"api"; r=\d+; t=\d+$/);
    expect(res.headers['ratelimit-policy']).toMatch(/^"api"; q=100; w=60; pk=:[^:]+:$/);
    expect(Object.keys(res.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
  });
});

describe('API limit (RATE_LIMIT_PER_MINUTE)', () => {
  it('when a user exceeds it, answers 429 problem+json with Retry-After, counted per user not per IP', async () => {
    const a = await app({ RATE_LIMIT_PER_MINUTE: '3' });
    const [first, second] = [await registerUser(a), await registerUser(a)];
    for (let i = 0; i < 3; i += 1) {
      expect((await request(a.app).get('/api/v1/users/me').set(bearer(first.accessToken))).status).toBe(200);
    }
    const limited = await request(a.app).get('/api/v1/users/me').set(bearer(first.accessToken));
    expect(limited.status).toBe(429);
    expect(limited.type).toBe('application/problem+json');
    expect(limited.body.type).toMatch(/rate-limited$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Same IP, another account: its own budget.
    expect((await request(a.app).get('/api/v1/users/me').set(bearer(second.accessToken))).status).toBe(200);
  });
});

describe('credential limits (AUTH_RATE_LIMIT_PER_MINUTE, REGISTER_RATE_LIMIT_PER_HOUR)', () => {
  it('when one IP tries more than the limit of logins, the next is 429 whatever the email', async () => {
    const a = await app({ AUTH_RATE_LIMIT_PER_MINUTE: '5', LOGIN_LOCKOUT_THRESHOLD: '100' });
    for (let i = 0; i < 5; i += 1) expect((await wrongLogin(a, email())).status).toBe(401);
    const res = await wrongLogin(a, email());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.headers.ratelimit).toContain('"login-ip"');
  });

  it('when X-Forwarded-For is forged and no proxy is trusted, one client is still one client', async () => {
    const a = await app({ AUTH_RATE_LIMIT_PER_MINUTE: '5', LOGIN_LOCKOUT_THRESHOLD: '100' });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await wrongLogin(a, email(), `198.51.100.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('when one IP registers more than the hourly limit, the next registration is 429 and creates nothing', async () => {
    const a = await app({ REGISTER_RATE_LIMIT_PER_HOUR: '3' });
    for (let i = 0; i < 3; i += 1) await registerUser(a);
    const address = email();
    const res = await request(a.app)
      .post('/api/v1/auth/register')
      .send({ email: address, password: 'purple-Monkey-dishwasher-88' });
    expect(res.status).toBe(429);
    expect(res.headers.ratelimit).toMatch(/"register-ip"; r=0; t=\d+/);
    expect(await a.db.prisma.user.count({ where: { email: address } })).toBe(0);
  });

  it('when refresh is called more than the limit from one IP, answers 429', async () => {
    const a = await app({ AUTH_RATE_LIMIT_PER_MINUTE: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await request(a.app).post('/api/v1/auth/refresh').send({ refreshToken: 'nope' })).status);
    }
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe('login lockout (LOGIN_LOCKOUT_THRESHOLD, LOGIN_LOCKOUT_MINUTES)', () => {
  it('when an account fails five times from one address, even the right password from there is refused with 429 and Retry-After', async () => {
    const a = await app({ LOGIN_LOCKOUT_THRESHOLD: '5', LOGIN_LOCKOUT_MINUTES: '15' });
    const user = await registerUser(a);
    for (let i = 0; i < 5; i += 1) expect((await wrongLogin(a, user.email)).status).toBe(401);
    const res = await login(a, user.email, user.password);
    expect(res.status).toBe(429);
    expect(res.body.type).toMatch(/login-locked$/);
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(await a.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.login_locked' } })).toBe(1);
  });

  it('when the email has no account, the lockout answer is exactly the same', async () => {
    const a = await app({ LOGIN_LOCKOUT_THRESHOLD: '3' });
    const user = await registerUser(a);
    const ghost = email();
    for (let i = 0; i < 3; i += 1) {
      await wrongLogin(a, user.email);
      await wrongLogin(a, ghost);
    }
    const [real, missing] = [await wrongLogin(a, user.email), await wrongLogin(a, ghost)];
    expect(missing.status).toBe(real.status);
    expect(missing.body.type).toBe(real.body.type);
    expect(missing.body.detail).toBe(real.body.detail);
    expect(Math.abs(Number(missing.headers['retry-after']) - Number(real.headers['retry-after']))).toBeLessThanOrEqual(
      1,
    );
  });

  it('when the lock expires, the right password works again and clears the count', async () => {
    const a = await app({ LOGIN_LOCKOUT_THRESHOLD: '2' });
    const user = await registerUser(a);
    for (let i = 0; i < 2; i += 1) await wrongLogin(a, user.email);
    expect((await login(a, user.email, user.password)).status).toBe(429);
    // Let the lock run out instead of waiting a minute: the counter's own TTL is what ends it.
    const keys = await a.redis?.keys(`${a.config.redis.keyPrefix}login-failures:*:from:*`);
    expect(keys).toHaveLength(1);
    await a.redis?.pexpire(keys?.[0] as string, 1);
    await expect.poll(() => a.redis?.exists(keys?.[0] as string)).toBe(0);
    expect((await login(a, user.email, user.password)).status).toBe(200);
    expect(await a.redis?.exists(keys?.[0] as string)).toBe(0);
  });

  it('when failures are not consecutive (a success in between), no lock happens', async () => {
    const a = await app({ LOGIN_LOCKOUT_THRESHOLD: '3' });
    const user = await registerUser(a);
    for (let i = 0; i < 2; i += 1) await wrongLogin(a, user.email);
    expect((await login(a, user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 2; i += 1) await wrongLogin(a, user.email);
    expect((await login(a, user.email, user.password)).status).toBe(200);
  });
});

describe('an attacker who knows only the email cannot keep its owner out', () => {
  const behindProxy = { TRUST_PROXY: 'loopback', LOGIN_LOCKOUT_THRESHOLD: '5', AUTH_RATE_LIMIT_PER_MINUTE: '5' };
  const loginFrom = (a: TestApp, address: string, password: string, ip: string) =>
    request(a.app).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email: address, password });

  it('when one address keeps failing for an email, it is locked out while the owner signs in from another', async () => {
    const a = await app(behindProxy);
    const user = await registerUser(a);
    const attacker = '203.0.113.7';
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 5; i += 1) {
        const res = await wrongLogin(a, user.email, attacker);
        expect([401, 429]).toContain(res.status);
      }
      const locked = await loginFrom(a, user.email, user.password, attacker);
      expect(locked.status).toBe(429);
      expect(locked.body.type).toMatch(/(login-locked|rate-limited)$/);

      const owner = await loginFrom(a, user.email, user.password, `198.51.100.${20 + round}`);
      expect(owner.status, `owner, round ${round}`).toBe(200);
      expect(owner.body.user.id).toBe(user.id);
    }
    expect(await a.db.prisma.auditLog.count({ where: { userId: user.id, action: 'auth.login' } })).toBe(2);
  });

  it('when an email fails from many addresses past LOGIN_ACCOUNT_THRESHOLD, each address gets one try, and the owner still signs in', async () => {
    const a = await app({ ...behindProxy, AUTH_RATE_LIMIT_PER_MINUTE: '100000', LOGIN_ACCOUNT_THRESHOLD: '6' });
    const user = await registerUser(a);
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      for (let i = 0; i < 3; i += 1) expect((await wrongLogin(a, user.email, ip)).status).toBe(401);
    }
    // Six failures for the email: from now on one failure locks an address (for this email only).
    expect((await wrongLogin(a, user.email, '203.0.113.3')).status).toBe(401);
    expect((await wrongLogin(a, user.email, '203.0.113.3')).status).toBe(429);
    expect((await wrongLogin(a, user.email, '203.0.113.1')).status).toBe(429);
    // Another email from a slowed address is not affected.
    expect((await wrongLogin(a, email(), '203.0.113.3')).status).toBe(401);
    // The owner's first try from an address of their own succeeds.
    expect((await loginFrom(a, user.email, user.password, '198.51.100.9')).status).toBe(200);
  });

  it('when a slowed email has no account, the answers are the same as for one that has', async () => {
    const a = await app({ ...behindProxy, AUTH_RATE_LIMIT_PER_MINUTE: '100000', LOGIN_ACCOUNT_THRESHOLD: '2' });
    const user = await registerUser(a);
    const ghost = email();
    for (const target of [user.email, ghost]) {
      await wrongLogin(a, target, '203.0.113.1');
      await wrongLogin(a, target, '203.0.113.2');
    }
    const [real, missing] = [await wrongLogin(a, user.email, '203.0.113.1'), await wrongLogin(a, ghost, '203.0.113.1')];
    expect([real.status, missing.status]).toEqual([429, 429]);
    expect(missing.body.type).toBe(real.body.type);
    expect(missing.body.detail).toBe(real.body.detail);
  });
});

describe('when Redis fails', () => {
  it('login and registration fail closed with a quick 503, while reads fail open, counted, with the outage logged once', async () => {
    const a = await app({});
    const user = await registerUser(a);
    a.redis?.disconnect(); // Redis gone: every command now fails at once, without waiting for the command timeout

    const started = performance.now();
    const res = await login(a, user.email, user.password);
    expect(res.status).toBe(503);
    expect(res.type).toBe('application/problem+json');
    expect(performance.now() - started).toBeLessThan(a.config.redis.commandTimeoutMs);
    const register = await request(a.app)
      .post('/api/v1/auth/register')
      .send({ email: email(), password: 'purple-Monkey-dishwasher-88' });
    expect(register.status).toBe(503);

    // The session check reads the database instead; the API limit lets the request through.
    const me = await request(a.app).get('/api/v1/users/me').set(bearer(user.accessToken));
    expect(me.status).toBe(200);
    expect(a.logs().filter((l) => l.msg === 'redis unavailable: bypassing it until it answers again')).toHaveLength(1);
    const metrics = await request(a.app).get('/metrics').set(bearer(a.metricsToken));
    expect(metrics.text).toMatch(/mingus_redis_fail_open_total\{limiter="api"\} [1-9]/);
  });

  it('when Redis was never reachable, login answers 503 rather than hanging', async () => {
    const a = await app({}, { redis: 'unreachable' });
    const started = performance.now();
    const res = await request(a.app)
      .post('/api/v1/auth/login')
      .send({ email: email(), password: 'purple-Monkey-dishwasher-88' });
    expect(res.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(a.config.redis.commandTimeoutMs);
  });
});
