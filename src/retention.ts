import { purgeExpired } from './http/idempotency.repo.js';
import { purgeAuditOlderThan } from './modules/audit/audit.repo.js';
import { purgeExpiredAccountTokens } from './modules/auth/account-tokens.repo.js';
import { purgeEndedSessions } from './modules/auth/auth.repo.js';
import type { Purge } from './modules/maintenance/maintenance.service.js';
import { purgeStripeEventsOlderThan } from './modules/subscriptions/subscriptions.repo.js';

/**
 * What the daily maintenance deletes, and after how long: one purge per kind of record, each from the repository
 * that owns the table. Assembled here, beside the composition roots, because it spans modules; `npm run maintenance`
 * and the `maintenance.run` job (src/jobs.ts) run this one list.
 */

/** Revoked sessions are kept this long for support and incident questions ("was I signed out?"). */
export const REVOKED_SESSION_DAYS = 7;
/**
 * Stripe retries a webhook for up to 3 days and keeps events 30 days; an event id older than this can never be
 * delivered again, so its exactly-once record has done its job.
 */
export const STRIPE_EVENT_DAYS = 90;

export function retentionPurges(retention: { auditLogDays: number }): Purge[] {
  const auditDays = retention.auditLogDays;
  return [
    {
      table: 'audit_log',
      what: `entries older than ${auditDays} days`,
      batch: (db, size, now) => purgeAuditOlderThan(db, auditDays, size, now),
    },
    { table: 'idempotency_keys', what: 'expired records', batch: purgeExpired },
    {
      table: 'stripe_events',
      what: `records of webhook events applied over ${STRIPE_EVENT_DAYS} days ago`,
      batch: (db, size, now) => purgeStripeEventsOlderThan(db, STRIPE_EVENT_DAYS, size, now),
    },
    {
      table: 'refresh_tokens',
      what: `tokens of sessions expired, or revoked over ${REVOKED_SESSION_DAYS} days ago`,
      // A batch counts sessions, not rows: a session holds a few dozen tokens (one per refresh).
      batch: (db, size, now) => purgeEndedSessions(db, REVOKED_SESSION_DAYS, Math.max(1, Math.floor(size / 50)), now),
    },
    { table: 'account_tokens', what: 'emailed tokens past their expiry', batch: purgeExpiredAccountTokens },
  ];
}
