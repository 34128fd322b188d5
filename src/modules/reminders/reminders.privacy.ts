import type { Logger } from '../../platform/logger.js';
import type { PersonalDataSection } from '../privacy/privacy.port.js';
import { deleteDeliveriesOf, deliveriesOf } from './reminders.deliveries.repo.js';
import { allReminders, deleteReminders } from './reminders.repo.js';
import { toReminder } from './reminders.schemas.js';

/** Every reminder of the user, completed ones included, with the day a monthly series returns to. */
export function createRemindersPrivacySection(): PersonalDataSection {
  return {
    name: 'reminders',
    async export(db, userId) {
      const rows = await allReminders(db, userId);
      return rows.map((row) => ({ ...toReminder(row), anchorDay: row.anchorDay }));
    },
    erase: (tx, userId) => deleteReminders(tx, userId),
  };
}

export interface PendingDeliveries {
  /** Removes the queued deliveries of these reminders. */
  removeFor(reminderIds: ReadonlySet<string>): Promise<number>;
}

/**
 * Every delivery of the user's reminders. Erasure also removes their queued deliveries first (best effort: one
 * that stays finds its reminder gone and sends nothing).
 */
export function createReminderDeliveriesPrivacySection(deps: {
  pending: PendingDeliveries | undefined;
  logger: Logger;
}): PersonalDataSection {
  return {
    name: 'reminderDeliveries',
    async export(db, userId) {
      const rows = await deliveriesOf(db, userId);
      return rows.map((d) => ({
        reminderId: d.reminderId,
        occurrence: d.occurrence.toISOString().slice(0, 10),
        channel: d.channel,
        status: d.status,
        attempts: d.attempts,
        lastErrorCode: d.lastErrorCode,
        sentAt: d.sentAt?.toISOString() ?? null,
      }));
    },
    async beforeErase(db, userId) {
      if (!deps.pending) return;
      const reminders = new Set((await allReminders(db, userId)).map((r) => r.id));
      await deps.pending.removeFor(reminders).catch((err: unknown) => {
        deps.logger.warn({ err: { message: (err as Error).message } }, 'queued deliveries not removed');
      });
    },
    erase: (tx, userId) => deleteDeliveriesOf(tx, userId),
  };
}
