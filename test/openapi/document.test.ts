import type express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiRouter } from '../../src/http/api-router.js';
import { requireAuth } from '../../src/http/authenticate.js';
import { jsonBody } from '../../src/http/json-body.js';
import { validate } from '../../src/http/validate.js';
import { buildOpenApiDocuments } from '../../src/openapi/document.js';
import { json, operation } from '../../src/openapi/operation.js';
import { TAGS } from '../../src/openapi/tags.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser } from '../support/auth.js';

interface Response {
  description: string;
  headers?: Record<string, unknown>;
}
interface Operation {
  operationId: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { required: boolean };
  responses: Record<string, Response>;
}
type Document = { paths: Record<string, Record<string, Operation>>; tags: { name: string; description: string }[] };

const operationsOf = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, method, path, op })),
  );

const THING = z.object({ name: z.string().max(10) }).meta({ id: 'Thing' });
const SAVE = operation({
  operationId: 'saveThing',
  tag: 'Profile',
  summary: 'Save a thing',
  replies: { 200: json('Saved', THING) },
});

/** The document of a one-route app whose chain is `handlers`. */
function documentOf(...handlers: express.RequestHandler[]) {
  const r = createApiRouter();
  r.post('/things', SAVE, ...handlers, (_req, res) => {
    res.json({ name: 'x' });
  });
  return buildOpenApiDocuments('test', r.routes).client as unknown as Document;
}

describe('the document, derived from the route table', () => {
  it('when a route gains a middleware, its operation gains that middleware answers and nothing else', () => {
    const bare = documentOf().paths['/things']?.post as Operation;
    expect(Object.keys(bare.responses)).toEqual(['200', '500']);
    expect(bare.security).toEqual([{}]);

    const guarded = documentOf(jsonBody(1024), requireAuth(), validate({ body: THING })).paths['/things']
      ?.post as Operation;
    expect(Object.keys(guarded.responses)).toEqual(['200', '400', '401', '403', '413', '415', '422', '500']);
    expect(guarded.security).toEqual([{ bearerAuth: [] }, { cookieSession: [] }]);
    expect(guarded.requestBody?.required).toBe(true);
    expect(guarded.responses['403']?.description).toContain('`api-key-read-only`');
    expect(guarded.responses['401']?.headers).toHaveProperty('WWW-Authenticate');
  });

  it('when a route refuses API keys, its 403 says so', () => {
    const op = documentOf(requireAuth({ apiKeys: false })).paths['/things']?.post as Operation;
    expect(op.responses['403']?.description).toContain('`api-key-not-allowed`');
    expect(op.responses['403']?.description).not.toContain('`api-key-read-only`');
  });

  it('when a body is optional as a whole, the request body is not required', () => {
    const op = documentOf(validate({ body: THING.optional() })).paths['/things']?.post as Operation;
    expect(op.requestBody?.required).toBe(false);
  });

  it('when two routes share an operationId, the document is refused', () => {
    const r = createApiRouter();
    r.get('/a', SAVE, (_req, res) => res.end());
    r.post('/b', SAVE, (_req, res) => res.end());
    expect(() => buildOpenApiDocuments('test', r.routes)).toThrow(/operationId "saveThing"/);
  });
});

let t: TestApp;
let client: Document;
let operator: Document;
beforeAll(async () => {
  t = await startTestApp();
  client = (await request(t.app).get('/openapi.json')).body as Document;
  operator = (await request(t.app).get('/openapi/operator.json')).body as Document;
});
afterAll(() => t.close());

describe('the served documents', () => {
  it('hold each operation once, with a unique camelCase operationId', () => {
    const ids = [...operationsOf(client), ...operationsOf(operator)].map(({ op }) => op.operationId);
    expect(ids.length).toBeGreaterThan(40);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z0-9]*$/);
  });

  it('keep administration, probes, metrics and webhooks out of the client document', () => {
    const clientPaths = Object.keys(client.paths);
    expect(clientPaths.filter((p) => /^\/(health|metrics)|^\/api\/v1\/(admin|webhooks)/.test(p))).toEqual([]);
    expect(clientPaths).toEqual(expect.arrayContaining(['/openapi.json', '/docs', '/api/v1/checkins']));
    expect(Object.keys(operator.paths)).toEqual(
      expect.arrayContaining(['/health/readiness', '/api/v1/admin/users', '/api/v1/webhooks/stripe']),
    );
  });

  it('describe every tag they use', () => {
    for (const doc of [client, operator]) {
      const used = new Set(operationsOf(doc).flatMap(({ op }) => op.tags));
      expect(doc.tags.map((tag) => tag.name).sort()).toEqual([...used].sort());
      for (const tag of doc.tags) expect(tag.description).toBe(TAGS[tag.name as keyof typeof TAGS].description);
    }
  });

  it('document, on every operation that takes a body, malformed JSON (400), 413 and 415', () => {
    const withBody = operationsOf(client).filter(({ op }) => op.requestBody);
    expect(withBody.length).toBeGreaterThan(10);
    for (const { key, op } of withBody) {
      expect(op.responses['400']?.description, key).toContain('`malformed-json`');
      expect(op.responses, key).toHaveProperty('413');
      expect(op.responses, key).toHaveProperty('415');
      expect(typeof op.requestBody?.required, key).toBe('boolean');
    }
  });

  it('document 429 and the RateLimit headers on every /api/v1 answer of the client document, and 500 everywhere', () => {
    for (const { key, path, op } of operationsOf(client)) {
      expect(op.responses, key).toHaveProperty('500');
      if (!path.startsWith('/api/v1')) continue;
      expect(op.responses['429']?.headers, key).toHaveProperty('Retry-After');
      for (const [status, response] of Object.entries(op.responses)) {
        if (/^[24]/.test(status)) expect(response.headers, `${key} ${status}`).toHaveProperty('RateLimit');
      }
    }
  });

  it('declare Idempotency-Key where it is honoured, with Idempotent-Replayed on the success', () => {
    const create = client.paths['/api/v1/checkins']?.post as Operation;
    expect(create.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key' })]));
    expect(create.responses['201']?.headers).toEqual(
      expect.objectContaining({ 'Idempotent-Replayed': expect.anything(), Location: expect.anything() }),
    );
    const patch = client.paths['/api/v1/checkins/{id}']?.patch as Operation;
    expect(patch.parameters?.map((p) => p.name)).not.toContain('Idempotency-Key');
    expect(patch.parameters?.map((p) => p.name)).toContain('X-CSRF-Token');
  });

  it('document web sessions: the cookie scheme, X-Client and the WebSession answer', () => {
    const schemes = (client as unknown as { components: { securitySchemes: Record<string, { in?: string }> } })
      .components.securitySchemes;
    expect(schemes.cookieSession?.in).toBe('cookie');
    const login = client.paths['/api/v1/auth/login']?.post as Operation;
    expect(login.parameters?.map((p) => p.name)).toContain('X-Client');
    expect(JSON.stringify(login.responses['200'])).toContain('#/components/schemas/WebSession');
    const list = client.paths['/api/v1/checkins']?.get as Operation;
    expect(list.security).toEqual(expect.arrayContaining([{ cookieSession: [] }, { bearerAuth: [] }]));
  });

  it('document 422 on refresh and sign-out, and 403 api-key-not-allowed where keys are refused', () => {
    for (const path of ['/api/v1/auth/refresh', '/api/v1/auth/logout']) {
      const op = client.paths[path]?.post as Operation;
      expect(op.responses, path).toHaveProperty('422');
    }
    const keys = client.paths['/api/v1/auth/api-keys']?.post as Operation;
    expect(keys.responses['403']?.description).toContain('`api-key-not-allowed`');
  });

  it('mark public reads with an empty security requirement', () => {
    const plans = client.paths['/api/v1/subscriptions/plans']?.get as Operation;
    expect(plans.security).toEqual([]);
    const document = client.paths['/openapi.json']?.get as Operation;
    expect(document.security).toEqual([]);
  });
});

describe('a method a path does not serve', () => {
  it('when used, answers 405 with the methods it serves in Allow', async () => {
    const res = await request(t.app).put('/api/v1/subscriptions/plans').send({});
    expect(res.status).toBe(405);
    expect(res.type).toBe('application/problem+json');
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(res.body.type).toMatch(/method-not-allowed$/);
    // The 405 carries the rate limit of the route it was matched against, like every /api/v1 answer.
    expect(res.headers.ratelimit).toEqual(expect.any(String));
  });

  it('when the path has a parameter, lists the methods of that path', async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .post('/api/v1/checkins/2b8f3d4e-0c4a-4f57-9f62-5d2f1a7c9e10')
      .set(bearer(user.accessToken))
      .send({});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS, PATCH');
  });

  it('when the path is spelled as Express matches it (another case, a doubled slash), still answers 405', async () => {
    expect((await request(t.app).put('/API/V1/subscriptions/plans')).status).toBe(405);
    expect((await request(t.app).delete('/openapi.json/')).headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('when the path is not served at all, still answers 404', async () => {
    expect((await request(t.app).put('/api/v1/nothing-here')).status).toBe(404);
  });
});

describe('the route table', () => {
  it('when a router gains a route after it was mounted, refuses it (the table would miss it)', () => {
    const parent = createApiRouter();
    const child = createApiRouter();
    parent.mount('/things', child);
    expect(() => child.get('/late', SAVE, (_req, res) => res.end())).toThrow(/after the router was mounted/);
  });

  it('when two routers share a prefix and the first has middleware, refuses the second', () => {
    const parent = createApiRouter();
    const first = createApiRouter();
    first.use(requireAuth());
    parent.mount('/things', first);
    expect(() => parent.mount('/things', createApiRouter())).toThrow(/mounted twice/);
  });
});
