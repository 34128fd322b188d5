import type { AddressInfo } from 'node:net';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../support/auth.js';
import { checkinOn } from '../support/checkins.js';

// Idempotency-Key is exercised through real creating POSTs (reminders, check-ins); the modules' own tests also
// retry their POSTs.
const PATH = '/api/v1/reminders';
const HOUR = 60 * 60 * 1000;
/** An advisory lock key no other test of this database takes. */
const HELD_LOCK = 7_301;

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
const remindersOf = (user: SignedInUser) => t.db.prisma.reminderSchedule.count({ where: { userId: user.id } });
const reminder = (title: string, extra: object = {}) => ({ title, dueDate: '2026-12-01', ...extra });

describe('Idempotency-Key on a creating POST', () => {
  it('when the same request is retried with its key, replays the first answer and creates nothing more', async () => {
    const user = await registerUser(t);
    const first = await post(user, 'retry-1', reminder('Sheet'));
    const again = await post(user, 'retry-1', reminder('Sheet'));
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await remindersOf(user)).toBe(1);
  });

  it('when the same JSON comes with its keys in another order, treats it as the same request', async () => {
    const user = await registerUser(t);
    await post(user, 'order', reminder('Sheet', { channel: 'email' })).expect(201);
    const again = await post(user, 'order', { channel: 'email', dueDate: '2026-12-01', title: 'Sheet' });
    expect(again.status).toBe(201);
    expect(await remindersOf(user)).toBe(1);
  });

  it('when the key is reused with another body, answers 422 and creates nothing', async () => {
    const user = await registerUser(t);
    await post(user, 'reused', reminder('Sheet')).expect(201);
    const res = await post(user, 'reused', reminder('Other'));
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/idempotency-key-reused$/);
    expect(await remindersOf(user)).toBe(1);
  });

  it('when 20 retries with one key race, exactly one runs; the others replay it or answer 409', async () => {
    const user = await registerUser(t);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(user, 'race', reminder('Raced'))));
    const created = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 409);
    expect(created.length + busy.length).toBe(20);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    for (const a of busy) {
      expect(a.body.type).toMatch(/idempotency-in-progress$/);
      expect(a.headers['retry-after']).toBe('1');
    }
    expect(await remindersOf(user)).toBe(1);
  });

  it('when two users send the same key, each gets their own answer', async () => {
    const [a, b] = [await registerUser(t), await registerUser(t)];
    const ra = await post(a, 'shared', reminder('A'));
    const rb = await post(b, 'shared', reminder('B'));
    expect(ra.status).toBe(201);
    expect(rb.status).toBe(201);
    expect(rb.body.id).not.toBe(ra.body.id);
  });

  it('when the first answer was a 4xx, replays that 4xx even after the cause went away', async () => {
    const user = await registerUser(t);
    const checkin = checkinOn('2026-01-15');
    const send = () =>
      request(t.app)
        .post('/api/v1/checkins')
        .set(bearer(user.accessToken))
        .set('Idempotency-Key', 'dup-day')
        .send(checkin);
    const existing = await request(t.app)
      .post('/api/v1/checkins')
      .set(bearer(user.accessToken))
      .send(checkin)
      .expect(201);
    const refused = await send();
    expect(refused.status).toBe(409);
    await request(t.app).delete(`/api/v1/checkins/${existing.body.id}`).set(bearer(user.accessToken)).expect(204);
    const replay = await send();
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual(refused.body);
    expect(replay.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('when the client gives up before the answer, the route still finishes and the retry replays its answer', async () => {
    const user = await registerUser(t);
    // The route's insert waits for a lock this test holds: the client gives up while the route is surely running.
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [HELD_LOCK]);
    await t.db.pool.query(`
      CREATE FUNCTION held_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${HELD_LOCK}); RETURN NEW; END $$;
      CREATE TRIGGER held_reminders BEFORE INSERT ON reminder_schedules FOR EACH ROW EXECUTE FUNCTION held_reminders();`);
    const state = async () =>
      (await t.db.prisma.idempotencyKey.findUnique({ where: { userId_key: { userId: user.id, key: 'impatient' } } }))
        ?.state;
    const poll = { timeout: 10_000 };
    try {
      const { port } = t.app.address() as AddressInfo;
      const giveUp = new AbortController();
      const impatient = fetch(`http://127.0.0.1:${port}${PATH}`, {
        method: 'POST',
        headers: { ...bearer(user.accessToken), 'Content-Type': 'application/json', 'Idempotency-Key': 'impatient' },
        body: JSON.stringify(reminder('Sheet')),
        signal: giveUp.signal,
      });
      await expect.poll(state, poll).toBe('in_progress');
      giveUp.abort();
      await expect(impatient).rejects.toThrow(/abort/i);
      const aborted = () =>
        t.logs().some((l) => l.msg === 'request aborted' && (l.req as { url: string }).url === PATH);
      await expect.poll(aborted, poll).toBe(true);
      await holder.query('SELECT pg_advisory_unlock($1)', [HELD_LOCK]);
      await expect.poll(state, poll).toBe('completed');
    } finally {
      await holder.end();
      await t.db.pool.query('DROP TRIGGER held_reminders ON reminder_schedules; DROP FUNCTION held_reminders();');
    }
    const retry = await post(user, 'impatient', reminder('Sheet'));
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await remindersOf(user)).toBe(1);
  });

  it('when a created resource is replayed, its Location comes back too', async () => {
    const user = await registerUser(t);
    const checkin = checkinOn('2026-01-20');
    const send = () =>
      request(t.app).post('/api/v1/checkins').set(bearer(user.accessToken)).set('Idempotency-Key', 'loc').send(checkin);
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(first.headers.location).toMatch(/\/api\/v1\/checkins\/[0-9a-f-]{36}$/);
    expect(again.headers.location).toBe(first.headers.location);
  });

  it('when an answer is stored, it is encrypted like the data it holds', async () => {
    const user = await registerUser(t);
    await post(user, 'stored', reminder('Call the credit union about the loan')).expect(201);
    const { rows } = await t.db.pool.query<{ body: string }>(
      'SELECT response_body::text AS body FROM idempotency_keys WHERE user_id = $1',
      [user.id],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]?.body ?? '{}').enc).toMatch(/^v1\.t1\./);
    expect(rows[0]?.body).not.toContain('credit union');
  });

  it('when the first attempt failed with a 5xx, stores nothing, so the retry runs again and succeeds', async () => {
    const user = await registerUser(t);
    await t.db.pool.query(`
      CREATE FUNCTION refuse_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated outage'; END $$;
      CREATE TRIGGER refuse_reminders BEFORE INSERT ON reminder_schedules FOR EACH ROW EXECUTE FUNCTION refuse_reminders();`);
    try {
      const failed = await post(user, 'after-5xx', reminder('Sheet'));
      expect(failed.status).toBe(500);
      expect(await t.db.prisma.idempotencyKey.count({ where: { userId: user.id } })).toBe(0);
    } finally {
      await t.db.pool.query('DROP TRIGGER refuse_reminders ON reminder_schedules; DROP FUNCTION refuse_reminders();');
    }
    const retried = await post(user, 'after-5xx', reminder('Sheet'));
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await remindersOf(user)).toBe(1);
  });

  it('when the stored answer is older than 24 hours, the key starts afresh', async () => {
    const user = await registerUser(t);
    await post(user, 'day-old', reminder('Sheet')).expect(201);
    clock += 25 * HOUR;
    try {
      const res = await post(user, 'day-old', reminder('Other name'));
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(await remindersOf(user)).toBe(2);
    } finally {
      clock -= 25 * HOUR;
    }
  });

  it('when a claim was left unanswered by a process that died, a retry five minutes later takes it over', async () => {
    const user = await registerUser(t);
    await t.db.prisma.idempotencyKey.create({
      data: {
        userId: user.id,
        key: 'orphan',
        method: 'POST',
        path: PATH,
        requestHash: 'from-a-dead-process',
        createdAt: new Date(clock - 6 * 60 * 1000),
        expiresAt: new Date(clock + 22 * HOUR),
      },
    });
    const res = await post(user, 'orphan', reminder('Sheet'));
    expect(res.status).toBe(201);
    expect(await remindersOf(user)).toBe(1);
  });

  it('when the key is empty, too long or not visible ASCII, answers 400 naming the header and creates nothing', async () => {
    const user = await registerUser(t);
    for (const key of ['x'.repeat(256), 'has space', 'clé']) {
      const res = await post(user, key, reminder('Sheet'));
      expect(res.status, key).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'header.Idempotency-Key', message: expect.any(String) }]);
    }
    expect(await remindersOf(user)).toBe(0);
  });

  it('when no key is sent, every request runs', async () => {
    const user = await registerUser(t);
    await post(user, undefined, reminder('One')).expect(201);
    await post(user, undefined, reminder('One')).expect(201);
    expect(await remindersOf(user)).toBe(2);
  });
});
