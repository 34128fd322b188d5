import type { DbClient } from '../../platform/db.js';
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

export function insertReminder(db: DbClient, data: NewReminder): Promise<ReminderRow> {
  return db.reminderSchedule.create({ data: { ...data, dueDate: asDate(data.dueDate) } });
}

/**
 * Inserts the occurrence that follows `previousId` unless one already does (ON CONFLICT DO NOTHING on the unique
 * previous_id): completing an occurrence twice, or twice at once, leaves one next occurrence. True when inserted.
 */
export async function insertNextOccurrence(db: DbClient, data: NewReminder & { previousId: string }): Promise<boolean> {
  const { count } = await db.reminderSchedule.createMany({
    data: [{ ...data, dueDate: asDate(data.dueDate) }],
    skipDuplicates: true,
  });
  return count === 1;
}

/**
 * The user's reminder, row-locked for the rest of the transaction, so concurrent changes to it run one after the
 * other and each sees what the previous one committed. Null when it is not theirs (or does not exist).
 */
export async function lockReminder(tx: DbClient, userId: string, id: string): Promise<ReminderRow | null> {
  const locked = await tx.$queryRaw<unknown[]>`
    SELECT 1 FROM reminder_schedules WHERE id = ${id}::uuid AND user_id = ${userId}::uuid FOR UPDATE`;
  if (locked.length === 0) return null;
  return tx.reminderSchedule.findFirst({ where: { id, userId } });
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
  tx: DbClient,
  userId: string,
  id: string,
  changes: ReminderChanges,
): Promise<ReminderRow> {
  const { dueDate, ...rest } = changes;
  return tx.reminderSchedule.update({
    where: { id, userId },
    data: { ...rest, ...(dueDate !== undefined ? { dueDate: asDate(dueDate) } : {}) },
  });
}

export async function deleteReminder(tx: DbClient, userId: string, id: string): Promise<boolean> {
  const { count } = await tx.reminderSchedule.deleteMany({ where: { id, userId } });
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
export function listReminders(db: DbClient, userId: string, query: ReminderQuery): Promise<ReminderRow[]> {
  const { after } = query;
  return db.reminderSchedule.findMany({
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

export function allReminders(db: DbClient, userId: string): Promise<ReminderRow[]> {
  return db.reminderSchedule.findMany({ where: { userId }, orderBy: [{ dueDate: 'asc' }, { id: 'asc' }] });
}

export async function deleteReminders(tx: DbClient, userId: string): Promise<void> {
  await tx.reminderSchedule.deleteMany({ where: { userId } });
}
