export type Recurrence = 'none' | 'daily' | 'weekly' | 'monthly';

const DAY_MS = 86_400_000;

/** Calendar dates as `YYYY-MM-DD`, computed in UTC so no time zone or DST shift can move a day. */
const parse = (date: string) => new Date(`${date}T00:00:00.000Z`);
const format = (date: Date) => date.toISOString().slice(0, 10);

export const dayOfMonth = (date: string): number => parse(date).getUTCDate();

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * The due date of the occurrence after one due on `dueDate`. Anchored on the schedule, not on when it was completed:
 * a bill due on the 5th stays due on the 5th however late last month's was paid.
 *
 * Monthly: the `anchorDay` of the following month, clamped to that month's last day. The anchor is the day the user
 * chose and is carried along the series, so a reminder on the 31st goes Jan 31 → Feb 28 (29 in a leap year) →
 * Mar 31 → Apr 30, instead of drifting to the 28th for good.
 */
export function nextDueDate(dueDate: string, recurrence: Recurrence, anchorDay: number): string | null {
  const current = parse(dueDate);
  switch (recurrence) {
    case 'none':
      return null;
    case 'daily':
      return format(new Date(current.getTime() + DAY_MS));
    case 'weekly':
      return format(new Date(current.getTime() + 7 * DAY_MS));
    case 'monthly': {
      const year = current.getUTCFullYear() + (current.getUTCMonth() === 11 ? 1 : 0);
      const month = (current.getUTCMonth() + 1) % 12;
      return format(new Date(Date.UTC(year, month, Math.min(anchorDay, daysInMonth(year, month)))));
    }
  }
}
