import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

const BASE = '/api/v1/reminders';
/** Ten days ago: a completion may not lie ahead of the clock, and the audit row's own createdAt is today. */
const DONE_DAY = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
const DONE_AT = `${DONE_DAY}T18:00:00.000Z`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function created(user: SignedInUser, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await request(t.app).post(BASE).set(bearer(user.accessToken)).send(body);
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const patch = (user: SignedInUser, id: string, body: Record<string, unknown>) =>
  request(t.app).patch(`${BASE}/${id}`).set(bearer(user.accessToken)).send(body);

const seriesOf = (user: SignedInUser) =>
  t.db.prisma.reminderSchedule.findMany({ where: { userId: user.id }, orderBy: [{ dueDate: 'asc' }, { id: 'asc' }] });

const nextOf = (id: string) => t.db.prisma.reminderSchedule.findMany({ where: { previousId: id } });

describe('completing a reminder', () => {
  it('when it does not recur, marks it done and creates nothing else', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Once', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, { completedAt: DONE_AT });
    expect(res.status).toBe(200);
    expect(res.body.completedAt).toBe(DONE_AT);
    expect(await seriesOf(user)).toHaveLength(1);
  });

  it('when it has an offset, stores the instant in UTC', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Offset', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, { completedAt: `${DONE_DAY}T13:00:00-05:00` });
    expect(res.body.completedAt).toBe(DONE_AT);
  });

  it.each([
    ['daily', '2026-12-31', '2027-01-01'],
    ['weekly', '2028-02-26', '2028-03-04'],
    ['monthly', '2027-01-31', '2027-02-28'],
    ['monthly', '2028-01-31', '2028-02-29'],
  ])(
    'when it recurs %s from %s, creates the next occurrence due %s, pending, with the same settings',
    async (recurrence, dueDate, next) => {
      const user = await registerUser(t);
      const r = await created(user, { title: 'Series', dueDate, recurrence, channel: 'email' });
      await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
      const following = await nextOf(r.id);
      expect(following).toHaveLength(1);
      expect(following[0]).toEqual(
        expect.objectContaining({ userId: user.id, title: 'Series', recurrence, channel: 'email', completedAt: null }),
      );
      expect(following[0]?.dueDate.toISOString().slice(0, 10)).toBe(next);
      const pending = await request(t.app).get(BASE).set(bearer(user.accessToken));
      expect(pending.body.data).toEqual([
        expect.objectContaining({ id: following[0]?.id, previousId: r.id, dueDate: next }),
      ]);
    },
  );

  it('when a monthly series on the 31st is completed through February, returns to the 31st in March', async () => {
    const user = await registerUser(t);
    let { id } = await created(user, { title: 'Rent', dueDate: '2027-01-31', recurrence: 'monthly' });
    for (let i = 0; i < 3; i++) {
      await patch(user, id, { completedAt: DONE_AT }).expect(200);
      id = (await nextOf(id))[0]?.id ?? '';
    }
    expect((await seriesOf(user)).map((r) => r.dueDate.toISOString().slice(0, 10))).toEqual([
      '2027-01-31',
      '2027-02-28',
      '2027-03-31',
      '2027-04-30',
    ]);
  });

  it('when the same PATCH also moves the due date and changes the recurrence, the next occurrence follows the new values', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-01' });
    const res = await patch(user, r.id, { dueDate: '2026-12-10', recurrence: 'weekly', completedAt: DONE_AT });
    expect(res.status).toBe(200);
    const [next] = await nextOf(r.id);
    expect(next?.dueDate.toISOString().slice(0, 10)).toBe('2026-12-17');
    expect(next?.recurrence).toBe('weekly');
  });

  it('when completed, records reminder.complete naming completedAt', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-01', recurrence: 'daily' });
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    const rows = await t.db.prisma.auditLog.findMany({
      where: { userId: user.id, action: { in: ['reminder.complete', 'reminder.update'] } },
    });
    expect(rows).toEqual([
      expect.objectContaining({ action: 'reminder.complete', targetId: r.id, fields: ['completedAt'] }),
    ]);
    expect(JSON.stringify(rows)).not.toContain(DONE_DAY);
  });

  it('when ten completes of one recurring reminder race, exactly one next occurrence and one completion exist', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Race', dueDate: '2026-12-01', recurrence: 'daily' });
    const results = await Promise.all(Array.from({ length: 10 }, () => patch(user, r.id, { completedAt: DONE_AT })));
    expect(results.map((res) => res.status)).toEqual(Array(10).fill(200));
    expect(await nextOf(r.id)).toHaveLength(1);
    expect(await seriesOf(user)).toHaveLength(2);
    expect(await t.db.prisma.auditLog.count({ where: { userId: user.id, action: 'reminder.complete' } })).toBe(1);
  });

  it('when completed, reopened and completed again, the next occurrence stays and is not duplicated', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'Again', dueDate: '2026-12-01', recurrence: 'weekly' });
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    const [next] = await nextOf(r.id);

    const reopened = await patch(user, r.id, { completedAt: null });
    expect(reopened.status).toBe(200);
    expect(reopened.body.completedAt).toBeNull();
    expect((await nextOf(r.id)).map((n) => n.id)).toEqual([next?.id]);
    const audit = await t.db.prisma.auditLog.findMany({ where: { userId: user.id, action: 'reminder.update' } });
    expect(audit.map((a) => a.fields)).toEqual([['completedAt']]);

    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    expect((await nextOf(r.id)).map((n) => n.id)).toEqual([next?.id]);
    expect(await seriesOf(user)).toHaveLength(2);
  });

  it('when completing again with another instant, updates completedAt without a new occurrence', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-01', recurrence: 'daily' });
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    const res = await patch(user, r.id, { completedAt: `${DONE_DAY}T19:00:00.000Z` });
    expect(res.body.completedAt).toBe(`${DONE_DAY}T19:00:00.000Z`);
    expect(await seriesOf(user)).toHaveLength(2);
  });

  it('when the next occurrence was deleted and the reminder is completed again, a new next occurrence is created', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-01', recurrence: 'daily' });
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    const [next] = await nextOf(r.id);
    await request(t.app).delete(`${BASE}/${next?.id}`).set(bearer(user.accessToken)).expect(204);
    await patch(user, r.id, { completedAt: null }).expect(200);
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    expect(await nextOf(r.id)).toHaveLength(1);
  });

  it('when the completed occurrence is deleted, its next occurrence stays, no longer linked', async () => {
    const user = await registerUser(t);
    const r = await created(user, { title: 'x', dueDate: '2026-12-01', recurrence: 'daily' });
    await patch(user, r.id, { completedAt: DONE_AT }).expect(200);
    const [next] = await nextOf(r.id);
    await request(t.app).delete(`${BASE}/${r.id}`).set(bearer(user.accessToken)).expect(204);
    const row = await t.db.prisma.reminderSchedule.findUniqueOrThrow({ where: { id: next?.id ?? '' } });
    expect(row.previousId).toBeNull();
  });
});
