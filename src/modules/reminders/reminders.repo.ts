import { Prisma } from '../../generated/prisma/client.js';
import { clientOf, type Queryable, rowsOf } from '../../platform/db-access.js';
import type { ReminderRow } from './reminders.schemas.js';

type Recurrence = ReminderRow['recurrence'];
type Channel = ReminderRow['channel'];

const asDate = (date: string) => new Date(`${date}T00:00:00.000Z`);

export interface NewReminder {
  userId: string;
  title: string;
  dueDate: string;
  anchorDay: number;
  recurrence: Recurrence;
  channel: Channel;
  previousId?: string;
}

export function insertReminder(db: Queryable, data: NewReminder): Promise<ReminderRow> {
  return clientOf(db).reminderSchedule.create({ data: { ...data, dueDate: asDate(data.dueDate) } });
}

/**
 * Inserts the occurrence that follows `previousId` unless one already does (ON CONFLICT DO NOTHING on the unique
 * previous_id): completing an occurrence twice, or twice at once, leaves one next occurrence. True when inserted.
 */
export async function insertNextOccurrence(
  db: Queryable,
  data: NewReminder & { previousId: string },
): Promise<boolean> {
  const { count } = await clientOf(db).reminderSchedule.createMany({
    data: [{ ...data, dueDate: asDate(data.dueDate) }],
    skipDuplicates: true,
  });
  return count === 1;
}

/**
 * The user's reminder, row-locked for the rest of the transaction, so concurrent changes to it run one after the
 * other and each sees what the previous one committed. Null when it is not theirs (or does not exist).
 */
export async function lockReminder(tx: Queryable, userId: string, id: string): Promise<ReminderRow | null> {
  const locked = await clientOf(tx).$queryRaw<unknown[]>`
    SELECT 1 FROM reminder_schedules WHERE id = ${id}::uuid AND user_id = ${userId}::uuid FOR UPDATE`;
  if (locked.length === 0) return null;
  return clientOf(tx).reminderSchedule.findFirst({ where: { id, userId } });
}

export function findReminder(db: Queryable, userId: string, id: string): Promise<ReminderRow | null> {
  return clientOf(db).reminderSchedule.findFirst({ where: { id, userId } });
}

export interface ReminderChanges {
  title?: string;
  dueDate?: string;
  anchorDay?: number;
  recurrence?: Recurrence;
  channel?: Channel;
  completedAt?: Date | null;
}

export function updateReminder(
  tx: Queryable,
  userId: string,
  id: string,
  changes: ReminderChanges,
): Promise<ReminderRow> {
  const { dueDate, ...rest } = changes;
  return clientOf(tx).reminderSchedule.update({
    where: { id, userId },
    data: { ...rest, ...(dueDate !== undefined ? { dueDate: asDate(dueDate) } : {}) },
  });
}

export async function deleteReminder(tx: Queryable, userId: string, id: string): Promise<boolean> {
  const { count } = await clientOf(tx).reminderSchedule.deleteMany({ where: { id, userId } });
  return count === 1;
}

export interface ReminderQuery {
  from?: string;
  to?: string;
  status: 'pending' | 'completed' | 'all';
  limit: number;
  after?: { dueDate: string; id: string };
}

/** Soonest due first, keyset-paginated on (due_date, id), served by the (user_id, due_date) index. */
export function listReminders(db: Queryable, userId: string, query: ReminderQuery): Promise<ReminderRow[]> {
  const { after } = query;
  return clientOf(db).reminderSchedule.findMany({
    where: {
      userId,
      ...(query.status === 'pending' ? { completedAt: null } : {}),
      ...(query.status === 'completed' ? { completedAt: { not: null } } : {}),
      ...(query.from || query.to
        ? {
            dueDate: {
              ...(query.from ? { gte: asDate(query.from) } : {}),
              ...(query.to ? { lte: asDate(query.to) } : {}),
            },
          }
        : {}),
      ...(after
        ? {
            OR: [{ dueDate: { gt: asDate(after.dueDate) } }, { dueDate: asDate(after.dueDate), id: { gt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ dueDate: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
}

export function allReminders(db: Queryable, userId: string): Promise<ReminderRow[]> {
  return clientOf(db).reminderSchedule.findMany({ where: { userId }, orderBy: [{ dueDate: 'asc' }, { id: 'asc' }] });
}

export async function deleteReminders(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).reminderSchedule.deleteMany({ where: { userId } });
}

/** Locks the user's account row until the transaction ends, then counts their active (not completed) reminders. */
export async function lockAndCountActive(tx: Queryable, userId: string): Promise<number> {
  const rows = await rowsOf<{ active: number }>(
    tx,
    Prisma.sql`WITH account AS (SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE)
      SELECT count(r.id)::int AS active FROM account LEFT JOIN reminder_schedules r
        ON r.user_id = account.id AND r.completed_at IS NULL`,
  );
  return rows[0]?.active ?? 0;
}
