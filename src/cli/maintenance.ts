import { purgeExpired } from '../http/idempotency.repo.js';
import { purgeAuditOlderThan } from '../modules/audit/audit.repo.js';
import { purgeEndedSessions } from '../modules/auth/auth.repo.js';
import { purgeStripeEventsOlderThan } from '../modules/subscriptions/subscriptions.repo.js';
import type { Queryable } from '../platform/db.js';
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
  batch(db: Queryable, size: number): Promise<number>;
}

function purges(retentionDays: number): Purge[] {
  return [
    {
      table: 'audit_log',
      what: `entries older than ${retentionDays} days`,
      batch: (db, size) => purgeAuditOlderThan(db, retentionDays, size),
    },
    { table: 'idempotency_keys', what: 'expired records', batch: purgeExpired },
    {
      table: 'stripe_events',
      what: `records of webhook events applied over ${STRIPE_EVENT_DAYS} days ago`,
      batch: (db, size) => purgeStripeEventsOlderThan(db, STRIPE_EVENT_DAYS, size),
    },
    {
      table: 'refresh_tokens',
      what: `tokens of sessions expired, or revoked over ${REVOKED_SESSION_DAYS} days ago`,
      // A batch counts sessions, not rows: a session holds a few dozen tokens (one per refresh).
      batch: (db, size) => purgeEndedSessions(db, REVOKED_SESSION_DAYS, Math.max(1, Math.floor(size / 50))),
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
        deleted = await purge.batch(db, batchSize);
        total += deleted;
      } while (deleted > 0);
      process.stdout.write(`${purge.table}: ${total} purged (${purge.what})\n`);
    }
  } finally {
    await close();
  }
  return 0;
});
