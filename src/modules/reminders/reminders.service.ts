import { NotFoundError, UnprocessableError, ValidationError } from '../../http/errors.js';
import type { Cursors } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import type { Db } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import { lastDelivery } from './reminders.deliveries.repo.js';
import { dayOfMonth, nextDueDate } from './reminders.recurrence.js';
import {
  deleteReminder,
  findReminder,
  insertNextOccurrence,
  insertReminder,
  listReminders,
  lockAndCountActive,
  lockReminder,
  type ReminderChanges,
  updateReminder,
} from './reminders.repo.js';
import {
  type CreateReminderBody,
  isoDate,
  type Reminder,
  type ReminderDetail,
  type ReminderListQuery,
  type ReminderRow,
  toReminder,
  type UpdateReminderBody,
} from './reminders.schemas.js';

/** A completion instant may run this far ahead of our clock (a phone's clock drifts); further is a client error. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Active (not completed) reminders an account may hold without the `unlimited-reminders` plan feature. */
export const ACTIVE_REMINDER_CAP = 10;

export interface RemindersServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  cursors: Cursors;
  now: () => Date;
  /**
   * The plan gate of the reminder cap (built by app.ts from the entitlements): resolves when the user may hold more
   * than ACTIVE_REMINDER_CAP active reminders, throws 403 `plan-required` naming the plan that allows it otherwise.
   */
  requireUnlimited: (userId: string) => Promise<void>;
}

export type RemindersService = ReturnType<typeof createRemindersService>;

export function createRemindersService(deps: RemindersServiceDeps) {
  const { db, auditLog, cursors, now } = deps;
  const notFound = () => new NotFoundError('not-found', 'No such reminder');
  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId, targetType: 'reminder' });

  /**
   * Every list shares the cursor signing key, so a genuine cursor of a list sorted on something else could be
   * replayed here: one that does not hold a calendar date is refused like a forged one.
   */
  function decodeCursor(cursor: string | undefined) {
    const position = cursors.decode(cursor);
    if (!position) return undefined;
    if (!DATE.test(position.key)) {
      throw new ValidationError('invalid-cursor', 'The cursor is not one this API issued', [
        { path: 'query.cursor', message: 'is not a valid cursor' },
      ]);
    }
    return { dueDate: position.key, id: position.id };
  }

  /** Field names only, in a stable order, for the audit row; values never leave this function. */
  function diff(current: ReminderRow, input: UpdateReminderBody) {
    const changes: ReminderChanges = {};
    const fields: string[] = [];
    if (input.title !== undefined && input.title !== current.title) {
      changes.title = input.title;
      fields.push('title');
    }
    if (input.dueDate !== undefined && input.dueDate !== isoDate(current.dueDate)) {
      changes.dueDate = input.dueDate;
      fields.push('dueDate');
    }
    if (input.recurrence !== undefined && input.recurrence !== current.recurrence) {
      changes.recurrence = input.recurrence;
      fields.push('recurrence');
    }
    if (input.channel !== undefined && input.channel !== current.channel) {
      changes.channel = input.channel;
      fields.push('channel');
    }
    // A new date, or a series turned monthly, starts from the day now chosen; an unchanged series keeps its anchor.
    if (changes.dueDate !== undefined || changes.recurrence !== undefined) {
      changes.anchorDay = dayOfMonth(changes.dueDate ?? isoDate(current.dueDate));
    }
    let completing = false;
    if (input.completedAt === null && current.completedAt !== null) {
      changes.completedAt = null;
      fields.push('completedAt');
    } else if (typeof input.completedAt === 'string') {
      const at = new Date(input.completedAt);
      if (current.completedAt === null) {
        completing = true;
        changes.completedAt = at;
      } else if (at.getTime() !== current.completedAt.getTime()) {
        changes.completedAt = at;
        fields.push('completedAt');
      }
    }
    return { changes, fields, completing };
  }

  return {
    async create(userId: string, input: CreateReminderBody, ctx: RequestContext): Promise<Reminder> {
      const row = await db.transaction(async (tx) => {
        // Counted under the account's lock: two creations racing at the cap cannot both pass.
        if ((await lockAndCountActive(tx, userId)) >= ACTIVE_REMINDER_CAP) await deps.requireUnlimited(userId);
        const created = await insertReminder(tx, { userId, ...input, anchorDay: dayOfMonth(input.dueDate) });
        await auditLog.record(tx, {
          action: 'reminder.create',
          userId,
          targetId: created.id,
          fields: ['title', 'dueDate', 'recurrence', 'channel'],
          ...audit(ctx),
        });
        return created;
      });
      return toReminder(row);
    },

    async get(userId: string, id: string): Promise<ReminderDetail> {
      const row = await findReminder(db, userId, id);
      if (!row) throw notFound();
      return { ...toReminder(row), lastDelivery: (await lastDelivery(db, id)) ?? null };
    },

    async list(userId: string, query: ReminderListQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await listReminders(db, userId, {
        status: query.status,
        limit: query.limit,
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to } : {}),
        ...(after ? { after } : {}),
      });
      return cursors.page(rows, query.limit, (r) => ({ key: isoDate(r.dueDate), id: r.id }), toReminder);
    },

    /**
     * Completing (completedAt from null to an instant) a recurring reminder creates its next occurrence in the same
     * transaction. The row lock orders concurrent PATCHes, so only the first sees the transition; the unique
     * previous_id also keeps complete → reopen → complete from creating a second next occurrence. Reopening leaves
     * the next occurrence in place: it may already have been edited or completed, and deleting it would lose that.
     */
    async update(userId: string, id: string, input: UpdateReminderBody, ctx: RequestContext): Promise<Reminder> {
      if (typeof input.completedAt === 'string' && Date.parse(input.completedAt) > now().getTime() + CLOCK_SKEW_MS) {
        throw new UnprocessableError('validation-failed', 'The request has invalid fields', [
          { path: 'body.completedAt', message: 'must not be in the future' },
        ]);
      }
      const row = await db.transaction(async (tx) => {
        const current = await lockReminder(tx, userId, id);
        if (!current) throw notFound();
        const { changes, fields, completing } = diff(current, input);
        if (fields.length === 0 && !completing) return current;
        const updated = await updateReminder(tx, userId, id, changes);
        if (fields.length > 0)
          await auditLog.record(tx, { action: 'reminder.update', userId, targetId: id, fields, ...audit(ctx) });
        if (completing) {
          await auditLog.record(tx, {
            action: 'reminder.complete',
            userId,
            targetId: id,
            fields: ['completedAt'],
            ...audit(ctx),
          });
          const dueDate = isoDate(updated.dueDate);
          const next = nextDueDate(dueDate, updated.recurrence, updated.anchorDay);
          if (next !== null) {
            await insertNextOccurrence(tx, {
              userId,
              title: updated.title,
              dueDate: next,
              // Only a monthly series needs its anchor carried; the others restart from the day they land on.
              anchorDay: updated.recurrence === 'monthly' ? updated.anchorDay : dayOfMonth(next),
              recurrence: updated.recurrence,
              channel: updated.channel,
              previousId: id,
            });
          }
        }
        return updated;
      });
      return toReminder(row);
    },

    async remove(userId: string, id: string, ctx: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await deleteReminder(tx, userId, id))) throw notFound();
        await auditLog.record(tx, { action: 'reminder.delete', userId, targetId: id, ...audit(ctx) });
      });
    },
  };
}
