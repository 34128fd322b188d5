import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConflictError } from '../../src/http/errors.js';
import { jsonBody } from '../../src/http/json-body.js';
import { problemHandler } from '../../src/http/problem.js';
import { requestId } from '../../src/http/request-id.js';
import { validate } from '../../src/http/validate.js';
import { createDatabase } from '../../src/platform/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDatabase } from '../support/postgres.js';

/**
 * The error handler and validate() are building blocks for every feature route; here they are mounted on a
 * minimal app with routes written for the purpose, exactly as app.ts mounts them.
 */
function appWith(routes: (app: express.Express) => void) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
  const app = express();
  app.use(requestId);
  app.use(jsonBody(100 * 1024));
  routes(app);
  app.use(problemHandler(logger));
  return { app, lines };
}

describe('problemHandler', () => {
  it('when a route throws an unexpected error, answers a generic 500 without stack, logging the stack', async () => {
    const { app, lines } = appWith((a) =>
      a.get('/boom', async () => {
        throw new Error('connection string postgres://user:pw@db leaked?');
      }),
    );
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred. Quote the request id when reporting it.',
      instance: '/boom',
      requestId: res.headers['x-request-id'],
    });
    expect(res.text).not.toMatch(/leaked|at .*\.ts|stack/);
    const logged = JSON.parse(lines.find((l) => l.includes(res.headers['x-request-id'] ?? 'none')) ?? '{}');
    expect(logged.err.stack).toMatch(/leaked/);
  });

  it('when a service throws an AppError, answers its status, code and detail', async () => {
    const { app } = appWith((a) =>
      a.post('/things', () => {
        throw new ConflictError('checkin-exists', 'A check-in already exists for 2026-11-20');
      }),
    );
    const res = await request(app).post('/things').send({});
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: 'https://docs.mingus.app/problems/checkin-exists',
      title: 'Conflict',
      detail: 'A check-in already exists for 2026-11-20',
    });
    expect(res.body.errors).toBeUndefined();
  });
});

describe('problemHandler with library errors', () => {
  it('when a library throws an error with a 4xx status, answers that status generically, never 500', async () => {
    const { app, lines } = appWith((a) =>
      a.get('/lib', () => {
        throw Object.assign(new Error('URIError: Failed to decode param %E0%A4%A'), { status: 400 });
      }),
    );
    const res = await request(app).get('/lib');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'https://docs.mingus.app/problems/bad-request', status: 400 });
    expect(res.text).not.toContain('decode');
    expect(lines.join('')).not.toContain('request failed');
  });

  it('when an error is logged, only its type, message, code and stack are kept (never driver payloads)', async () => {
    const { app, lines } = appWith((a) =>
      a.get('/driver', () => {
        throw Object.assign(new Error('command failed'), {
          code: 'ERR',
          command: { name: 'hset', args: ['k', 'sessionToken', 'driver-secret-value'] },
          detail: 'Key (email)=(someone@example.com) already exists',
        });
      }),
    );
    await request(app).get('/driver').expect(500);
    const logged = lines.join('');
    expect(logged).toContain('command failed');
    expect(logged).not.toContain('driver-secret-value');
    expect(logged).not.toContain('someone@example.com');
  });
});

describe('validate()', () => {
  const create = validate({
    params: z.object({ id: z.uuid() }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
    body: z.strictObject({ stressLevel: z.number().int().min(1).max(10), notes: z.string().max(5).optional() }),
  });
  const { app } = appWith((a) =>
    a.post('/items/:id', create, (req, res) => {
      res.json(create.input(req));
    }),
  );
  const id = '0b7e7c5e-8a39-4f7a-9f59-1a2b3c4d5e6f';

  it('when every part is valid, hands the handler typed, parsed values', async () => {
    const res = await request(app).post(`/items/${id}?limit=5`).send({ stressLevel: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ params: { id }, query: { limit: 5 }, body: { stressLevel: 3 } });
  });

  it('when body and query are wrong, answers 422 listing every field problem', async () => {
    const res = await request(app).post(`/items/${id}?limit=500`).send({ stressLevel: '3', notes: 'far too long' });
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.type).toBe('https://docs.mingus.app/problems/validation-failed');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.notes',
      'body.stressLevel',
      'query.limit',
    ]);
  });

  it('when the body has a field nobody documented, names it', async () => {
    const res = await request(app).post(`/items/${id}`).send({ stressLevel: 3, role: 'admin' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'body', message: expect.stringContaining('role') }]);
  });

  it('when a path parameter is malformed, answers 400 and never reaches the handler', async () => {
    const res = await request(app).post('/items/not-a-uuid').send({ stressLevel: 3 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'params.id', message: expect.any(String) }]);
  });
});

describe('problemHandler and the database', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: ReturnType<typeof createDatabase>;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase({ url: database.url, poolMax: 2, logger: createLogger({ level: 'silent' }) });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  it('when a text the database cannot store (NUL, SQLSTATE 22021) gets past every field check, answers 422 invalid-text, not 500, and stores nothing', async () => {
    const { app, lines } = appWith((a) =>
      a.post('/people', async (req, res) => {
        const { name } = req.body as { name: string };
        res
          .status(201)
          .json(await db.prisma.user.create({ data: { email: 'nul@example.test', passwordHash: 'x', name } }));
      }),
    );
    const res = await request(app).post('/people').send({ name: 'Ann\u0000Lee' });
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({ type: 'https://docs.mingus.app/problems/invalid-text', status: 422 });
    expect(await db.prisma.user.count({ where: { email: 'nul@example.test' } })).toBe(0);
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.map((l) => l.msg)).toContain('a text the database cannot store reached it');
  });
});
