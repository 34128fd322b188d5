import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../../../src/generated/prisma/client.js';
import { listCheckinsSql, summarySql } from '../../../src/modules/checkins/checkins.repo.js';
import { startTestApp, type TestApp } from '../../support/app.js';

const INDEX = 'user_health_checkins_user_id_checkin_date_key';
const HEAVY_USER_ROWS = 2_000;
const OTHER_USERS = 40;
const OTHER_USER_ROWS = 1_000;

let t: TestApp;
let userId: string;
let today: string;

/**
 * Seeds a realistic table (one user with 2,000 days of check-ins among 40 others with 1,000 each), so the planner
 * has a real choice between the index and a sequential scan, and refreshes its statistics.
 */
beforeAll(async () => {
  t = await startTestApp();
  const q = (sql: string, values: unknown[] = []) => t.db.pool.query(sql, values);
  const users = await q(
    `INSERT INTO users (email, password_hash)
     SELECT 'plan-' || g || '@example.com', 'not-a-hash' FROM generate_series(0, $1) g RETURNING id`,
    [OTHER_USERS],
  );
  const ids: string[] = users.rows.map((r: { id: string }) => r.id);
  userId = ids[0] as string;
  const insert = `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating,
      relationships_rating, sleep_hours, physical_activity_minutes, mindfulness_minutes)
    SELECT $1::uuid, current_date - g, 1 + g % 10, 1 + (g * 7) % 10, 1 + (g * 3) % 10, (g % 97) / 4.0, g % 90, g % 30
    FROM generate_series(0, $2::int - 1) g`;
  await q(insert, [userId, HEAVY_USER_ROWS]);
  for (const id of ids.slice(1)) await q(insert, [id, OTHER_USER_ROWS]);
  await q('ANALYZE user_health_checkins');
  today = (await q(`SELECT to_char(current_date, 'YYYY-MM-DD') AS d`)).rows[0].d;
}, 60_000);
afterAll(() => t.close());

/** The plan of exactly the statement the repository runs: same text, same parameters. */
async function plan(sql: Prisma.Sql): Promise<string> {
  const { rows } = await t.db.pool.query(`EXPLAIN ${sql.text}`, sql.values);
  return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
}

const daysAgo = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

describe('query plans on a table of 42,000 check-ins', () => {
  it('when listing the first page, reads the (user_id, checkin_date) index and no table scan', async () => {
    const text = await plan(listCheckinsSql(userId, { take: 21 }));
    expect(text).toContain(INDEX);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('when listing a later page within a range, reads the index', async () => {
    const after = { checkinDate: daysAgo(500), id: '00000000-0000-4000-8000-000000000000' };
    const text = await plan(listCheckinsSql(userId, { from: daysAgo(900), to: daysAgo(10), after, take: 21 }));
    expect(text).toContain(INDEX);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('when summarising, both the aggregate and the streak read the index', async () => {
    const text = await plan(summarySql(userId, { from: daysAgo(29), to: today, today }));
    expect(text.match(new RegExp(INDEX, 'g'))?.length).toBeGreaterThanOrEqual(2);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('when run, the summary statement aggregates in the database (one row back)', async () => {
    const sql = summarySql(userId, { from: daysAgo(29), to: today, today });
    const { rows } = await t.db.pool.query(sql.text, sql.values);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ rangeCount: 30, currentCount: 7, previousCount: 7, streakDays: HEAVY_USER_ROWS });
  });
});
