import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_ORIGIN, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';
import { checkinOn } from '../support/checkins.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const PROBLEM = 'application/problem+json';
/** Any /api/v1 route that takes a body: bodies are read there, after the rate limit. */
const BODY_ROUTE = '/api/v1/auth/login';

describe('request bodies', () => {
  it('when the JSON is malformed, answers 400 problem+json without the parser message', async () => {
    const res = await request(t.app).post(BODY_ROUTE).set('Content-Type', 'application/json').send('{"a": ');
    expect(res.status).toBe(400);
    expect(res.type).toBe(PROBLEM);
    expect(res.body).toMatchObject({
      type: 'https://docs.mingus.app/problems/malformed-json',
      title: 'Bad Request',
      status: 400,
      instance: BODY_ROUTE,
    });
    expect(res.body.detail).not.toMatch(/Unexpected|position/);
  });

  it('when the body is a bare JSON value rather than an object or array, answers 400', async () => {
    const res = await request(t.app).post(BODY_ROUTE).set('Content-Type', 'application/json').send('"text"');
    expect(res.status).toBe(400);
    expect(res.body.type).toMatch(/malformed-json$/);
  });

  it('when the body is over 100 kB, answers 413', async () => {
    const res = await request(t.app)
      .post(BODY_ROUTE)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ notes: 'x'.repeat(101 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.type).toBe(PROBLEM);
    expect(res.body.type).toMatch(/payload-too-large$/);
  });

  it('when a body comes with another content type, answers 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await request(t.app).post(BODY_ROUTE).set('Content-Type', type).send('a=1');
      expect(res.status, type).toBe(415);
      expect(res.type).toBe(PROBLEM);
    }
  });

  it('when the JSON charset is not UTF-8, answers 415', async () => {
    const res = await request(t.app)
      .post(BODY_ROUTE)
      .set('Content-Type', 'application/json; charset=latin1')
      .send('{}');
    expect(res.status).toBe(415);
  });

  it.each([
    ['__proto__', '{"__proto__": {"admin": true}}'],
    ['constructor', '{"a": {"constructor": {"prototype": {"admin": true}}}}'],
    ['prototype', '[{"prototype": 1}]'],
  ])('when the body holds a %s key, answers 400 and names the rule', async (_key, body) => {
    const res = await request(t.app).post(BODY_ROUTE).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.type).toMatch(/forbidden-key$/);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('when a request has no body, passes without a content type', async () => {
    const res = await request(t.app).get('/health');
    expect(res.status).toBe(200);
  });
});

describe('routing', () => {
  it('when no route matches, answers 404 problem+json naming the request', async () => {
    const res = await request(t.app).get('/api/v1/nothing-here?x=1');
    expect(res.status).toBe(404);
    expect(res.type).toBe(PROBLEM);
    expect(res.body).toEqual({
      type: 'https://docs.mingus.app/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No resource at GET /api/v1/nothing-here',
      instance: '/api/v1/nothing-here?x=1',
      requestId: res.headers['x-request-id'],
    });
  });

  it('when the method is TRACE, refuses it with 405', async () => {
    const res = await request(t.app).trace('/health');
    expect(res.status).toBe(405);
    expect(res.headers.allow).not.toMatch(/TRACE/);
  });
});

describe('request ids', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('when none is sent, generates a UUID and echoes it', async () => {
    const res = await request(t.app).get('/health');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("when a client sends its own, answers and audits the server's id and logs the client's beside it", async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .post('/api/v1/checkins')
      .set(bearer(user.accessToken))
      .set('X-Request-ID', 'client-123.abc_DEF')
      .send(checkinOn('2024-01-02'));
    expect(res.status).toBe(201);
    const serverId = res.headers['x-request-id'];
    expect(serverId).toMatch(UUID);
    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'checkin.create' } });
    expect(rows.map((r) => r.requestId)).toEqual([serverId]);
    const line = t.logs().find((l) => l.reqId === serverId && l.msg === 'request completed');
    expect(line).toMatchObject({ clientReqId: 'client-123.abc_DEF', res: { statusCode: 201 } });
    expect(t.logs().some((l) => l.reqId === 'client-123.abc_DEF')).toBe(false);
  });

  it("when a problem is answered, its requestId is the server's id, not the client's", async () => {
    const res = await request(t.app).get('/missing').set('X-Request-ID', 'client-404');
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    const line = t.logs().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line).toMatchObject({ level: 'warn', clientReqId: 'client-404', res: { statusCode: 404 } });
  });

  it.each([
    ['too long', 'a'.repeat(100), 'a'.repeat(64)],
    ['with an encoded newline', 'abc%0d%0aX-Injected: 1', 'abc0d0aX-Injected:1'],
    ['with spaces, quotes and markup', 'id "quoted" <script>', 'idquotedscript'],
    ['with nothing usable', '"" <>', undefined],
  ])('when a hostile one is sent (%s), logs it cut and stripped to safe characters', async (_what, hostile, logged) => {
    const res = await request(t.app).get('/health').set('X-Request-ID', hostile);
    expect(res.headers['x-request-id']).toMatch(UUID);
    const line = t.logs().find((l) => l.reqId === res.headers['x-request-id']);
    expect(line?.clientReqId).toBe(logged);
  });
});

describe('access logs', () => {
  it('when a request carries credentials, logs neither them nor the body', async () => {
    await request(t.app)
      .post('/api/v1/auth/login')
      .set('Authorization', 'Bearer secret-access-token-value')
      .set('Cookie', '__Host-session=secret-cookie-value')
      .send({ password: 'secret-password-value' });
    const raw = t.rawLogs();
    expect(raw).not.toContain('secret-access-token-value');
    expect(raw).not.toContain('secret-cookie-value');
    expect(raw).not.toContain('secret-password-value');
  });

  it('when the URL has a query string, logs the path only', async () => {
    await request(t.app).get('/nowhere?token=query-secret-value&password=hunter2').set('X-Request-ID', 'query-log');
    const line = t.logs().find((l) => l.clientReqId === 'query-log');
    expect(line).toMatchObject({ req: { url: '/nowhere' } });
    expect(t.rawLogs()).not.toContain('query-secret-value');
  });

  it('when a request completes, writes one JSON line with method, url, status and request id', async () => {
    const res = await request(t.app).get('/health').set('X-Request-ID', 'log-line-check');
    expect(res.status).toBe(200);
    const lines = t.logs().filter((l) => l.clientReqId === 'log-line-check');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request completed', req: { method: 'GET', url: '/health' } });
  });
});

describe('security headers', () => {
  it('when any response is sent, it forbids framing, sniffing and every content source', async () => {
    const res = await request(t.app).get('/health');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('when not in production, sends no HSTS (development is plain HTTP)', async () => {
    const res = await request(t.app).get('/health');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('CORS', () => {
  it('when the origin is allowed, answers with it and allows credentials', async () => {
    const res = await request(t.app).get('/health').set('Origin', TEST_ORIGIN);
    expect(res.headers['access-control-allow-origin']).toBe(TEST_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
  });

  it('when the origin is unknown, sends no Access-Control-Allow-Origin', async () => {
    const res = await request(t.app).get('/health').set('Origin', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when the origin is refused, still says the answer varies by Origin (no shared cache may reuse it)', async () => {
    const res = await request(t.app).get('/health').set('Origin', 'https://evil.example');
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it('when a preflight comes from an unknown origin, grants nothing', async () => {
    const res = await request(t.app)
      .options('/api/v1/anything')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'DELETE');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('when a preflight comes from an allowed origin, lists the methods and headers', async () => {
    const res = await request(t.app)
      .options('/api/v1/anything')
      .set('Origin', TEST_ORIGIN)
      .set('Access-Control-Request-Method', 'PATCH');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toContain('PATCH');
    expect(res.headers['access-control-allow-headers']).toContain('X-CSRF-Token');
  });
});

describe('the client address in the access log', () => {
  let proxied: TestApp;
  beforeAll(async () => {
    proxied = await startTestApp({ env: { TRUST_PROXY: '1', RATE_LIMIT_PER_MINUTE: '1' } });
  });
  afterAll(() => proxied.close());

  const lineOf = (app: TestApp, reqId: string) => app.logs().find((l) => l.clientReqId === reqId) as { req?: object };

  it('when TRUST_PROXY=1 and the ingress names the client, logs that client: the address its rate limit counts', async () => {
    // Billing is not configured here (503): any /api/v1 answer will do, the limit runs before it.
    const PLANS = '/api/v1/subscriptions/plans';
    const first = await request(proxied.app)
      .get(PLANS)
      .set('X-Forwarded-For', '203.0.113.7')
      .set('X-Request-ID', 'xff-1');
    const second = await request(proxied.app)
      .get(PLANS)
      .set('X-Forwarded-For', '203.0.113.7')
      .set('X-Request-ID', 'xff-2');
    const other = await request(proxied.app)
      .get(PLANS)
      .set('X-Forwarded-For', '198.51.100.9')
      .set('X-Request-ID', 'xff-3');
    expect([first.status, second.status, other.status]).toEqual([503, 429, 503]);
    expect(lineOf(proxied, 'xff-1')).toMatchObject({ req: { remoteAddress: '203.0.113.7' } });
    expect(lineOf(proxied, 'xff-2')).toMatchObject({ req: { remoteAddress: '203.0.113.7' }, res: { statusCode: 429 } });
    expect(lineOf(proxied, 'xff-3')).toMatchObject({ req: { remoteAddress: '198.51.100.9' } });
  });

  it('when no proxy is trusted, logs the peer and ignores a forged X-Forwarded-For', async () => {
    await request(t.app).get('/health').set('X-Forwarded-For', '203.0.113.7').set('X-Request-ID', 'xff-forged');
    const line = lineOf(t, 'xff-forged') as { req: { remoteAddress: string } };
    expect(line.req.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });
});
