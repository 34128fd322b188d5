import { Prisma } from '../../generated/prisma/client.js';
import { clientOf, execute, type Queryable, rowsOf } from '../../platform/db-access.js';

/** How far back a missed send time is still delivered (an outage of the worker, a deploy). Older ones are let go. */
export const CATCH_UP_HOURS = 48;

export interface DueOccurrence {
  reminderId: string;
  /** The due date, `YYYY-MM-DD`. */
  occurrence: string;
}

/**
 * Occurrences whose send time has come and that have no delivery yet: uncompleted reminders of active accounts,
 * sent at the profile's `reminder_hour` (9 without a profile) of the due date in the profile's time zone (UTC without
 * one). PostgreSQL does the time-zone arithmetic (`timestamp AT TIME ZONE`), so a daylight-saving change moves the
 * instant with the wall clock. The due-date window (UTC today − 3 … + 1) lets the index on `due_date` narrow the scan:
 * every zone's send time of a due date lies within it, catch-up included. Keyset-paged on the reminder id.
 */
export function dueOccurrences(db: Queryable, now: Date, after: string | undefined, limit: number) {
  return rowsOf<DueOccurrence>(
    db,
    Prisma.sql`
      SELECT r.id AS "reminderId", to_char(r.due_date, 'YYYY-MM-DD') AS occurrence
      FROM reminder_schedules r
      JOIN users u ON u.id = r.user_id AND u.status = 'active'
      LEFT JOIN user_profiles p ON p.user_id = r.user_id
      CROSS JOIN LATERAL (
        SELECT ((r.due_date + make_interval(hours => COALESCE(p.reminder_hour, 9)))::timestamp
                AT TIME ZONE COALESCE(p.timezone, 'UTC')) AS send_at
      ) s
      WHERE r.completed_at IS NULL
        AND r.due_date BETWEEN (${now}::timestamptz AT TIME ZONE 'UTC')::date - 3
                           AND (${now}::timestamptz AT TIME ZONE 'UTC')::date + 1
        AND s.send_at <= ${now}::timestamptz
        AND s.send_at > ${now}::timestamptz - make_interval(hours => ${CATCH_UP_HOURS})
        AND NOT EXISTS (
          SELECT 1 FROM reminder_deliveries d
          WHERE d.reminder_id = r.id AND d.occurrence = r.due_date AND d.status <> 'retrying'
        )
        ${after ? Prisma.sql`AND r.id > ${after}::uuid` : Prisma.empty}
      ORDER BY r.id
      LIMIT ${limit}`,
  );
}

export interface DeliveryTarget {
  userId: string;
  email: string;
  title: string;
  dueDate: string;
  channel: 'push' | 'email';
  completed: boolean;
  active: boolean;
  /** The status recorded for the occurrence asked about; null when nothing is recorded yet. */
  recorded: DeliveryStatus | null;
}

/**
 * What a delivery of `occurrence` needs of a reminder and its owner, and what is recorded of it already, in one round
 * trip; undefined when the reminder is gone.
 */
export async function deliveryTarget(
  db: Queryable,
  reminderId: string,
  occurrence: string,
): Promise<DeliveryTarget | undefined> {
  const [row] = await rowsOf<DeliveryTarget>(
    db,
    Prisma.sql`
      SELECT r.user_id AS "userId", u.email, r.title, to_char(r.due_date, 'YYYY-MM-DD') AS "dueDate",
             r.channel::text AS channel, r.completed_at IS NOT NULL AS completed, u.status = 'active' AS active,
             d.status::text AS recorded
      FROM reminder_schedules r JOIN users u ON u.id = r.user_id
      LEFT JOIN reminder_deliveries d ON d.reminder_id = r.id AND d.occurrence = ${occurrence}::date
      WHERE r.id = ${reminderId}::uuid`,
  );
  return row;
}

export type DeliveryStatus = 'retrying' | 'sent' | 'failed' | 'skipped';

export interface DeliveryRow {
  occurrence: string;
  channel: 'push' | 'email';
  status: DeliveryStatus;
  attempts: number;
  lastErrorCode: string | null;
  sentAt: string | null;
}

const DELIVERY_COLUMNS = Prisma.sql`
  to_char(occurrence, 'YYYY-MM-DD') AS occurrence, channel::text AS channel, status::text AS status, attempts::int,
  last_error_code AS "lastErrorCode",
  to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "sentAt"`;

/** The most recent occurrence's delivery of a reminder, for `GET /reminders/:id`. */
export async function lastDelivery(db: Queryable, reminderId: string): Promise<DeliveryRow | undefined> {
  const [row] = await rowsOf<DeliveryRow>(
    db,
    Prisma.sql`SELECT ${DELIVERY_COLUMNS} FROM reminder_deliveries
               WHERE reminder_id = ${reminderId}::uuid ORDER BY occurrence DESC LIMIT 1`,
  );
  return row;
}

export interface DeliveryOutcome {
  reminderId: string;
  userId: string;
  occurrence: string;
  channel: 'push' | 'email';
  status: DeliveryStatus;
  attempts: number;
  lastErrorCode: string | null;
  sentAt: Date | null;
}

/**
 * Records an attempt's outcome. A final status (sent, failed, skipped) is never overwritten: the first one recorded
 * stands, so a late duplicate of a job cannot turn "sent" into "failed".
 */
export function recordDelivery(db: Queryable, d: DeliveryOutcome): Promise<number> {
  return execute(
    db,
    Prisma.sql`
      INSERT INTO reminder_deliveries
        (reminder_id, user_id, occurrence, channel, status, attempts, last_error_code, sent_at)
      VALUES (${d.reminderId}::uuid, ${d.userId}::uuid, ${d.occurrence}::date, ${d.channel}::reminder_channel,
              ${d.status}::reminder_delivery_status, ${d.attempts}, ${d.lastErrorCode}, ${d.sentAt})
      ON CONFLICT (reminder_id, occurrence) DO UPDATE
        SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, last_error_code = EXCLUDED.last_error_code,
            sent_at = EXCLUDED.sent_at, updated_at = now()
        WHERE reminder_deliveries.status = 'retrying'`,
  );
}

/**
 * Puts a `failed` delivery back to `retrying`, so that a retried job sends it (`deliver` sends only while nothing final
 * is recorded). Only `failed`: a `sent` or `skipped` record stays final. Returns the rows changed (0 or 1).
 */
export function reopenFailedDelivery(db: Queryable, reminderId: string, occurrence: string): Promise<number> {
  return execute(
    db,
    Prisma.sql`
      UPDATE reminder_deliveries SET status = 'retrying', updated_at = now()
      WHERE reminder_id = ${reminderId}::uuid AND occurrence = ${occurrence}::date AND status = 'failed'`,
  );
}

/** Every delivery of a user's reminders, for the GDPR export. */
export function deliveriesOf(db: Queryable, userId: string) {
  return clientOf(db).reminderDelivery.findMany({
    where: { userId },
    orderBy: [{ occurrence: 'asc' }, { reminderId: 'asc' }],
    select: {
      reminderId: true,
      occurrence: true,
      channel: true,
      status: true,
      attempts: true,
      lastErrorCode: true,
      sentAt: true,
    },
  });
}

export async function deleteDeliveriesOf(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).reminderDelivery.deleteMany({ where: { userId } });
}
