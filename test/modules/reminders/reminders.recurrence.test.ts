import { describe, expect, it } from 'vitest';
import { dayOfMonth, nextDueDate, type Recurrence } from '../../../src/modules/reminders/reminders.recurrence.js';

describe('nextDueDate', () => {
  it.each<[string, Recurrence, number, string | null]>([
    ['2026-12-01', 'none', 1, null],
    ['2026-12-01', 'daily', 1, '2026-12-02'],
    ['2026-12-31', 'daily', 31, '2027-01-01'],
    ['2027-02-28', 'daily', 28, '2027-03-01'],
    ['2028-02-28', 'daily', 28, '2028-02-29'],
    ['2028-02-29', 'daily', 29, '2028-03-01'],
    // Across the US and EU daylight-saving changes: a calendar day is still one day.
    ['2027-03-13', 'daily', 13, '2027-03-14'],
    ['2027-10-30', 'daily', 30, '2027-10-31'],
    ['2026-12-01', 'weekly', 1, '2026-12-08'],
    ['2026-12-28', 'weekly', 28, '2027-01-04'],
    ['2028-02-26', 'weekly', 26, '2028-03-04'],
    ['2027-02-22', 'weekly', 22, '2027-03-01'],
    ['2026-12-15', 'monthly', 15, '2027-01-15'],
    ['2027-01-31', 'monthly', 31, '2027-02-28'],
    ['2028-01-31', 'monthly', 31, '2028-02-29'],
    ['2100-01-31', 'monthly', 31, '2100-02-28'], // divisible by 100, not by 400: not a leap year
    ['2000-01-31', 'monthly', 31, '2000-02-29'], // divisible by 400: a leap year
    ['2027-02-28', 'monthly', 31, '2027-03-31'], // clamped last month, back on the anchor now
    ['2028-02-29', 'monthly', 30, '2028-03-30'],
    ['2027-03-31', 'monthly', 31, '2027-04-30'],
    ['2027-02-28', 'monthly', 28, '2027-03-28'], // a real 28th stays the 28th
    ['2027-01-30', 'monthly', 30, '2027-02-28'],
    ['2026-12-31', 'monthly', 31, '2027-01-31'], // December rolls the year
  ])('when %s repeats %s (anchor %i), the next is %s', (due, recurrence, anchor, expected) => {
    expect(nextDueDate(due, recurrence, anchor)).toBe(expected);
  });

  it('when a monthly series starts on Jan 31, keeps returning to the last day of each month for a year', () => {
    const dates: string[] = [];
    let due = '2027-01-31';
    for (let i = 0; i < 12; i++) {
      due = nextDueDate(due, 'monthly', 31) ?? '';
      dates.push(due);
    }
    expect(dates).toEqual([
      '2027-02-28',
      '2027-03-31',
      '2027-04-30',
      '2027-05-31',
      '2027-06-30',
      '2027-07-31',
      '2027-08-31',
      '2027-09-30',
      '2027-10-31',
      '2027-11-30',
      '2027-12-31',
      '2028-01-31',
    ]);
  });

  it('when asked the day of the month of a date, reads it in UTC', () => {
    expect(dayOfMonth('2027-01-31')).toBe(31);
    expect(dayOfMonth('2027-03-01')).toBe(1);
  });
});
