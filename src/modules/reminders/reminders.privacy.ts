import type { PersonalDataSection } from '../privacy/privacy.port.js';
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
