import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spendingAndStressSql, weeksSql } from '../../../src/modules/insights/insights.repo.js';
import { startTestApp, type TestApp } from '../../support/app.js';
import {
  bearer,
  registerSubscriber,
  registerUser as registerWithoutPlan,
  type SignedInUser,
} from '../../support/auth.js';
import { EMPTY_PROFILE_BODY } from '../../support/profile.js';

const PATH = '/api/v1/insights/money-and-mood';
/** A Wednesday: the ISO week 2024-W11 runs from Monday 03-11 to Sunday 03-17. */
const NOON_UTC = new Date('2024-03-13T12:00:00Z');

let clock = NOON_UTC;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ now: () => clock });
});
beforeEach(() => {
  clock = NOON_UTC;
});
afterAll(() => t.close());

interface Movement {
  date: string;
  /** Money that left the account (spending) is negative, money that came in positive: the stored convention. */
  amountCents: number;
  category?: string | null;
  currency?: string | null;
  pending?: boolean;
}
const spent = (date: string, cents: number, category: string | null = 'FOOD_AND_DRINK'): Movement => ({
  date,
  amountCents: -cents,
  category,
});
const earned = (date: string, cents: number): Movement => ({ date, amountCents: cents, category: 'INCOME' });

/** A linked bank with one account holding `movements`, written as a sync would leave them. */
async function linkBank(user: SignedInUser, movements: Movement[]) {
  const item = await t.db.prisma.plaidItem.create({
    data: { userId: user.id, plaidItemId: `item-${randomUUID()}`, accessTokenEnc: 'not used by insights' },
  });
  const account = await t.db.prisma.bankAccount.create({
    data: {
      itemId: item.id,
      userId: user.id,
      plaidAccountId: `acc-${randomUUID()}`,
      name: 'Checking',
      type: 'depository',
    },
  });
  await t.db.prisma.bankTransaction.createMany({
    data: movements.map((m) => ({
      accountId: account.id,
      userId: user.id,
      plaidTransactionId: `tx-${randomUUID()}`,
      date: new Date(`${m.date}T00:00:00Z`),
      amountCents: BigInt(m.amountCents),
      isoCurrencyCode: m.currency === undefined ? 'USD' : m.currency,
      name: 'Merchant',
      category: m.category === undefined ? 'FOOD_AND_DRINK' : m.category,
      pending: m.pending ?? false,
    })),
  });
}

async function checkIns(user: SignedInUser, rows: Array<[date: string, stress: number, mood: number, sleep: number]>) {
  await t.db.prisma.userHealthCheckin.createMany({
    data: rows.map(([date, stressLevel, moodRating, sleepHours]) => ({
      userId: user.id,
      checkinDate: new Date(`${date}T00:00:00Z`),
      stressLevel,
      moodRating,
      relationshipsRating: 5,
      sleepHours,
      physicalActivityMinutes: 0,
      mindfulnessMinutes: 0,
    })),
  });
}

const insight = (user: SignedInUser, query: Record<string, string> = {}) =>
  request(t.app).get(PATH).query(query).set(bearer(user.accessToken));

/** 2024-03-01 (a Friday) + n days. */
const day = (n: number) => new Date(Date.UTC(2024, 2, 1 + n)).toISOString().slice(0, 10);

function pearson(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(xs), mean(ys)];
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const y = ys[i] as number;
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('GET /insights/money-and-mood', () => {
  it('when a range holds spending, income and check-ins, answers each ISO week clipped to the range', async () => {
    const user = await registerSubscriber(t);
    await linkBank(user, [
      spent('2024-03-04', 1_250, 'FOOD_AND_DRINK'),
      spent('2024-03-05', 8_000, 'RENT_AND_UTILITIES'),
      spent('2024-03-06', 2_500, 'FOOD_AND_DRINK'),
      spent('2024-03-07', 3_000, 'TRANSPORTATION'),
      spent('2024-03-08', 999, 'ENTERTAINMENT'),
      spent('2024-03-09', 450, null),
      earned('2024-03-08', 310_000),
      // Not counted: a pending charge, a transfer to savings and back, a charge in another currency.
      { date: '2024-03-06', amountCents: -70_000, pending: true },
      { date: '2024-03-06', amountCents: -50_000, category: 'TRANSFER_OUT' },
      { date: '2024-03-07', amountCents: 20_000, category: 'TRANSFER_IN' },
      { date: '2024-03-07', amountCents: -4_000, currency: 'EUR' },
      // Outside the range.
      spent('2024-03-02', 100_000),
      spent('2024-03-13', 100_000),
    ]);
    await checkIns(user, [
      ['2024-03-04', 8, 4, 6],
      ['2024-03-06', 6, 6, 7.5],
      ['2024-03-11', 3, 8, 8],
      ['2024-03-02', 10, 1, 2], // outside the range
    ]);

    const res = await insight(user, { from: '2024-03-03', to: '2024-03-12' });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: '2024-03-03', to: '2024-03-12', currency: 'USD' });
    expect(res.body.transactionsInOtherCurrencies).toBe(1);
    expect(res.body.weeks).toEqual([
      {
        week: '2024-W09',
        from: '2024-03-03',
        to: '2024-03-03',
        spendingCents: 0,
        incomeCents: 0,
        topCategories: [],
        checkins: 0,
        averages: { stressLevel: null, moodRating: null, sleepHours: null },
      },
      {
        week: '2024-W10',
        from: '2024-03-04',
        to: '2024-03-10',
        spendingCents: 16_199,
        incomeCents: 310_000,
        topCategories: [
          { category: 'RENT_AND_UTILITIES', spendingCents: 8_000 },
          { category: 'FOOD_AND_DRINK', spendingCents: 3_750 },
          { category: 'TRANSPORTATION', spendingCents: 3_000 },
        ],
        checkins: 2,
        averages: { stressLevel: 7, moodRating: 5, sleepHours: 6.75 },
      },
      {
        week: '2024-W11',
        from: '2024-03-11',
        to: '2024-03-12',
        spendingCents: 0,
        incomeCents: 0,
        topCategories: [],
        checkins: 1,
        averages: { stressLevel: 3, moodRating: 8, sleepHours: 8 },
      },
    ]);
  });

  it('when a week has no category, its spending counts as UNCATEGORIZED', async () => {
    const user = await registerSubscriber(t);
    await linkBank(user, [spent('2024-03-04', 700, null), spent('2024-03-05', 300, 'SHOPPING')]);
    const res = await insight(user, { from: '2024-03-04', to: '2024-03-10' });
    expect(res.body.weeks[0].topCategories).toEqual([
      { category: 'UNCATEGORIZED', spendingCents: 700 },
      { category: 'SHOPPING', spendingCents: 300 },
    ]);
  });

  it('when 20 days hold a check-in and bank data, answers the Pearson correlation of spending and stress', async () => {
    const user = await registerSubscriber(t);
    const stress = [2, 7, 5, 9, 3, 8, 6, 4, 10, 1, 6, 7, 3, 5, 9, 2, 8, 4, 6, 7];
    const spending = [500, 4_000, 0, 9_000, 1_200, 3_500, 2_000, 2_500, 12_000, 0, 1_000, 6_000, 800, 0, 7_000, 300];
    // Spending on the first 16 days; days 17-19 have a check-in and no spending (a real 0: inside the span, which
    // the income on day 19 closes); a check-in after the last transaction (day 25) is left out.
    await linkBank(user, [
      ...spending.flatMap((cents, n) => (cents > 0 ? [spent(day(n), cents)] : [])),
      earned(day(19), 250_000),
      earned(day(0), 100),
    ]);
    await checkIns(user, [
      ...stress.map((s, n): [string, number, number, number] => [day(n), s, 5, 7]),
      [day(25), 10, 1, 3],
    ]);

    const res = await insight(user, { from: day(0), to: day(30) });

    const daily = stress.map((_, n) => spending[n] ?? 0);
    expect(res.status).toBe(200);
    expect(res.body.spendingAndStress.days).toBe(20);
    expect(res.body.spendingAndStress.correlation).toBeCloseTo(pearson(daily, stress), 4);
    expect(res.body.spendingAndStress.correlation).toBeGreaterThan(0.5);
  });

  it('when fewer than 14 days hold both, the correlation is null and the days are counted', async () => {
    const user = await registerSubscriber(t);
    await linkBank(user, [spent(day(0), 100), spent(day(12), 100)]);
    await checkIns(
      user,
      Array.from({ length: 13 }, (_, n): [string, number, number, number] => [day(n), (n % 9) + 1, 5, 7]),
    );
    const res = await insight(user, { from: day(0), to: day(20) });
    expect(res.body.spendingAndStress).toEqual({ correlation: null, days: 13 });
  });

  it('when the user has no bank data, answers zero weeks of money and no currency', async () => {
    const user = await registerSubscriber(t);
    await checkIns(user, [['2024-03-12', 5, 5, 7]]);
    const res = await insight(user);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ currency: null, transactionsInOtherCurrencies: 0 });
    expect(res.body.spendingAndStress).toEqual({ correlation: null, days: 0 });
    expect(res.body.weeks.every((w: { spendingCents: number }) => w.spendingCents === 0)).toBe(true);
    expect(res.body.weeks.at(-1)).toMatchObject({ to: '2024-03-13', checkins: 1 });
  });

  it("when no range is given, answers the twelve weeks ending today in the user's time zone", async () => {
    const user = await registerSubscriber(t);
    await request(t.app)
      .put('/api/v1/profile')
      .set(bearer(user.accessToken))
      .send({ ...EMPTY_PROFILE_BODY, timezone: 'Pacific/Kiritimati' })
      .expect(200);
    clock = new Date('2024-03-13T12:00:00Z'); // already 14 March in Kiritimati (UTC+14)
    const res = await insight(user);
    expect(res.body).toMatchObject({ from: '2023-12-22', to: '2024-03-14' });
    expect(res.body.weeks).toHaveLength(13);
    expect(res.body.weeks[0]).toMatchObject({ week: '2023-W51', from: '2023-12-22', to: '2023-12-24' });
  });

  it('when another user has bank data and check-ins, none of it shows in yours', async () => {
    const [user, other] = [await registerSubscriber(t), await registerSubscriber(t)];
    await linkBank(other, [spent('2024-03-04', 9_999), earned('2024-03-05', 1)]);
    await checkIns(other, [['2024-03-04', 9, 2, 4]]);
    const res = await insight(user, { from: '2024-03-04', to: '2024-03-10' });
    expect(res.body.weeks[0]).toMatchObject({ spendingCents: 0, incomeCents: 0, checkins: 0 });
    expect(res.body.currency).toBeNull();
  });

  it('when the range spans exactly 366 days, answers 200 with every week it touches', async () => {
    const user = await registerSubscriber(t);
    const res = await insight(user, { from: '2023-03-13', to: '2024-03-12' });
    expect(res.status).toBe(200);
    expect(res.body.weeks).toHaveLength(53);
  });

  it.each([
    ['from after to', { from: '2024-03-10', to: '2024-03-01' }],
    ['367 days', { from: '2023-03-12', to: '2024-03-12' }],
    ['only a from more than 366 days ago', { from: '2020-01-01' }],
    ['an invalid date', { from: '2024-02-30' }],
    ['a date before 1900', { from: '1899-12-31' }],
  ])('when the range is %s, answers 422 naming query.from', async (_name, query) => {
    const user = await registerSubscriber(t);
    const res = await insight(user, query);
    expect(res.status).toBe(422);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['query.from']);
  });

  it('when not signed in, answers 401', async () => {
    expect((await request(t.app).get(PATH)).status).toBe(401);
  });

  it('when your plan lacks wellness insights, answers 403 plan-required', async () => {
    const user = await registerWithoutPlan(t);
    const res = await insight(user);
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/\/plan-required$/);
  });

  // What the process receives is what PostgreSQL's plan returns at its top node: EXPLAIN ANALYZE runs exactly the
  // route's SQL (the repo's own text) and counts, node by node, the rows each produced. Nothing of ours is wrapped.
  it('when a year holds 6,000 transactions, PostgreSQL returns one row a week and one correlation to the process', async () => {
    const user = await registerSubscriber(t);
    const movements = Array.from({ length: 6_000 }, (_, n) => {
      const date = new Date(Date.UTC(2023, 0, 1 + (n % 365))).toISOString().slice(0, 10);
      return n % 40 === 0 ? earned(date, 250_000) : spent(date, 100 + n, ['FOOD_AND_DRINK', 'TRAVEL', 'RENT'][n % 3]);
    });
    await linkBank(user, movements);
    await checkIns(
      user,
      Array.from({ length: 365 }, (_, n): [string, number, number, number] => [
        new Date(Date.UTC(2023, 0, 1 + n)).toISOString().slice(0, 10),
        1 + (n % 10),
        5,
        7,
      ]),
    );
    // Planned as for an account that has held these rows for a while (autovacuum's ANALYZE), not as for an empty table.
    await t.db.pool.query('ANALYZE bank_transactions');
    await t.db.pool.query('ANALYZE user_health_checkins');
    const w = { userId: user.id, from: '2023-01-01', to: '2023-12-31' } as const;
    const weeks = await analyze(weeksSql(w, 'USD'));
    const correlation = await analyze(spendingAndStressSql(w, 'USD'));

    expect(weeks.rows).toBe(53);
    expect(correlation.rows).toBe(1);
    // Each query reads the window's transactions into PostgreSQL's own aggregates a bounded number of times (the
    // CTE once, then its parts), never once per week.
    expect(weeks.transactionRowsRead).toBeLessThanOrEqual(4 * 6_000);
    expect(correlation.transactionRowsRead).toBeLessThanOrEqual(4 * 6_000);
    // And the route answers from those rows.
    const res = await request(t.app).get(`${PATH}?from=2023-01-01&to=2023-12-31`).set(bearer(user.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.weeks).toHaveLength(53);
    expect(res.body.spendingAndStress.days).toBe(365);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'CTE Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Runs `sql` under EXPLAIN ANALYZE: the rows its top node returned, and the transaction rows its scans produced. */
async function analyze(sql: { text: string; values: unknown[] }) {
  const { rows } = await t.db.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${sql.text}`,
    sql.values,
  );
  const top = rows[0]?.['QUERY PLAN'][0]?.Plan;
  if (!top) throw new Error('no plan');
  let transactionRowsRead = 0;
  const walk = (node: PlanNode) => {
    if (node['Relation Name'] === 'bank_transactions' || node['CTE Name'] === 'tx')
      transactionRowsRead += node['Actual Rows'] * node['Actual Loops'];
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(top);
  return { rows: top['Actual Rows'] * top['Actual Loops'], transactionRowsRead };
}
