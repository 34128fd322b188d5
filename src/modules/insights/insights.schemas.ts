import { z } from 'zod';
import { CalendarDate, CurrencyCode, int32, int64 } from '../../http/field-schemas.js';

/** The longest window the insight covers: a year, leap day included (53 ISO weeks touch it at most). */
export const MAX_INSIGHT_DAYS = 366;
/** The window when `from` is not given: the twelve weeks (84 days) ending on `to`. */
export const DEFAULT_INSIGHT_DAYS = 84;
/** Below this many days holding both a check-in and bank data, a correlation says nothing and is not given. */
export const MIN_CORRELATION_DAYS = 14;
/** The categories of a week's spending shown, largest first. */
export const TOP_CATEGORIES = 3;

const InsightDate = CalendarDate.refine((d) => d >= '1900-01-01', { message: 'must be 1900-01-01 or later' });

export const MoneyAndMoodQuery = z
  .object({
    from: InsightDate.optional().meta({ description: `Default: ${DEFAULT_INSIGHT_DAYS - 1} days before \`to\`` }),
    to: InsightDate.optional().meta({ description: 'Default: today in your time zone' }),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'must not be after `to`',
    path: ['from'],
  });
export type MoneyAndMoodQuery = z.infer<typeof MoneyAndMoodQuery>;

// A year of one account's movements in cents stays far below 2^53; the bound says so rather than leaving it open.
const Total = int64(0, Number.MAX_SAFE_INTEGER);
const average = (min: number, max: number, example: number) =>
  z.number().min(min).max(max).nullable().meta({ example, description: 'Null without a check-in that week' });

const Week = z
  .object({
    week: z
      .string()
      .regex(/^\d{4}-W\d{2}$/)
      .max(8)
      .meta({ example: '2026-W48', description: 'ISO 8601 week (weeks start on Monday)' }),
    from: CalendarDate.meta({ description: 'First day of the week inside the range', example: '2026-11-23' }),
    to: CalendarDate.meta({ description: 'Last day of the week inside the range', example: '2026-11-29' }),
    spendingCents: Total.meta({ description: 'Money that left your accounts, as a positive number', example: 48_250 }),
    incomeCents: Total.meta({ description: 'Money that came in', example: 310_000 }),
    topCategories: z
      .array(
        z.object({
          category: z.string().max(255).meta({ example: 'FOOD_AND_DRINK' }),
          spendingCents: Total.meta({ example: 18_990 }),
        }),
      )
      .max(TOP_CATEGORIES)
      .meta({ description: `The week's ${TOP_CATEGORIES} largest spending categories, largest first` }),
    checkins: int32(0, 7).meta({ example: 5 }),
    averages: z.object({
      stressLevel: average(1, 10, 6.4),
      moodRating: average(1, 10, 6.8),
      sleepHours: average(0, 24, 6.75),
    }),
  })
  .meta({ id: 'MoneyAndMoodWeek' });

export const MoneyAndMood = z
  .object({
    from: CalendarDate.meta({ example: '2026-09-07' }),
    to: CalendarDate.meta({ example: '2026-11-29' }),
    currency: CurrencyCode.nullable().meta({
      example: 'USD',
      description:
        'The currency counted: the one most of your transactions in the range are in (totals in two currencies ' +
        'cannot be added). Null when the range holds no transaction.',
    }),
    transactionsInOtherCurrencies: int64(0, Number.MAX_SAFE_INTEGER).meta({
      example: 0,
      description: 'Transactions in the range left out because they are in another currency',
    }),
    weeks: z.array(Week).max(54).meta({ description: 'Every ISO week the range touches, oldest first' }),
    spendingAndStress: z
      .object({
        correlation: z
          .number()
          .min(-1)
          .max(1)
          .nullable()
          .meta({
            example: 0.42,
            description:
              "Pearson's r between a day's spending and that day's stress level. Null below " +
              `${MIN_CORRELATION_DAYS} days, or when either never varies.`,
          }),
        days: int32(0, MAX_INSIGHT_DAYS).meta({
          example: 41,
          description:
            'Days it is computed on: days with a check-in between your first and last transaction of the range ' +
            '(a day without spending counts as 0)',
        }),
      })
      .meta({ description: 'Whether you spend more on stressful days' }),
  })
  .meta({ id: 'MoneyAndMood' });
export type MoneyAndMood = z.infer<typeof MoneyAndMood>;
