import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import { bearer, registerUser, type SignedInUser } from '../../support/auth.js';

const PATH = '/api/v1/checkins';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: () => new Date('2026-03-10T12:00:00Z') });
});
afterAll(() => t.close());

async function seed(user: SignedInUser, dates: string[]) {
  for (const checkinDate of dates) {
    await request(t.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({
        checkinDate,
        stressLevel: 5,
        moodRating: 5,
        relationshipsRating: 5,
        sleepHours: 7,
        physicalActivityMinutes: 0,
        mindfulnessMinutes: 0,
        notes: `note of ${checkinDate}`,
      })
      .expect(201);
  }
}

const list = (user: SignedInUser, query: Record<string, string | number> = {}) =>
  request(t.app).get(PATH).query(query).set(bearer(user.accessToken));
const dates = (res: request.Response) => res.body.data.map((c: { checkinDate: string }) => c.checkinDate);

describe('GET /api/v1/checkins', () => {
  it('when you have check-ins, lists only yours, newest date first, notes decrypted', async () => {
    const [user, other] = [await registerUser(t), await registerUser(t)];
    await seed(user, ['2026-03-01', '2026-03-05', '2026-03-03']);
    await seed(other, ['2026-03-04']);
    const res = await list(user);
    expect(res.status).toBe(200);
    expect(dates(res)).toEqual(['2026-03-05', '2026-03-03', '2026-03-01']);
    expect(res.body.data[0].notes).toBe('note of 2026-03-05');
    expect(res.body.nextCursor).toBeNull();
  });

  it('when you have none, answers an empty page', async () => {
    const user = await registerUser(t);
    expect((await list(user)).body).toEqual({ data: [], nextCursor: null });
  });

  it('when from and to are given, includes both ends and nothing outside', async () => {
    const user = await registerUser(t);
    await seed(user, ['2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']);
    expect(dates(await list(user, { from: '2026-03-01', to: '2026-03-03' }))).toEqual([
      '2026-03-03',
      '2026-03-02',
      '2026-03-01',
    ]);
    expect(dates(await list(user, { from: '2026-03-04' }))).toEqual(['2026-03-04']);
    expect(dates(await list(user, { to: '2026-02-28' }))).toEqual(['2026-02-28']);
  });

  it('when there are more than the limit, pages through every row once, in order', async () => {
    const user = await registerUser(t);
    const all = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'];
    await seed(user, all);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(user, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...dates(res));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...all].reverse());
  });

  it('when a check-in is added between pages, the next page neither repeats nor skips a row', async () => {
    const user = await registerUser(t);
    await seed(user, ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']);
    const first = await list(user, { limit: 2 });
    expect(dates(first)).toEqual(['2026-03-04', '2026-03-03']);
    await seed(user, ['2026-03-09']);
    const second = await list(user, { limit: 2, cursor: first.body.nextCursor });
    expect(dates(second)).toEqual(['2026-03-02', '2026-03-01']);
  });

  it('when a cursor is combined with a date range, the range still applies', async () => {
    const user = await registerUser(t);
    await seed(user, ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']);
    const query = { from: '2026-03-02', to: '2026-03-04', limit: 2 };
    const first = await list(user, query);
    const second = await list(user, { ...query, cursor: first.body.nextCursor });
    expect([...dates(first), ...dates(second)]).toEqual(['2026-03-04', '2026-03-03', '2026-03-02']);
    expect(second.body.nextCursor).toBeNull();
  });

  it.each([
    ['limit=101', { limit: 101 }, 'query.limit'],
    ['limit=0', { limit: 0 }, 'query.limit'],
    ['limit=abc', { limit: 'abc' }, 'query.limit'],
    ['an invalid from', { from: '2026-02-30' }, 'query.from'],
    ['an invalid to', { to: 'yesterday' }, 'query.to'],
    ['from after to', { from: '2026-03-05', to: '2026-03-01' }, 'query.from'],
  ])('when the query has %s, answers 422 naming the parameter', async (_name, query, path) => {
    const user = await registerUser(t);
    const res = await list(user, query);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('when the limit is 100, answers 200', async () => {
    const user = await registerUser(t);
    expect((await list(user, { limit: 100 })).status).toBe(200);
  });

  it('when the cursor is tampered with or made up, answers 400', async () => {
    const user = await registerUser(t);
    await seed(user, ['2026-03-01', '2026-03-02', '2026-03-03']);
    const { nextCursor } = (await list(user, { limit: 1 })).body;
    const [body, mac] = nextCursor.split('.');
    const forged = Buffer.from(
      JSON.stringify(['2027-01-01', JSON.parse(Buffer.from(body, 'base64url').toString())[1]]),
    ).toString('base64url');
    for (const cursor of [`${forged}.${mac}`, `${body}.${mac.slice(0, -2)}xx`, 'junk', `${nextCursor}.extra`]) {
      const res = await list(user, { cursor });
      expect(res.status, cursor).toBe(400);
      expect(res.body.type).toMatch(/\/invalid-cursor$/);
    }
  });

  it('when given a genuine cursor of another list (API keys), answers 400', async () => {
    const user = await registerUser(t);
    for (const name of ['a', 'b']) {
      await request(t.app)
        .post('/api/v1/auth/api-keys')
        .set(bearer(user.accessToken))
        .send({ name, password: user.password })
        .expect(201);
    }
    const keys = await request(t.app).get('/api/v1/auth/api-keys?limit=1').set(bearer(user.accessToken));
    const res = await list(user, { cursor: keys.body.nextCursor });
    expect(res.status).toBe(400);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).get(PATH)).status).toBe(401);
  });
});
