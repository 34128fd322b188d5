import type pg from 'pg';
import { cliLogger, openCliDatabase, readBatchSize, readCliConfig, runCli } from './cli-database.js';

/**
 * `npm run maintenance` (production image: `node dist/cli/maintenance.js`), daily from a CronJob: purges audit
 * entries past AUDIT_LOG_RETENTION_DAYS, expired idempotency records, Stripe event records past any redelivery,
 * and the refresh tokens of sessions that
 * expired or were revoked long ago. Each purge deletes in small batches, each its own short statement, so no lock
 * is held for long while the API runs; a rerun, or a run interrupted half-way, is safe. Prints one line per purge.
 * Exit codes: 0 done, 1 failed, 2 usage.
 */

const USAGE = 'usage: maintenance [--batch-size <1-50000>]\n';
/** Revoked sessions are kept this long for support and incident questions ("was I signed out?"). */
const REVOKED_SESSION_DAYS = 7;
/**
 * Stripe retries a webhook for up to 3 days and keeps events 30 days; an event id older than this can never be
 * delivered again, so its exactly-once record has done its job.
 */
const STRIPE_EVENT_DAYS = 90;

interface Purge {
  table: string;
  what: string;
  /** Deletes one batch; answers the rows deleted. */
  batch(pool: pg.Pool, size: number): Promise<number>;
}

function purges(retentionDays: number): Purge[] {
  return [
    {
      table: 'audit_log',
      what: `entries older than ${retentionDays} days`,
      batch: async (pool, size) =>
        (
          await pool.query(
            `DELETE FROM audit_log WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM audit_log WHERE created_at < now() - make_interval(days => $1) LIMIT $2))`,
            [retentionDays, size],
          )
        ).rowCount ?? 0,
    },
    {
      table: 'idempotency_keys',
      what: 'expired records',
      batch: async (pool, size) =>
        (
          await pool.query(
            `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1))`,
            [size],
          )
        ).rowCount ?? 0,
    },
    {
      table: 'stripe_events',
      what: `records of webhook events applied over ${STRIPE_EVENT_DAYS} days ago`,
      batch: async (pool, size) =>
        (
          await pool.query(
            `DELETE FROM stripe_events WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM stripe_events WHERE processed_at < now() - make_interval(days => $1) LIMIT $2))`,
            [STRIPE_EVENT_DAYS, size],
          )
        ).rowCount ?? 0,
    },
    {
      // Whole sessions (token families) only: a revoked token is what keeps its family ended, so deleting it while
      // a later token of the family remains could bring that session back to life. A family with no row left is
      // simply not live.
      table: 'refresh_tokens',
      what: `tokens of sessions expired, or revoked over ${REVOKED_SESSION_DAYS} days ago`,
      batch: async (pool, size) =>
        (
          await pool.query(
            `DELETE FROM refresh_tokens WHERE family_id IN (
               SELECT family_id FROM refresh_tokens GROUP BY family_id
               HAVING max(expires_at) < now() OR min(revoked_at) < now() - make_interval(days => $1)
               LIMIT $2)`,
            // A batch counts sessions, not rows: a session holds a few dozen tokens (one per refresh).
            [REVOKED_SESSION_DAYS, Math.max(1, Math.floor(size / 50))],
          )
        ).rowCount ?? 0,
    },
  ];
}

runCli('maintenance', async () => {
  const batchSize = readBatchSize(USAGE, { fallback: 5000, max: 50_000 });
  if (batchSize === undefined) return 0;
  const config = readCliConfig();
  const { db, close } = await openCliDatabase(config, cliLogger());
  try {
    for (const purge of purges(config.audit.retentionDays)) {
      let total = 0;
      let deleted: number;
      do {
        deleted = await purge.batch(db.pool, batchSize);
        total += deleted;
      } while (deleted > 0);
      process.stdout.write(`${purge.table}: ${total} purged (${purge.what})\n`);
    }
  } finally {
    await close();
  }
  return 0;
});
