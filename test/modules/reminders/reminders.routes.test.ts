import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCursors } from '../../../src/http/pagination.js';
import { createRemindersPrivacySection } from '../../../src/modules/reminders/reminders.privacy.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

const BASE = '/api/v1/reminders';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

interface ReminderBody {
  id: string;
  title: string;
  dueDate: string;
  completedAt: string | null;
}

async function created(user: SignedInUser, body: Record<string, unknown>): Promise<ReminderBody> {
  const res = await request(t.app).post(BASE).set(bearer(user.accessToken)).send(body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const list = (user: SignedInUser, query: Record<string, string> = {}) =>
  request(t.app).get(BASE).query(query).set(bearer(user.accessToken));

const patch = (user: SignedInUser, id: string, body: Record<string, unknown>) =>
  request(t.app).patch(`${BASE}/${id}`).set(bearer(user.accessToken)).send(body);

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((r) => r.id);

/** The calendar day `days` after today (UTC), as the API writes dates. */
const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('POST /api/v1/reminders', () => {
  it('when valid, answers 201 with defaults (no recurrence, push) and a trimmed title', async () => {
    const user = await registerUser(t);
    const res = await request(t.app)
      .post(BASE)
      .set(bearer(user.accessToken))
      .send({ title: '  Pay rent  ', dueDate: '2026-12-01' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      title: 'Pay rent',
      dueDate: '2026-12-01',
      recurrence: 'none',
      channel: 'push',
      completedAt: null,
      previousId: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = await t.db.prisma.reminderSchedule.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row).toEqual(expect.objectContaining({ userId: user.id, title: 'Pay rent', anchorDay: 1 }));
  });

  it('when created, records reminder.create naming the fields, never their values', async () => {
    const user = await registerUser(t);
    // Weeks from today: the audit row's own createdAt can never hold this date.
    const dueDate = dayFromToday(40);
    const r = await created(user, { title: 'Call the credit union', dueDate, recurrence: 'weekly', channel: 'email' });
    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'reminder.create' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual(
      expect.objectContaining({
        targetType: 'reminder',
        targetId: r.id,
        fields: ['title', 'dueDate', 'recurrence', 'channel'],
      }),
    );
    const text = JSON.stringify(rows);
    for (const value of ['credit union', dueDate, 'weekly', 'email']) expect(text).not.toContain(value);
  });

  it.each([
    ['no title', { dueDate: '2026-12-01' }, 'body.title'],
    ['a blank title', { title: '   ', dueDate: '2026-12-01' }, 'body.title'],
    ['a title over 200 characters', { title: 'x'.repeat(201), dueDate: '2026-12-01' }, 'body.title'],
    ['a title that is not text', { title: 42, dueDate: '2026-12-01' }, 'body.title'],
    ['no due date', { title: 'x' }, 'body.dueDate'],
    ['Feb 30', { title: 'x', dueDate: '2026-02-30' }, 'body.dueDate'],
    ['Feb 29 of a common year', { title: 'x', dueDate: '2027-02-29' }, 'body.dueDate'],
    ['month 13', { title: 'x', dueDate: '2026-13-01' }, 'body.dueDate'],
    ['an unpadded date', { title: 'x', dueDate: '2026-1-5' }, 'body.dueDate'],
    ['an instant for a date', { title: 'x', dueDate: '2026-12-01T00:00:00Z' }, 'body.dueDate'],
    ['a number for a date', { title: 'x', dueDate: 20261201 }, 'body.dueDate'],
    ['a date after 2999', { title: 'x', dueDate: '3000-01-01' }, 'body.dueDate'],
    ['a date before 1970', { title: 'x', dueDate: '1969-12-31' }, 'body.dueDate'],
    ['an unknown recurrence', { title: 'x', dueDate: '2026-12-01', recurrence: 'yearly' }, 'body.recurrence'],
    ['an unknown channel', { title: 'x', dueDate: '2026-12-01', channel: 'sms' }, 'body.channel'],
    ['an unknown field', { title: 'x', dueDate: '2026-12-01', userId: randomUUID() }, 'body'],
    ['completedAt (set it with PATCH)', { title: 'x', dueDate: '2026-12-01', completedAt: null }, 'body'],
  ])('when given %s, answers 422 naming the field and stores nothing', async (_, body, path) => {
    const user = await registerUser(t);
    const res = await request(t.app).post(BASE).set(bearer(user.accessToken)).send(body);
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: user.id } })).toBe(0);
  });

  it('when Feb 29 of a leap year, accepts it', async () => {
    const user = await registerUser(t);
    expect((await created(user, { title: 'Leap', dueDate: '2028-02-29' })).dueDate).toBe('2028-02-29');
  });

  it('when retried with the same Idempotency-Key, replays the answer and creates one reminder', async () => {
    const user = await registerUser(t);
    const send = () =>
      request(t.app)
        .post(BASE)
        .set(bearer(user.accessToken))
        .set('Idempotency-Key', 'rent-reminder')
        .send({ title: 'Pay rent', dueDate: '2026-12-01' });
    const [a, b] = [await send(), await send()];
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: user.id } })).toBe(1);
  });

  it('when authenticated with an API key, can list but not create (403)', async () => {
    const user = await registerUser(t);
    const key = await request(t.app)
      .post('/api/v1/auth/api-keys')
      .set(bearer(user.accessToken))
      .send({ name: 'k', password: user.password });
    const post = await request(t.app).post(BASE).set(bearer(key.body.key)).send({ title: 'x', dueDate: '2026-12-01' });
    expect(post.status).toBe(403);
    expect((await request(t.app).get(BASE).set(bearer(key.body.key))).status).toBe(200);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).post(BASE).send({ title: 'x', dueDate: '2026-12-01' })).status).toBe(401);
    expect((await request(t.app).get(BASE)).status).toBe(401);
  });
});

describe('GET /api/v1/reminders', () => {
  async function seed(user: SignedInUser) {
    const later = await created(user, { title: 'later', dueDate: '2026-12-20' });
    const soon = await created(user, { title: 'soon', dueDate: '2026-12-05' });
    const done = await created(user, { title: 'done', dueDate: '2026-12-10' });
    await patch(user, done.id, { completedAt: new Date(Date.now() - 86_400_000).toISOString() }).expect(200);
    return { later, soon, done };
  }

  it('when no status is given, lists only pending reminders of the caller, soonest due first', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { later, soon } = await seed(user);
    await created(other, { title: 'not yours', dueDate: '2026-12-01' });
    const res = await list(user);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([soon.id, later.id]);
    expect(res.body.nextCursor).toBeNull();
  });

  it('when status is completed or all, lists those', async () => {
    const user = await registerUser(t);
    const { later, soon, done } = await seed(user);
    expect(ids(await list(user, { status: 'completed' }))).toEqual([done.id]);
    expect(ids(await list(user, { status: 'all' }))).toEqual([soon.id, done.id, later.id]);
  });

  it('when from and to are given, lists reminders due between them, both days included', async () => {
    const user = await registerUser(t);
    const { later, soon, done } = await seed(user);
    expect(ids(await list(user, { status: 'all', from: '2026-12-05', to: '2026-12-10' }))).toEqual([soon.id, done.id]);
    expect(ids(await list(user, { from: '2026-12-06' }))).toEqual([later.id]);
    expect(ids(await list(user, { to: '2026-12-05' }))).toEqual([soon.id]);
  });

  it.each([
    [{ from: '2026-12-10', to: '2026-12-09' }, 'query.to'],
    [{ from: '2026-02-30' }, 'query.from'],
    [{ to: 'tomorrow' }, 'query.to'],
    [{ status: 'done' }, 'query.status'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '-1' }, 'query.limit'],
  ])('when the query is %j, answers 422 naming %s', async (query, path) => {
    const user = await registerUser(t);
    const res = await list(user, query);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('when many reminders share a due date, pages through all of them once each in (due date, id) order', async () => {
    const user = await registerUser(t);
    const dates = ['2026-12-02', '2026-12-01', '2026-12-02', '2026-12-02', '2026-12-03', '2026-12-02', '2026-12-01'];
    for (const [i, dueDate] of dates.entries()) await created(user, { title: `r${i}`, dueDate });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await list(user, { limit: '2', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...ids(res));
      cursor = res.body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    const rows = await t.db.prisma.reminderSchedule.findMany({
      where: { userId: user.id },
      orderBy: [{ dueDate: 'asc' }, { id: 'asc' }],
    });
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('when the cursor is tampered with, junk, or not of this list, answers 400', async () => {
    const user = await registerUser(t);
    for (const d of ['2026-12-01', '2026-12-02']) await created(user, { title: 'x', dueDate: d });
    const page = await list(user, { limit: '1' });
    const cursor = page.body.nextCursor as string;
    const [body, mac] = cursor.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify(['2020-01-01', randomUUID()])).toString('base64url');
    // A genuine signature over an instant: a cursor of a list ordered on createdAt, replayed here.
    const instant = createCursors(t.config.auth.jwtSecret).encode({
      key: '2026-11-25T09:30:00.000Z',
      id: randomUUID(),
    });
    for (const c of [`${forgedBody}.${mac}`, `${body}.${mac.slice(0, -2)}`, 'junk', instant]) {
      const res = await list(user, { cursor: c });
      expect(res.status, c).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-cursor$/);
    }
  });
});

describe('PATCH /api/v1/reminders/:id', () => {
  it('when changing fields, answers 200 with the reminder and audits the changed field names only', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Pay rent', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, { title: ' Pay rent early ', channel: 'email', recurrence: undefined });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({ id: r.id, title: 'Pay rent early', channel: 'email', dueDate: '2026-12-01' }),
    );
    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'reminder.update' } });
    expect(rows.map((a) => a.fields)).toEqual([['title', 'channel']]);
    expect(JSON.stringify(rows)).not.toContain('early');
  });

  it('when the due date moves, the monthly anchor moves with it', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-31', recurrence: 'monthly' });
    await patch(user, r.id, { dueDate: '2027-01-15' }).expect(200);
    const row = await t.db.prisma.reminderSchedule.findUniqueOrThrow({ where: { id: r.id } });
    expect(row.anchorDay).toBe(15);
  });

  it('when nothing actually changes, answers 200 and records nothing', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Same', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, { title: 'Same', dueDate: '2026-12-01', completedAt: null });
    expect(res.status).toBe(200);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'reminder.update' } })).toBe(0);
  });

  it.each([
    ['an empty body', {}, 'body'],
    ['a blank title', { title: ' ' }, 'body.title'],
    ['an impossible date', { dueDate: '2026-04-31' }, 'body.dueDate'],
    ['an unknown recurrence', { recurrence: 'hourly' }, 'body.recurrence'],
    ['an unknown channel', { channel: 'pigeon' }, 'body.channel'],
    ['completedAt that is not an instant', { completedAt: '2026-12-01' }, 'body.completedAt'],
    ['completedAt as true', { completedAt: true }, 'body.completedAt'],
    ['completedAt an hour ahead', { completedAt: new Date(Date.now() + 3_600_000).toISOString() }, 'body.completedAt'],
    ['an unknown field', { previousId: randomUUID() }, 'body'],
  ])('when given %s, answers 422 naming the field and changes nothing', async (_, body, path) => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Keep', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, body);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    const row = await t.db.prisma.reminderSchedule.findUniqueOrThrow({ where: { id: r.id } });
    expect(row).toEqual(
      expect.objectContaining({ title: 'Keep', completedAt: null, channel: 'push', recurrence: 'none' }),
    );
  });

  it("when the id is another user's or unknown, answers 404 and changes nothing; when malformed, 400", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const theirs = await created(other, { title: 'Theirs', dueDate: '2026-12-01' });
    for (const id of [theirs.id, randomUUID()]) {
      const res = await patch(user, id, { title: 'Mine now' });
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/problem+json');
    }
    expect((await t.db.prisma.reminderSchedule.findUniqueOrThrow({ where: { id: theirs.id } })).title).toBe('Theirs');
    for (const id of ['not-a-uuid', '1', `${theirs.id}x`]) {
      expect((await patch(user, id, { title: 'x' })).status, id).toBe(400);
    }
  });
});

describe('DELETE /api/v1/reminders/:id', () => {
  it('when the reminder is yours, answers 204, removes it and audits the deletion', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Gone', dueDate: '2026-12-01' });
    const res = await request(t.app).delete(`${BASE}/${r.id}`).set(bearer(user.accessToken));
    expect(res.status).toBe(204);
    expect(await t.db.prisma.reminderSchedule.count({ where: { id: r.id } })).toBe(0);
    const rows = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'reminder.delete' } });
    expect(rows).toEqual([expect.objectContaining({ targetType: 'reminder', targetId: r.id, fields: [] })]);
    const again = await request(t.app).delete(`${BASE}/${r.id}`).set(bearer(user.accessToken));
    expect(again.status).toBe(404);
  });

  it("when the id is another user's, answers 404 and keeps it; when malformed, 400", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const theirs = await created(other, { title: 'Theirs', dueDate: '2026-12-01' });
    expect((await request(t.app).delete(`${BASE}/${theirs.id}`).set(bearer(user.accessToken))).status).toBe(404);
    expect(await t.db.prisma.reminderSchedule.count({ where: { id: theirs.id } })).toBe(1);
    expect((await request(t.app).delete(`${BASE}/nope`).set(bearer(user.accessToken))).status).toBe(400);
  });
});

describe('reminders privacy section', () => {
  it('when exporting, returns every reminder of the user; erasing removes only theirs', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const a = await created(user, { title: 'a', dueDate: '2026-12-02', recurrence: 'monthly' });
    const b = await created(user, { title: 'b', dueDate: '2026-12-01' });
    await patch(user, a.id, { completedAt: new Date().toISOString() }).expect(200);
    await created(other, { title: 'c', dueDate: '2026-12-01' });
    const section = createRemindersPrivacySection();
    expect(section.name).toBe('reminders');
    const exported = (await section.export(t.db, user.id)) as { id: string; previousId: string | null }[];
    expect(exported.map((r) => r.id)).toEqual([b.id, a.id, expect.any(String)]);
    expect(exported[2]).toEqual(expect.objectContaining({ previousId: a.id, dueDate: '2027-01-02', anchorDay: 2 }));
    await t.db.transaction((tx) => section.erase(tx, user.id));
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: user.id } })).toBe(0);
    expect(await t.db.prisma.reminderSchedule.count({ where: { userId: other.id } })).toBe(1);
  });
});
