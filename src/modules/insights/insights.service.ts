import { dateWindow } from '../../http/date-window.js';
import { localDate } from '../../platform/calendar.js';
import type { Db } from '../../platform/db-handle.js';
import type { ProfilesService } from '../profiles/profiles.service.js';
import { currenciesOf, spendingAndStress, weeksOf } from './insights.repo.js';
import {
  DEFAULT_INSIGHT_DAYS,
  MAX_INSIGHT_DAYS,
  MIN_CORRELATION_DAYS,
  type MoneyAndMood,
  type MoneyAndMoodQuery,
} from './insights.schemas.js';

export interface InsightsDeps {
  db: Db;
  profiles: Pick<ProfilesService, 'timezoneOf'>;
  now: () => Date;
}

export type InsightsService = ReturnType<typeof createInsightsService>;

/** Insights that put the user's money beside their wellbeing. */
export function createInsightsService({ db, profiles, now }: InsightsDeps) {
  return {
    /**
     * Per ISO week, spending, income and the check-ins' averages; over the range, how daily spending follows stress.
     * By default the twelve weeks ending today in the user's time zone.
     */
    async moneyAndMood(userId: string, query: MoneyAndMoodQuery): Promise<MoneyAndMood> {
      const today = localDate(now(), await profiles.timezoneOf(userId));
      const { from, to } = dateWindow(query, today, { defaultDays: DEFAULT_INSIGHT_DAYS, maxDays: MAX_INSIGHT_DAYS });
      const window = { userId, from, to };
      const currencies = await currenciesOf(db, window);
      const currency = currencies.find((c) => c.currency !== null)?.currency ?? null;
      const [weeks, correlation] = await Promise.all([
        weeksOf(db, window, currency),
        spendingAndStress(db, window, currency),
      ]);
      return {
        from,
        to,
        currency,
        transactionsInOtherCurrencies: currencies
          .filter((c) => c.currency !== currency)
          .reduce((sum, c) => sum + c.transactions, 0),
        weeks: weeks.map(({ stressLevel, moodRating, sleepHours, ...week }) => ({
          ...week,
          averages: { stressLevel, moodRating, sleepHours },
        })),
        spendingAndStress: {
          correlation: correlation.days >= MIN_CORRELATION_DAYS ? correlation.r : null,
          days: correlation.days,
        },
      };
    },
  };
}
