import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.js';
import {
  bearer,
  registerSubscriber,
  registerUser as registerWithoutPlan,
  type SignedInUser,
} from '../../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../../support/profile.js';

const PATH = '/api/v1/checkins';
const NOON_UTC = new Date('2026-03-10T12:00:00Z');

let clock = NOON_UTC;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: () => clock });
});
beforeEach(() => {
  clock = NOON_UTC;
});
afterAll(() => t.close());

type Row = [
  date: string,
  stress: number,
  mood: number,
  relationships: number,
  sleep: number,
  activity: number,
  mindful: number,
];

async function seed(user: SignedInUser, rows: Row[]) {
  for (const [checkinDate, stressLevel, moodRating, relationshipsRating, sleepHours, activity, mindful] of rows) {
    await request(t.app)
      .post(PATH)
      .set(bearer(user.accessToken))
      .send({
        checkinDate,
        stressLevel,
        moodRating,
        relationshipsRating,
        sleepHours,
        physicalActivityMinutes: activity,
        mindfulnessMinutes: mindful,
      })
      .expect(201);
  }
}

const summary = (user: SignedInUser, query: Record<string, string> = {}) =>
  request(t.app).get(`${PATH}/summary`).query(query).set(bearer(user.accessToken));

/** Today is 2026-03-10 (UTC). The current week is 03-04..03-10, the previous 02-25..03-03. */
const ROWS: Row[] = [
  ['2026-03-10', 4, 8, 7, 7.5, 30, 10],
  ['2026-03-09', 6, 6, 7, 6.25, 0, 5],
  ['2026-03-08', 5, 7, 8, 8, 60, 0],
  // no check-in on 03-07: the streak is 03-08..03-10
  ['2026-03-06', 8, 5, 6, 5, 15, 20],
  ['2026-03-02', 9, 4, 5, 6, 0, 0],
  ['2026-02-26', 7, 6, 6, 7, 45, 10],
  // before the default 30-day window (02-09..03-10)
  ['2026-01-20', 1, 10, 10, 9, 120, 60],
];

const nulls = {
  stressLevel: null,
  moodRating: null,
  relationshipsRating: null,
  sleepHours: null,
  physicalActivityMinutes: null,
  mindfulnessMinutes: null,
};

describe('GET /api/v1/checkins/summary', () => {
  it('when called without dates, summarises the last 30 days with hand-computed numbers', async () => {
    const user = await registerSubscriber(t);
    const other = await registerSubscriber(t);
    await seed(user, ROWS);
    await seed(other, [['2026-03-07', 10, 1, 1, 0, 0, 0]]);

    const res = await summary(user);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2026-02-09',
      to: '2026-03-10',
      count: 6,
      // stress 39/6, mood 36/6, relationships 39/6, sleep 39.75/6 = 6.625, activity 150/6, mindfulness 45/6
      averages: {
        stressLevel: 6.5,
        moodRating: 6,
        relationshipsRating: 6.5,
        sleepHours: 6.63,
        physicalActivityMinutes: 25,
        mindfulnessMinutes: 7.5,
      },
      streak: { days: 3, endsOn: '2026-03-10' },
      weekOverWeek: {
        // 03-10, 03-09, 03-08, 03-06
        current: {
          from: '2026-03-04',
          to: '2026-03-10',
          count: 4,
          averages: {
            stressLevel: 5.75,
            moodRating: 6.5,
            relationshipsRating: 7,
            sleepHours: 6.69, // 26.75 / 4 = 6.6875
            physicalActivityMinutes: 26.25,
            mindfulnessMinutes: 8.75,
          },
        },
        // 03-02, 02-26
        previous: {
          from: '2026-02-25',
          to: '2026-03-03',
          count: 2,
          averages: {
            stressLevel: 8,
            moodRating: 5,
            relationshipsRating: 5.5,
            sleepHours: 6.5,
            physicalActivityMinutes: 22.5,
            mindfulnessMinutes: 5,
          },
        },
        change: {
          stressLevel: -2.25,
          moodRating: 1.5,
          relationshipsRating: 1.5,
          sleepHours: 0.19, // 6.6875 - 6.5 = 0.1875
          physicalActivityMinutes: 3.75,
          mindfulnessMinutes: 3.75,
        },
      },
    });
  });

  it('when from and to are given, aggregates that range and anchors the weeks on to', async () => {
    const user = await registerSubscriber(t);
    await seed(user, ROWS);
    const res = await summary(user, { from: '2026-01-01', to: '2026-03-06' });
    expect(res.status).toBe(200);
    // All but 03-10, 03-09, 03-08: stress (8+9+7+1)/4, mood (5+4+6+10)/4
    expect(res.body).toMatchObject({ count: 4, averages: { stressLevel: 6.25, moodRating: 6.25 } });
    // Current week 02-28..03-06 holds 03-06 and 03-02; the previous 02-21..02-27 holds 02-26.
    expect(res.body.weekOverWeek.current).toMatchObject({ from: '2026-02-28', to: '2026-03-06', count: 2 });
    expect(res.body.weekOverWeek.previous).toMatchObject({ from: '2026-02-21', to: '2026-02-27', count: 1 });
    expect(res.body.weekOverWeek.change.stressLevel).toBe(1.5); // 8.5 - 7
    // The streak is about now, whatever the range.
    expect(res.body.streak).toEqual({ days: 3, endsOn: '2026-03-10' });
  });

  it('when there is no check-in today but there was yesterday, the streak ends yesterday', async () => {
    const user = await registerSubscriber(t);
    await seed(user, [
      ['2026-03-09', 5, 5, 5, 7, 0, 0],
      ['2026-03-08', 5, 5, 5, 7, 0, 0],
      ['2026-03-07', 5, 5, 5, 7, 0, 0],
      ['2026-03-05', 5, 5, 5, 7, 0, 0],
    ]);
    expect((await summary(user)).body.streak).toEqual({ days: 3, endsOn: '2026-03-09' });
  });

  it('when the last check-in is two days old, there is no current streak', async () => {
    const user = await registerSubscriber(t);
    await seed(user, [
      ['2026-03-08', 5, 5, 5, 7, 0, 0],
      ['2026-03-07', 5, 5, 5, 7, 0, 0],
    ]);
    expect((await summary(user)).body.streak).toEqual({ days: 0, endsOn: null });
  });

  it("when the user's time zone is ahead of UTC, the streak counts their tomorrow as today", async () => {
    const user = await registerSubscriber(t);
    await request(t.app)
      .put('/api/v1/profile')
      .set(bearer(user.accessToken))
      .send({ ...EMPTY_PROFILE_BODY, timezone: 'Pacific/Kiritimati' })
      .expect(200);
    await seed(user, [
      ['2026-03-11', 5, 5, 5, 7, 0, 0],
      ['2026-03-10', 5, 5, 5, 7, 0, 0],
    ]);
    const res = await summary(user);
    expect(res.body).toMatchObject({ from: '2026-02-10', to: '2026-03-11', count: 2 });
    expect(res.body.streak).toEqual({ days: 2, endsOn: '2026-03-11' });

    // The next UTC day, it is 12 March there: the streak still ends "yesterday".
    clock = new Date('2026-03-11T12:00:00Z');
    expect((await summary(user)).body.streak).toEqual({ days: 2, endsOn: '2026-03-11' });
  });

  it('when a week has no check-in, its averages and the changes are null', async () => {
    const user = await registerSubscriber(t);
    await seed(user, [['2026-03-10', 5, 5, 5, 7, 0, 0]]);
    const res = await summary(user);
    expect(res.body.weekOverWeek.previous).toMatchObject({ count: 0, averages: nulls });
    expect(res.body.weekOverWeek.change).toEqual(nulls);
    expect(res.body.weekOverWeek.current.averages.stressLevel).toBe(5);
  });

  it('when the user has no check-in, answers zeros and nulls', async () => {
    const user = await registerSubscriber(t);
    const res = await summary(user);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 0, averages: nulls, streak: { days: 0, endsOn: null } });
  });

  it('when the range spans exactly 366 days, answers 200', async () => {
    const user = await registerSubscriber(t);
    expect((await summary(user, { from: '2025-03-10', to: '2026-03-10' })).status).toBe(200);
  });

  it.each([
    ['from after to', { from: '2026-03-10', to: '2026-03-01' }],
    ['367 days', { from: '2025-03-09', to: '2026-03-10' }],
    ['only a from more than 366 days ago', { from: '2020-01-01' }],
    ['only a from after today', { from: '2026-03-11' }],
    ['an invalid date', { from: '2026-13-01' }],
  ])('when the range is %s, answers 422 naming query.from', async (_name, query) => {
    const user = await registerSubscriber(t);
    const res = await summary(user, query);
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['query.from']);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).get(`${PATH}/summary`)).status).toBe(401);
  });

  it('when your plan lacks wellness insights, answers 403 for the summary but still lists check-ins', async () => {
    const user = await registerWithoutPlan(t);
    await seed(user, [['2026-03-10', 5, 5, 5, 7, 0, 0]]);
    const res = await summary(user);
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/plan-required$/);
    expect((await request(t.app).get(PATH).set(bearer(user.accessToken))).status).toBe(200);
  });
});
