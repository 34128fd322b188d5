import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerAdmin, registerUser, type SignedInUser } from '../support/auth.js';
import { checkinOn } from '../support/checkins.js';
import { EMPTY_PROFILE_BODY } from '../support/profile.js';

let t: TestApp;
let user: SignedInUser;
let admin: SignedInUser;
beforeAll(async () => {
  t = await startTestApp();
  user = await registerUser(t, { name: 'Ann Lee' });
  admin = await registerAdmin(t);
});
afterAll(() => t.close());

const refusedControl = (res: request.Response, path: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.type).toBe('application/problem+json');
  expect(res.body.type).toBe('https://docs.mingus.app/problems/validation-failed');
  expect(res.body.errors).toEqual([{ path, message: expect.stringMatching(/control character/) }]);
};

describe('control characters in text fields', () => {
  it.each([
    ['NUL', '\u0000'],
    ['escape', '\u001b[2J'],
    ['bell', '\u0007'],
    ['DEL', '\u007f'],
    ['newline (a name is one line)', '\n'],
  ])('when a name holds %s, answers 422 naming body.name and keeps the old name', async (_what, control) => {
    const res = await request(t.app)
      .patch('/api/v1/users/me')
      .set(bearer(user.accessToken))
      .send({ name: `Ann${control}Lee` });
    refusedControl(res, 'body.name');
    expect((await t.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('Ann Lee');
  });

  it('when check-in notes hold NUL, answers 422 naming body.notes and stores no check-in', async () => {
    const res = await request(t.app)
      .post('/api/v1/checkins')
      .set(bearer(user.accessToken))
      .send({ ...checkinOn('2024-03-01'), notes: 'slept badly\u0000' });
    refusedControl(res, 'body.notes');
    expect(await t.db.prisma.userHealthCheckin.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when check-in notes hold tabs and line breaks, stores them as sent: notes are multi-line text', async () => {
    const notes = 'Monday:\r\n\t- paid rent\n\t- slept badly';
    const res = await request(t.app)
      .post('/api/v1/checkins')
      .set(bearer(user.accessToken))
      .send({ ...checkinOn('2024-03-02'), notes });
    expect(res.status).toBe(201);
    const read = await request(t.app).get(`/api/v1/checkins/${res.body.id}`).set(bearer(user.accessToken));
    expect(read.body.notes).toBe(notes);
  });

  it('when a reminder title holds NUL, answers 422 naming body.title and stores no reminder', async () => {
    const res = await request(t.app)
      .post('/api/v1/reminders')
      .set(bearer(user.accessToken))
      .send({ title: 'Pay\u0000rent', dueDate: '2030-01-15' });
    refusedControl(res, 'body.title');
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when a city holds a control character, answers 422 naming body.city', async () => {
    const res = await request(t.app)
      .put('/api/v1/profile')
      .set(bearer(user.accessToken))
      .send({ ...EMPTY_PROFILE_BODY, city: 'Atlanta\u0000' });
    refusedControl(res, 'body.city');
    expect(await t.db.prisma.userProfile.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when a query string holds NUL, answers 422 naming the parameter', async () => {
    const res = await request(t.app).get('/api/v1/admin/users?email=ann%00').set(bearer(admin.accessToken));
    refusedControl(res, 'query.email');
  });
});

type Schema = Record<string, unknown>;
type Document = {
  paths: Record<string, Record<string, { parameters?: Schema[]; requestBody?: Schema; security?: Schema[] }>>;
  components?: { schemas?: Record<string, Schema> };
};

/** Formats whose zod schema refuses any control character by itself. */
const STRICT_FORMATS = new Set(['uuid', 'email', 'date', 'date-time']);
/** Control characters no request string may carry; multi-line text (its own pattern) keeps tab, LF and CR. */
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f'].filter(
  (c) => !['\t', '\n', '\r'].includes(c),
);

/** Where, in the request parts of `doc`, a string accepts a control character: `text()` is missing there. */
function stringsAcceptingControls(doc: Document): string[] {
  const found: string[] = [];
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const name = ref.replace('#/components/schemas/', '');
    return doc.components?.schemas?.[name] ?? {};
  };
  const walk = (node: Schema | undefined, where: string, seen: Set<Schema>): void => {
    if (!node) return;
    const schema = resolve(node);
    if (seen.has(schema)) return;
    const inner = new Set(seen).add(schema);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      for (const [i, option] of ((schema[key] as Schema[] | undefined) ?? []).entries()) {
        walk(option, `${where}|${i}`, inner);
      }
    }
    for (const [name, property] of Object.entries((schema.properties as Record<string, Schema>) ?? {})) {
      walk(property, `${where}.${name}`, inner);
    }
    if (schema.items) walk(schema.items as Schema, `${where}[]`, inner);
    if (typeof schema.additionalProperties === 'object')
      walk(schema.additionalProperties as Schema, `${where}.*`, inner);
    const types = ([] as unknown[]).concat(schema.type ?? []);
    if (!types.includes('string')) return;
    if (schema.enum || schema.const !== undefined || schema['x-opaque'] === true) return;
    if (typeof schema.format === 'string' && STRICT_FORMATS.has(schema.format)) return;
    const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
    const accepts = (value: string) => (pattern ? pattern.test(value) : true);
    if (CONTROLS.some((c) => accepts(c) || accepts(`a${c}`) || accepts(`${c}a`) || accepts(`a${c}a`)))
      found.push(where);
  };
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      // A provider's webhook: its body is documented for the reader, but what is accepted is what its signature
      // covers, sent by the provider; the service parses it with the provider's SDK, not with a request schema.
      if (op.security?.some((s) => 'stripeSignature' in s)) continue;
      for (const parameter of op.parameters ?? []) {
        if (parameter.in === 'query' || parameter.in === 'path') {
          walk(parameter.schema as Schema, `${method} ${path} ${parameter.in}.${parameter.name}`, new Set());
        }
      }
      const content = (op.requestBody?.content ?? {}) as Record<string, { schema?: Schema }>;
      for (const [type, media] of Object.entries(content))
        walk(media.schema, `${method} ${path} body(${type})`, new Set());
    }
  }
  return found;
}

describe('every text a request carries', () => {
  it('when the OpenAPI documents are walked, no request string (body, query or path) accepts a control character', async () => {
    const client = (await request(t.app).get('/openapi.json')).body as Document;
    const operator = (await request(t.app).get('/openapi/operator.json')).body as Document;
    expect(Object.keys(client.paths).length).toBeGreaterThan(20);
    expect(Object.keys(operator.paths).length).toBeGreaterThan(5);
    expect([...stringsAcceptingControls(client), ...stringsAcceptingControls(operator)]).toEqual([]);
  });
});
