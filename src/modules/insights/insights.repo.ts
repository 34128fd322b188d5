import { Prisma } from '../../generated/prisma/client.js';
import type { LocalDate } from '../../platform/calendar.js';
import { type Queryable, rowsOf } from '../../platform/db-access.js';
import { TOP_CATEGORIES } from './insights.schemas.js';

export interface InsightWindow {
  userId: string;
  from: LocalDate;
  to: LocalDate;
}

/**
 * Money moving between the user's own accounts is neither spending nor income (Plaid's personal-finance categories
 * for it); counting it would show a transfer to savings as a spending spree.
 */
const TRANSFERS = ['TRANSFER_IN', 'TRANSFER_OUT'];

/**
 * The transactions an insight counts: posted (a pending one may still change or vanish), in `currency`, not a
 * transfer. `amount_cents` is signed from the user's side, negative for money leaving the account (DESIGN §4), so
 * `spent` is positive for spending.
 */
function counted(w: InsightWindow, currency: string | null) {
  return Prisma.sql`
    SELECT t.date, t.amount_cents AS amount, -t.amount_cents AS spent, COALESCE(t.category, 'UNCATEGORIZED') AS category
    FROM bank_transactions t
    WHERE t.user_id = ${w.userId}::uuid AND t.date BETWEEN ${w.from}::date AND ${w.to}::date AND NOT t.pending
      AND t.iso_currency_code = ${currency}
      AND COALESCE(t.category, '') <> ALL (${TRANSFERS}::text[])`;
}

/** How many posted transactions of the window are in each currency, most first; `null` for unofficial ones. */
export function currenciesOf(db: Queryable, w: InsightWindow) {
  return rowsOf<{ currency: string | null; transactions: number }>(
    db,
    Prisma.sql`
      SELECT iso_currency_code AS currency, count(*)::float8 AS transactions
      FROM bank_transactions
      WHERE user_id = ${w.userId}::uuid AND date BETWEEN ${w.from}::date AND ${w.to}::date AND NOT pending
      GROUP BY 1
      ORDER BY 2 DESC, 1 NULLS LAST`,
  );
}

export interface WeekRow {
  week: string;
  from: string;
  to: string;
  spendingCents: number;
  incomeCents: number;
  topCategories: Array<{ category: string; spendingCents: number }>;
  checkins: number;
  stressLevel: number | null;
  moodRating: number | null;
  sleepHours: number | null;
}

/**
 * One row per ISO week the window touches (weeks start on Monday, `date_trunc('week')`), clipped to the window:
 * spending, income, the largest spending categories, and the averages of that week's check-ins. Every part is
 * aggregated once and joined by week: a per-week subquery would scan the window's transactions once per week.
 */
export function weeksOf(db: Queryable, w: InsightWindow, currency: string | null) {
  return rowsOf<WeekRow>(db, weeksSql(w, currency));
}

/** The text of `weeksOf`, exported so that a test EXPLAINs exactly it. */
export function weeksSql(w: InsightWindow, currency: string | null): Prisma.Sql {
  return Prisma.sql`
      WITH tx AS (${counted(w, currency)}),
      weeks AS (
        SELECT s::date AS start
        FROM generate_series(date_trunc('week', ${w.from}::date), ${w.to}::date, interval '1 week') AS s
      ),
      money AS (
        SELECT date_trunc('week', date)::date AS start,
               COALESCE(sum(spent) FILTER (WHERE spent > 0), 0) AS spending,
               COALESCE(sum(amount) FILTER (WHERE amount > 0), 0) AS income
        FROM tx GROUP BY 1
      ),
      categories AS (
        SELECT start, category, spending,
               row_number() OVER (PARTITION BY start ORDER BY spending DESC, category) AS rank
        FROM (
          SELECT date_trunc('week', date)::date AS start, category, sum(spent) AS spending
          FROM tx WHERE spent > 0 GROUP BY 1, 2
        ) c
      ),
      top AS (
        SELECT start,
               json_agg(json_build_object('category', category, 'spendingCents', spending::float8) ORDER BY rank)
                 AS categories
        FROM categories WHERE rank <= ${TOP_CATEGORIES} GROUP BY start
      ),
      moods AS (
        SELECT date_trunc('week', checkin_date)::date AS start, count(*)::int AS checkins,
               round(avg(stress_level), 2)::float8 AS "stressLevel",
               round(avg(mood_rating), 2)::float8 AS "moodRating",
               round(avg(sleep_hours), 2)::float8 AS "sleepHours"
        FROM user_health_checkins
        WHERE user_id = ${w.userId}::uuid AND checkin_date BETWEEN ${w.from}::date AND ${w.to}::date
        GROUP BY 1
      )
      SELECT to_char(weeks.start, 'IYYY-"W"IW') AS week,
             to_char(greatest(weeks.start, ${w.from}::date), 'YYYY-MM-DD') AS "from",
             to_char(least(weeks.start + 6, ${w.to}::date), 'YYYY-MM-DD') AS "to",
             COALESCE(money.spending, 0)::float8 AS "spendingCents",
             COALESCE(money.income, 0)::float8 AS "incomeCents",
             COALESCE(top.categories, '[]'::json) AS "topCategories",
             COALESCE(moods.checkins, 0) AS checkins, moods."stressLevel", moods."moodRating", moods."sleepHours"
      FROM weeks
      LEFT JOIN money ON money.start = weeks.start
      LEFT JOIN top ON top.start = weeks.start
      LEFT JOIN moods ON moods.start = weeks.start
      ORDER BY weeks.start`;
}

/**
 * Pearson's r between a day's spending and its stress level (PostgreSQL's `corr`), over the days with a check-in
 * between the first and the last counted transaction of the window: inside that span a day without spending is a
 * real 0, outside it the bank data is missing, not zero. `r` is null when either series never varies.
 */
export async function spendingAndStress(db: Queryable, w: InsightWindow, currency: string | null) {
  const [row] = await rowsOf<{ days: number; r: number | null }>(db, spendingAndStressSql(w, currency));
  return row ?? { days: 0, r: null };
}

/** The text of `spendingAndStress`, exported so that a test EXPLAINs exactly it. */
export function spendingAndStressSql(w: InsightWindow, currency: string | null): Prisma.Sql {
  return Prisma.sql`
      WITH tx AS (${counted(w, currency)}),
      span AS (SELECT min(date) AS first, max(date) AS last FROM tx),
      daily AS (SELECT date, sum(spent) FILTER (WHERE spent > 0) AS spent FROM tx GROUP BY date),
      days AS (
        SELECT c.stress_level::float8 AS stress, COALESCE(daily.spent, 0)::float8 AS spent
        FROM user_health_checkins c
        CROSS JOIN span
        LEFT JOIN daily ON daily.date = c.checkin_date
        WHERE c.user_id = ${w.userId}::uuid AND c.checkin_date BETWEEN span.first AND span.last
      )
      SELECT count(*)::int AS days, round(corr(spent, stress)::numeric, 4)::float8 AS r FROM days`;
}
