import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/postgres.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  // end() resolves before its connections have closed, and the database is then dropped WITH (FORCE): a connection
  // the drop ends must not surface as an uncaught error.
  db.on('error', () => undefined);
});
afterAll(async () => {
  await db.end();
  await database.drop();
});

const maintenance = (args: string[] = [], env: Record<string, string> = {}) =>
  runCli('maintenance', args, { DATABASE_URL: database.url, AUDIT_LOG_RETENTION_DAYS: '30', ...env });

const count = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows[0].n as number;

async function newUser(): Promise<string> {
  const { rows } = await db.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [
    `m-${randomUUID()}@example.com`,
  ]);
  return rows[0].id;
}

/** A session of `tokens` rows, each with the given expiry and revocation (SQL interval expressions relative to now). */
async function session(userId: string, tokens: Array<{ expires: string; revoked?: string }>): Promise<string> {
  const familyId = randomUUID();
  for (const t of tokens) {
    await db.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at)
       VALUES ($1, $2, $3, now() + $4::interval, now() + $5::interval)`,
      [userId, familyId, randomUUID(), t.expires, t.revoked ?? null],
    );
  }
  return familyId;
}

const familyRows = (familyId: string) =>
  count('SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1', [familyId]);

describe('npm run maintenance', { timeout: 60_000 }, () => {
  it('when rows are past their time, purges them in batches, keeps the rest, prints counts, and a rerun purges 0', async () => {
    const userId = await newUser();
    for (const age of ['31 days', '45 days', '400 days']) {
      await db.query(
        `INSERT INTO audit_log (user_id, action, created_at) VALUES ($1, 'auth.login', now() - $2::interval)`,
        [userId, age],
      );
    }
    await db.query(
      `INSERT INTO audit_log (user_id, action, created_at) VALUES ($1, 'auth.login', now() - interval '29 days')`,
      [userId],
    );
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
    const expired = await session(userId, [{ expires: '-2 days' }, { expires: '-1 day' }]);
    const longRevoked = await session(userId, [{ expires: '+20 days', revoked: '-8 days' }, { expires: '+21 days' }]);
    const recentlyRevoked = await session(userId, [{ expires: '+20 days', revoked: '-1 day' }]);
    // The newest token is live: the older, expired ones of the same session must stay (reuse detection needs them).
    const live = await session(userId, [{ expires: '-1 day' }, { expires: '+29 days' }]);

    const result = await maintenance(['--batch-size', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'audit_log: 3 purged (entries older than 30 days)',
        'idempotency_keys: 2 purged (expired records)',
        'stripe_events: 1 purged (records of webhook events applied over 90 days ago)',
        'refresh_tokens: 4 purged (tokens of sessions expired, or revoked over 7 days ago)',
        'account_tokens: 0 purged (emailed tokens past their expiry)',
        '',
      ].join('\n'),
    );
    expect(await count('SELECT count(*)::int AS n FROM audit_log')).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM idempotency_keys WHERE expires_at > now()')).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM idempotency_keys')).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM stripe_events WHERE id LIKE 'evt_recent_%'`)).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM stripe_events')).toBe(1);
    expect([await familyRows(expired), await familyRows(longRevoked)]).toEqual([0, 0]);
    expect([await familyRows(recentlyRevoked), await familyRows(live)]).toEqual([1, 2]);

    const again = await maintenance();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^audit_log: 0 purged .*\nidempotency_keys: 0 purged .*\nstripe_events: 0 purged .*\nrefresh_tokens: 0 purged /,
    );
  });

  it('when the batch size is not a whole number in range, exits 2 with the usage and purges nothing', async () => {
    const userId = await newUser();
    await db.query(
      `INSERT INTO audit_log (user_id, action, created_at) VALUES ($1, 'auth.login', now() - interval '90 days')`,
      [userId],
    );
    for (const bad of ['0', 'ten', '50001']) {
      const result = await maintenance(['--batch-size', bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('usage: maintenance');
    }
    expect(await count(`SELECT count(*)::int AS n FROM audit_log WHERE user_id = $1`, [userId])).toBe(1);
  });

  it('when the configuration is invalid, says which setting and exits 1', async () => {
    const result = await maintenance([], { AUDIT_LOG_RETENTION_DAYS: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/AUDIT_LOG_RETENTION_DAYS/);
    expect(result.stdout).toBe('');
  });
});
