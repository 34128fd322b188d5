import type { MergedOptions } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import { type Contract, createContract, type Mistake } from './contract.js';

const ITEM_ID = '0b6f3c1e-2f4a-4d59-9a57-6a3b1c2d4e5f';
const BASE = 'http://api.test';

/** A small document with what the validator must handle: refs, path-level parameters, security alternatives. */
const DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Contract validator', version: '1' },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      session: { type: 'apiKey', in: 'cookie', name: 'sid' },
      csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
    },
    schemas: {
      Item: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, count: { type: 'integer', minimum: 1 } },
        required: ['id', 'count'],
        additionalProperties: false,
      },
      Problem: { type: 'object', properties: { status: { type: 'integer' } }, required: ['status'] },
    },
    parameters: {
      Limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10 } },
    },
  },
  paths: {
    '/items/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      put: {
        security: [{ bearer: [] }, { session: [], csrf: [] }],
        parameters: [
          { $ref: '#/components/parameters/Limit' },
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 8 } },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } },
        },
        responses: {
          200: {
            description: 'Saved',
            headers: { 'Set-Cookie': { schema: { type: 'string' } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } },
          },
          204: { description: 'Unchanged' },
          '4XX': {
            description: 'A client mistake',
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
    },
  },
};

interface Exchange {
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: unknown;
  status?: number;
  answer?: unknown;
  answerHeaders?: Record<string, string>;
}

/** One call through the contract's middleware, as openapi-fetch makes it; returns the answer the client gets. */
async function exchange(contract: Contract, e: Exchange = {}): Promise<Response> {
  const schemaPath = '/items/{id}';
  const request = new Request(`${BASE}${e.path ?? `/items/${ITEM_ID}`}${e.query ?? ''}`, {
    method: 'PUT',
    headers: { Authorization: 'Bearer token', 'Content-Type': 'application/json', ...e.headers },
    ...(e.body === undefined ? {} : { body: typeof e.body === 'string' ? e.body : JSON.stringify(e.body) }),
  });
  // An empty Authorization stands for none: the call authenticates otherwise, or not at all.
  if (request.headers.get('authorization') === '') request.headers.delete('authorization');
  const status = e.status ?? 200;
  const response = new Response(status === 204 ? null : JSON.stringify(e.answer ?? { id: ITEM_ID, count: 2 }), {
    status,
    headers: { 'Content-Type': 'application/json', ...e.answerHeaders },
  });
  const context = { schemaPath, params: {}, id: String(Math.random()), options: {} as MergedOptions };
  const middleware = contract.middleware;
  await middleware.onRequest?.({ ...context, request });
  const replaced = await middleware.onResponse?.({ ...context, request, response });
  return replaced ?? response;
}

const kindsOf = (contract: Contract) => contract.violations.map((v) => v.kind);
const ITEM = { id: ITEM_ID, count: 2 };
const PROBLEM_422 = {
  status: 422,
  answer: { status: 422 },
  answerHeaders: { 'Content-Type': 'application/problem+json' },
};

describe('the contract validator', () => {
  it('when a call is as documented, records nothing and leaves the answer readable', async () => {
    const contract = createContract(DOCUMENT);
    const answer = await exchange(contract, { body: ITEM, query: '?limit=10', headers: { 'Idempotency-Key': 'k1' } });
    await exchange(contract, {
      body: ITEM,
      headers: { Authorization: '', Cookie: 'sid=s1; other=1', 'X-CSRF-Token': 't' },
      answerHeaders: { 'Set-Cookie': 'sid=s2; Path=/' },
    });
    await exchange(contract, { body: ITEM, status: 204 });
    expect(contract.report()).toEqual([]);
    expect(await answer.json()).toEqual(ITEM);
  });

  it('when the operation is not in the document, records it', async () => {
    const contract = createContract(DOCUMENT);
    const request = new Request(`${BASE}/elsewhere`);
    const context = { schemaPath: '/elsewhere', params: {}, id: '1', options: {} as MergedOptions };
    await contract.middleware.onRequest?.({ ...context, request });
    await contract.middleware.onResponse?.({ ...context, request, response: new Response('{}') });
    expect(contract.report()).toEqual([
      'GET /elsewhere · undocumented operation: GET /elsewhere is not in the document',
    ]);
  });

  it('when no security requirement is met, records what the request sent', async () => {
    const contract = createContract(DOCUMENT);
    await exchange(contract, { body: ITEM, headers: { Authorization: '', Cookie: 'sid=s1' } });
    expect(contract.violations).toEqual([
      {
        call: `PUT /items/${ITEM_ID}`,
        kind: 'request security',
        message:
          'no security requirement of the operation (bearer | session + csrf) is met by the request, which sends the cookies sid',
      },
    ]);
  });

  it('when parameters or headers break their schemas or are not declared, records each', async () => {
    const contract = createContract(DOCUMENT);
    await exchange(contract, {
      path: '/items/not-a-uuid',
      query: '?limit=11&sort=name',
      headers: { 'Idempotency-Key': 'longer-than-8', 'X-Client': 'web' },
      body: ITEM,
    });
    expect(contract.report()).toEqual([
      'PUT /items/not-a-uuid?limit=11&sort=name · request parameter: path id must match format "uuid"',
      'PUT /items/not-a-uuid?limit=11&sort=name · request parameter: query limit must be <= 10',
      'PUT /items/not-a-uuid?limit=11&sort=name · request header: header Idempotency-Key must NOT have more than 8 characters',
      'PUT /items/not-a-uuid?limit=11&sort=name · request parameter: query parameter sort is not declared',
      'PUT /items/not-a-uuid?limit=11&sort=name · request header: header x-client is sent but not declared (parameter or security scheme)',
    ]);
  });

  it('when the body is missing or breaks its schema, records each problem', async () => {
    const contract = createContract(DOCUMENT);
    await exchange(contract);
    await exchange(contract, { body: { id: ITEM_ID, count: 0, extra: true } });
    await exchange(contract, { body: 'count=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(contract.violations.map((v) => v.message)).toEqual([
      'no body, but the document requires one',
      "body has the undeclared property 'extra'",
      'body.count must be >= 1',
      'content type application/x-www-form-urlencoded is not declared (declared: application/json)',
    ]);
  });

  it('when the answer has an undeclared status, content type, cookie or body, records each', async () => {
    const contract = createContract({
      ...DOCUMENT,
      paths: {
        '/items/{id}': {
          ...DOCUMENT.paths['/items/{id}'],
          put: {
            ...DOCUMENT.paths['/items/{id}'].put,
            responses: {
              200: {
                description: 'Saved',
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } },
              },
            },
          },
        },
      },
    });
    await exchange(contract, { body: ITEM, status: 201 });
    await exchange(contract, { body: ITEM, answerHeaders: { 'Content-Type': 'text/plain' } });
    await exchange(contract, { body: ITEM, answer: { id: 'x' }, answerHeaders: { 'Set-Cookie': 'sid=s2; Path=/' } });
    expect(contract.report()).toEqual([
      `PUT /items/${ITEM_ID} → 201 · response status: status 201 is not declared (declared: 200)`,
      `PUT /items/${ITEM_ID} → 200 · response content type: text/plain is not declared for 200 (declared: application/json)`,
      `PUT /items/${ITEM_ID} → 200 · response header: sets the cookies sid, but the response declares no Set-Cookie header`,
      `PUT /items/${ITEM_ID} → 200 · response body: body must have required property 'count'`,
      `PUT /items/${ITEM_ID} → 200 · response body: body.id must match format "uuid"`,
    ]);
  });

  it('when a request sent wrong on purpose breaks the document as expected, records only its other problems', async () => {
    const contract = createContract(DOCUMENT);
    const countZero: Mistake = { breaks: 'request body', what: 'count 0' };
    await contract.mistake(countZero, () =>
      exchange(contract, { body: { id: ITEM_ID, count: 0 }, query: '?limit=0', ...PROBLEM_422 }),
    );
    await contract.mistake(countZero, () => exchange(contract, { body: ITEM, ...PROBLEM_422 }));
    expect(kindsOf(contract)).toEqual(['request parameter', 'client mistake the document allows']);
  });
});
