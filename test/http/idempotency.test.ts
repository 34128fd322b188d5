import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../support/auth.js';

// Idempotency-Key is exercised through a real creating POST (personal API keys); the check-in and reminder tests
// also retry their own POSTs.
const PATH = '/api/v1/auth/api-keys';
const HOUR = 60 * 60 * 1000;

let t: TestApp;
let clock = Date.now();
beforeAll(async () => {
  t = await startTestApp({ now: () => new Date(clock) });
});
afterAll(() => t.close());

const post = (user: SignedInUser, key: string | undefined, body: object) => {
  const req = request(t.app).post(PATH).set(bearer(user.accessToken));
  return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
};
const keysOf = (user: SignedInUser) => t.db.prisma.apiKey.count({ where: { userId: user.id } });

describe('Idempotency-Key on a creating POST', () => {
  it('when the same request is retried with its key, replays the first answer and creates nothing more', async () => {
    const user = await registerUser(t);
    const first = await post(user, 'retry-1', { name: 'Sheet' });
    const again = await post(user, 'retry-1', { name: 'Sheet' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await keysOf(user)).toBe(1);
  });

  it('when the same JSON comes with its keys in another order, treats it as the same request', async () => {
    const user = await registerUser(t);
    await post(user, 'order', { name: 'Sheet', expiresInDays: 30 }).expect(201);
    const again = await post(user, 'order', { expiresInDays: 30, name: 'Sheet' });
    expect(again.status).toBe(201);
    expect(await keysOf(user)).toBe(1);
  });

  it('when the key is reused with another body, answers 422 and creates nothing', async () => {
    const user = await registerUser(t);
    await post(user, 'reused', { name: 'Sheet' }).expect(201);
    const res = await post(user, 'reused', { name: 'Other' });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/idempotency-key-reused$/);
    expect(await keysOf(user)).toBe(1);
  });

  it('when 20 retries with one key race, exactly one runs; the others replay it or answer 409', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(user, 'race', { name: 'Raced' })));
    const created = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 409);
    expect(created.length + busy.length).toBe(20);
    expect(new Set(created.map((a) => a.body.apiKey.id)).size).toBe(1);
    for (const a of busy) {
      expect(a.body.type).toMatch(/idempotency-in-progress$/);
      expect(a.headers['retry-after']).toBe('1');
    }
    expect(await keysOf(user)).toBe(1);
  });

  it('when two users send the same key, each gets their own answer', async () => {
    const [a, b] = [await registerUser(t), await registerUser(t)];
    const ra = await post(a, 'shared', { name: 'A' });
    const rb = await post(b, 'shared', { name: 'B' });
    expect(ra.status).toBe(201);
    expect(rb.status).toBe(201);
    expect(rb.body.apiKey.id).not.toBe(ra.body.apiKey.id);
  });

  it('when the first answer was a 4xx, replays that 4xx even after the cause went away', async () => {
    const user = await registerUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await post(user, undefined, { name: `k${i}` }).expect(201)).body.apiKey.id);
    const refused = await post(user, 'over-cap', { name: 'eleventh' });
    expect(refused.status).toBe(409);
    await request(t.app).delete(`${PATH}/${ids[0]}`).set(bearer(user.accessToken)).expect(204);
    const replay = await post(user, 'over-cap', { name: 'eleventh' });
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual(refused.body);
    expect(replay.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('when the first attempt failed with a 5xx, stores nothing, so the retry runs again and succeeds', async () => {
    const user = await registerUser(t);
    await t.db.pool.query(`
      CREATE FUNCTION refuse_api_keys() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated outage'; END $$;
      CREATE TRIGGER refuse_api_keys BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION refuse_api_keys();`);
    try {
      const failed = await post(user, 'after-5xx', { name: 'Sheet' });
      expect(failed.status).toBe(500);
      expect(await t.db.prisma.idempotencyKey.count({ where: { userId: user.id } })).toBe(0);
    } finally {
      await t.db.pool.query('DROP TRIGGER refuse_api_keys ON api_keys; DROP FUNCTION refuse_api_keys();');
    }
    const retried = await post(user, 'after-5xx', { name: 'Sheet' });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await keysOf(user)).toBe(1);
  });

  it('when the stored answer is older than 24 hours, the key starts afresh', async () => {
    const user = await registerUser(t);
    await post(user, 'day-old', { name: 'Sheet' }).expect(201);
    clock += 25 * HOUR;
    try {
      const res = await post(user, 'day-old', { name: 'Other name' });
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(await keysOf(user)).toBe(2);
    } finally {
      clock -= 25 * HOUR;
    }
  });

  it('when a claim was left unanswered by a process that died, a retry a minute later takes it over', async () => {
    const user = await registerUser(t);
    await t.db.prisma.idempotencyKey.create({
      data: {
        userId: user.id,
        key: 'orphan',
        method: 'POST',
        path: PATH,
        requestHash: 'from-a-dead-process',
        createdAt: new Date(clock - 2 * 60 * 1000),
        expiresAt: new Date(clock + 22 * HOUR),
      },
    });
    const res = await post(user, 'orphan', { name: 'Sheet' });
    expect(res.status).toBe(201);
    expect(await keysOf(user)).toBe(1);
  });

  it('when the key is empty, too long or not visible ASCII, answers 400 naming the header and creates nothing', async () => {
    const user = await registerUser(t);
    for (const key of ['x'.repeat(256), 'has space', 'clé']) {
      const res = await post(user, key, { name: 'Sheet' });
      expect(res.status, key).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'header.Idempotency-Key', message: expect.any(String) }]);
    }
    expect(await keysOf(user)).toBe(0);
  });

  it('when no key is sent, every request runs', async () => {
    const user = await registerUser(t);
    await post(user, undefined, { name: 'One' }).expect(201);
    await post(user, undefined, { name: 'One' }).expect(201);
    expect(await keysOf(user)).toBe(2);
  });
});
