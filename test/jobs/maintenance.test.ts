import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAINTENANCE_EVERY_MS } from '../../src/modules/maintenance/maintenance.jobs.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startTestJobs } from '../support/jobs.js';

let t: TestApp;
let db: pg.Pool;
beforeAll(async () => {
  t = await startTestApp({ env: { AUDIT_LOG_RETENTION_DAYS: '30' } });
  db = new pg.Pool({ connectionString: t.database.url, max: 2 });
  db.on('error', () => undefined);
});
afterAll(async () => {
  await db.end();
  await t.close();
});

const count = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows[0].n as number;

/**
 * The rows of test/cli/maintenance.test.ts, past their time or not, with intervals relative to the database's clock
 * (the purges compare with the worker's clock, here the real one, as the database's is): 3 audit entries, 2 idempotency records, 1 Stripe event and 2 ended sessions
 * (4 tokens) to purge; 1, 1, 1 and 2 sessions (3 tokens) to keep.
 */
async function seedRowsPastRetention() {
  const { rows } = await db.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [
    `maintenance-${randomUUID()}@example.com`,
  ]);
  const userId = rows[0].id as string;
  for (const age of ['31 days', '45 days', '400 days', '29 days']) {
    await db.query(
      `INSERT INTO audit_log (user_id, action, created_at) VALUES ($1, 'auth.login', now() - $2::interval)`,
      [userId, age],
    );
  }
  for (const expires of ['-1 hour', '-2 days', '+1 hour']) {
    await db.query(
      `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, expires_at)
       VALUES ($1, $2, 'POST', '/api/v1/checkins', 'h', now() + $3::interval)`,
      [userId, randomUUID(), expires],
    );
  }
  for (const [id, age] of [
    ['evt_old', '91 days'],
    ['evt_recent', '89 days'],
  ]) {
    await db.query(
      `INSERT INTO stripe_events (id, type, processed_at) VALUES ($1, 'invoice.paid', now() - $2::interval)`,
      [`${id}_${randomUUID()}`, age],
    );
  }
  const sessions: Array<Array<{ expires: string; revoked?: string }>> = [
    [{ expires: '-2 days' }, { expires: '-1 day' }], // expired
    [{ expires: '+20 days', revoked: '-8 days' }, { expires: '+21 days' }], // revoked long ago
    [{ expires: '+20 days', revoked: '-1 day' }], // revoked recently: kept
    [{ expires: '-1 day' }, { expires: '+29 days' }], // live: kept whole
  ];
  for (const tokens of sessions) {
    const familyId = randomUUID();
    for (const token of tokens) {
      await db.query(
        `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at)
         VALUES ($1, $2, $3, now() + $4::interval, now() + $5::interval)`,
        [userId, familyId, randomUUID(), token.expires, token.revoked ?? null],
      );
    }
  }
}

const remaining = async () => ({
  audit: await count('SELECT count(*)::int AS n FROM audit_log'),
  idempotency: await count('SELECT count(*)::int AS n FROM idempotency_keys'),
  stripeEvents: await count(`SELECT count(*)::int AS n FROM stripe_events WHERE id LIKE 'evt_recent_%'`),
  allStripeEvents: await count('SELECT count(*)::int AS n FROM stripe_events'),
  tokens: await count('SELECT count(*)::int AS n FROM refresh_tokens'),
});

describe.runIf(inject('redisUrl'))('the maintenance job', () => {
  it('when the worker starts, schedules maintenance.run daily, and its run purges what npm run maintenance purges', async () => {
    await seedRowsPastRetention();
    const jobs = await startTestJobs(t, { now: () => new Date() });
    try {
      const queue = jobs.queues.queue('maintenance');
      const scheduler = await queue.getJobScheduler('maintenance.run');
      expect(scheduler?.every).toBe(MAINTENANCE_EVERY_MS);

      // A scheduler's first run is due at once; the next one a day later.
      const ran = async () => (await queue.getJobs(['completed'])).filter((j) => j.name === 'maintenance.run');
      await expect.poll(async () => (await ran()).length, { timeout: 15_000 }).toBe(1);
      expect(await remaining()).toEqual({ audit: 1, idempotency: 1, stripeEvents: 1, allStripeEvents: 1, tokens: 3 });
      const [scheduled] = await ran();
      const purgedBy = (jobId: string | undefined) =>
        jobs
          .logs()
          .filter((l) => l.jobId === jobId && l.msg === 'records past retention purged')
          .map((l) => [l.table, l.purged, l.what]);
      expect(purgedBy(scheduled?.id)).toEqual([
        ['audit_log', 3, 'entries older than 30 days'],
        ['idempotency_keys', 2, 'expired records'],
        ['stripe_events', 1, 'records of webhook events applied over 90 days ago'],
        ['refresh_tokens', 4, 'tokens of sessions expired, or revoked over 7 days ago'],
        ['account_tokens', 0, 'emailed tokens past their expiry'],
      ]);

      // Run again (an operator's run, a second worker's): nothing is left to purge and nothing else goes.
      const again = await jobs.queues.enqueue(jobs.jobs.maintenance.run, {}, randomUUID());
      await expect.poll(() => queue.getJobState(again), { timeout: 15_000 }).toBe('completed');
      expect(purgedBy(again).map(([table, purged]) => [table, purged])).toEqual([
        ['audit_log', 0],
        ['idempotency_keys', 0],
        ['stripe_events', 0],
        ['refresh_tokens', 0],
        ['account_tokens', 0],
      ]);
      expect(await remaining()).toEqual({ audit: 1, idempotency: 1, stripeEvents: 1, allStripeEvents: 1, tokens: 3 });
    } finally {
      await jobs.close();
    }
  });

  it("when the worker's clock is behind the database's, judges what is past retention by the worker's clock", async () => {
    const { rows } = await db.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [
      `maintenance-${randomUUID()}@example.com`,
    ]);
    const familyId = randomUUID();
    // Expired a day ago for the database; three days ago, where the worker's clock stands, it was live.
    await db.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, now() - interval '1 day')`,
      [rows[0].id, familyId, randomUUID()],
    );
    const jobs = await startTestJobs(t, { now: () => new Date(Date.now() - 3 * 86_400_000) });
    try {
      const run = await jobs.queues.enqueue(jobs.jobs.maintenance.run, {}, randomUUID());
      await expect.poll(() => jobs.queues.queue('maintenance').getJobState(run), { timeout: 15_000 }).toBe('completed');
      expect(await count('SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1', [familyId])).toBe(1);
    } finally {
      await jobs.close();
    }
  });
});
