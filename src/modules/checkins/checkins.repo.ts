import { Prisma } from '../../generated/prisma/client.js';
import { ConflictError } from '../../http/errors.js';
import type { LocalDate } from '../../platform/calendar.js';
import { clientOf, isoInstant, type Queryable, rowsOf } from '../../platform/db-access.js';
import { translate } from '../../platform/db-errors.js';
import type { AuditOfInsertStatement } from '../audit/audit.port.js';
import type { Metric } from './checkins.schemas.js';

/** A check-in as stored: notes still encrypted. */
export interface CheckinRow {
  id: string;
  checkinDate: LocalDate;
  stressLevel: number;
  moodRating: number;
  relationshipsRating: number;
  sleepHours: number;
  physicalActivityMinutes: number;
  mindfulnessMinutes: number;
  notesEnc: string | null;
  /** ISO 8601 UTC, as the API shows it. */
  createdAt: string;
  updatedAt: string;
}
export type CheckinData = Omit<CheckinRow, 'id' | 'createdAt' | 'updatedAt'>;

/**
 * The columns of every raw read, as CheckinRow: dates and instants as text, sleep as a number, so no driver type
 * leaks and no Date is made per row only to be printed again.
 */
const ROW_COLUMNS = Prisma.sql`
  id, to_char(checkin_date, 'YYYY-MM-DD') AS "checkinDate", stress_level AS "stressLevel",
  mood_rating AS "moodRating", relationships_rating AS "relationshipsRating", sleep_hours::float8 AS "sleepHours",
  physical_activity_minutes AS "physicalActivityMinutes", mindfulness_minutes AS "mindfulnessMinutes",
  notes_enc AS "notesEnc", ${isoInstant('created_at')} AS "createdAt", ${isoInstant('updated_at')} AS "updatedAt"`;
/** The CTE `insertCheckinAudited` inserts through; its audit entry reads the new row from it. */
const INSERTED = 'created';
const SELECT_ROW = Prisma.sql`SELECT ${ROW_COLUMNS} FROM user_health_checkins`;

const MODEL_COLUMNS = {
  id: true,
  checkinDate: true,
  stressLevel: true,
  moodRating: true,
  relationshipsRating: true,
  sleepHours: true,
  physicalActivityMinutes: true,
  mindfulnessMinutes: true,
  notesEnc: true,
  createdAt: true,
  updatedAt: true,
} as const;

const duplicateDate = () =>
  new ConflictError('checkin-exists', 'You already have a check-in on this date; change that one instead');

/** Prisma's Date for a `date` column is midnight UTC of that day. Sleep goes as text: decimal(4,2) exactly. */
const toDbDate = (date: LocalDate) => new Date(`${date}T00:00:00.000Z`);

function toDbChanges(data: Partial<CheckinData>) {
  const { checkinDate, sleepHours, ...rest } = data;
  return {
    ...rest,
    ...(checkinDate !== undefined ? { checkinDate: toDbDate(checkinDate) } : {}),
    ...(sleepHours !== undefined ? { sleepHours: sleepHours.toFixed(2) } : {}),
  };
}

interface ModelRow extends Omit<CheckinRow, 'checkinDate' | 'sleepHours' | 'createdAt' | 'updatedAt'> {
  checkinDate: Date;
  sleepHours: { toString(): string };
  createdAt: Date;
  updatedAt: Date;
}

function fromModel(row: ModelRow): CheckinRow {
  return {
    ...row,
    checkinDate: row.checkinDate.toISOString().slice(0, 10),
    sleepHours: Number(row.sleepHours),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * One per user per date: the unique index decides, so two racing inserts yield one row and one 409.
 * Inserts the check-in and its audit entry (`audited`, built by the audit log from the row of the CTE) in ONE
 * statement (a data-modifying CTE is atomic): no interactive transaction, so the connection is held for one round
 * trip instead of four; under load the pool, not the CPU, bounds how many check-ins a second an instance records.
 */
export async function insertCheckinAudited(
  db: Queryable,
  userId: string,
  id: string,
  data: CheckinData,
  audited: AuditOfInsertStatement,
): Promise<CheckinRow> {
  try {
    const rows = await rowsOf<CheckinRow>(
      db,
      Prisma.sql`
      WITH ${Prisma.raw(INSERTED)} AS (
        INSERT INTO user_health_checkins (id, user_id, checkin_date, stress_level, mood_rating, relationships_rating,
          sleep_hours, physical_activity_minutes, mindfulness_minutes, notes_enc)
        VALUES (${id}::uuid, ${userId}::uuid, ${data.checkinDate}::date, ${data.stressLevel}, ${data.moodRating},
          ${data.relationshipsRating}, ${data.sleepHours.toFixed(2)}::numeric, ${data.physicalActivityMinutes},
          ${data.mindfulnessMinutes}, ${data.notesEnc})
        RETURNING *
      ), audited AS (${audited(INSERTED)})
      SELECT ${ROW_COLUMNS} FROM ${Prisma.raw(INSERTED)}`,
    );
    return rows[0] as CheckinRow;
  } catch (err) {
    throw translate(err, { unique: duplicateDate });
  }
}

export async function findCheckin(db: Queryable, userId: string, id: string): Promise<CheckinRow | undefined> {
  const rows = await clientOf(db).$queryRaw<
    CheckinRow[]
  >`${SELECT_ROW} WHERE id = ${id}::uuid AND user_id = ${userId}::uuid`;
  return rows[0];
}

/** The check-in, row-locked until the transaction ends, so concurrent changes each audit what they really changed. */
export async function lockCheckin(tx: Queryable, userId: string, id: string): Promise<CheckinRow | undefined> {
  const rows = await clientOf(tx).$queryRaw<CheckinRow[]>`
    ${SELECT_ROW} WHERE id = ${id}::uuid AND user_id = ${userId}::uuid FOR UPDATE`;
  return rows[0];
}

/** Call with a row `lockCheckin` found in the same transaction: it is the user's, and stays so. */
export async function updateCheckin(tx: Queryable, id: string, data: Partial<CheckinData>): Promise<CheckinRow> {
  try {
    return fromModel(
      await clientOf(tx).userHealthCheckin.update({ where: { id }, data: toDbChanges(data), select: MODEL_COLUMNS }),
    );
  } catch (err) {
    throw translate(err, { unique: duplicateDate });
  }
}

export async function deleteCheckin(tx: Queryable, userId: string, id: string): Promise<boolean> {
  const { count } = await clientOf(tx).userHealthCheckin.deleteMany({ where: { id, userId } });
  return count === 1;
}

export interface CheckinListFilter {
  from?: LocalDate | undefined;
  to?: LocalDate | undefined;
  /** The date and id of the last row of the previous page. */
  after?: { checkinDate: LocalDate; id: string } | undefined;
  /** Rows to fetch: the page size plus one, to know whether more exist. */
  take: number;
}

/**
 * Newest date first, keyset-paginated on (checkin_date, id), on the (user_id, checkin_date) unique index. Exported
 * so the test EXPLAINs exactly this text. Dates are unique per user, so the id never breaks a real tie; it is kept
 * so the list follows the one pagination contract (PostgreSQL seeks the index on the row comparison's leading column).
 */
export function listCheckinsSql(userId: string, filter: CheckinListFilter): Prisma.Sql {
  const conditions = [Prisma.sql`user_id = ${userId}::uuid`];
  if (filter.from !== undefined) conditions.push(Prisma.sql`checkin_date >= ${filter.from}::date`);
  if (filter.to !== undefined) conditions.push(Prisma.sql`checkin_date <= ${filter.to}::date`);
  if (filter.after !== undefined) {
    const { checkinDate, id } = filter.after;
    conditions.push(Prisma.sql`(checkin_date, id) < (${checkinDate}::date, ${id}::uuid)`);
  }
  return Prisma.sql`${SELECT_ROW} WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY checkin_date DESC, id DESC LIMIT ${filter.take}`;
}

/** Through `pg` directly (`clientOf(db).rows`): the history screen is among the hottest reads. */
export function listCheckins(db: Queryable, userId: string, filter: CheckinListFilter): Promise<CheckinRow[]> {
  return rowsOf<CheckinRow>(db, listCheckinsSql(userId, filter));
}

/** Every check-in of the user, oldest first (the GDPR export). */
export function allCheckins(db: Queryable, userId: string): Promise<CheckinRow[]> {
  return clientOf(db).$queryRaw<CheckinRow[]>`${SELECT_ROW} WHERE user_id = ${userId}::uuid ORDER BY checkin_date, id`;
}

export async function deleteAllCheckins(tx: Queryable, userId: string): Promise<void> {
  await clientOf(tx).userHealthCheckin.deleteMany({ where: { userId } });
}

const COLUMNS: Record<Metric, string> = {
  stressLevel: 'stress_level',
  moodRating: 'mood_rating',
  relationshipsRating: 'relationships_rating',
  sleepHours: 'sleep_hours',
  physicalActivityMinutes: 'physical_activity_minutes',
  mindfulnessMinutes: 'mindfulness_minutes',
};
const METRIC_NAMES = Object.keys(COLUMNS) as Metric[];

type Window = 'range' | 'current' | 'previous' | 'change';
export type SummaryRow = {
  rangeCount: number;
  currentCount: number;
  previousCount: number;
  streakDays: number;
  streakEndsOn: LocalDate | null;
} & Record<`${Window}_${Metric}`, number | null>;

export interface SummaryWindow {
  from: LocalDate;
  to: LocalDate;
  /** The user's today: the current streak ends on it or on the day before. */
  today: LocalDate;
}

/**
 * The summary in one statement, aggregated by PostgreSQL rather than by loading rows: per-metric means over the
 * range and over the two weeks ending on `to` (one pass, FILTER per window), and the current streak by
 * gaps-and-islands (within a run of consecutive days, date + row number counted from the newest is constant).
 * Both scans read the (user_id, checkin_date) index. Exported so the test EXPLAINs exactly this text.
 */
export function summarySql(userId: string, w: SummaryWindow): Prisma.Sql {
  const inRange = Prisma.sql`checkin_date >= ${w.from}::date`;
  const inCurrent = Prisma.sql`checkin_date > ${w.to}::date - 7`;
  const inPrevious = Prisma.sql`checkin_date BETWEEN ${w.to}::date - 13 AND ${w.to}::date - 7`;
  const avg = (column: string, filter: Prisma.Sql) => Prisma.sql`avg(${Prisma.raw(column)}) FILTER (WHERE ${filter})`;
  const alias = (window: Window, metric: Metric) => Prisma.raw(`"${window}_${metric}"`);
  const means = METRIC_NAMES.flatMap((metric) => {
    const column = COLUMNS[metric];
    return [
      Prisma.sql`round(${avg(column, inRange)}, 2)::float8 AS ${alias('range', metric)}`,
      Prisma.sql`round(${avg(column, inCurrent)}, 2)::float8 AS ${alias('current', metric)}`,
      Prisma.sql`round(${avg(column, inPrevious)}, 2)::float8 AS ${alias('previous', metric)}`,
      Prisma.sql`round(${avg(column, inCurrent)} - ${avg(column, inPrevious)}, 2)::float8 AS ${alias('change', metric)}`,
    ];
  });
  return Prisma.sql`
    WITH recent AS (
      SELECT * FROM user_health_checkins
      WHERE user_id = ${userId}::uuid
        AND checkin_date BETWEEN LEAST(${w.from}::date, ${w.to}::date - 13) AND ${w.to}::date
    ),
    streak AS (
      SELECT count(*)::int AS days, max(checkin_date) AS ends_on
      FROM (
        SELECT checkin_date,
          checkin_date + (row_number() OVER newest)::int AS island,
          first_value(checkin_date) OVER newest AS latest
        FROM user_health_checkins
        WHERE user_id = ${userId}::uuid AND checkin_date <= ${w.today}::date
        WINDOW newest AS (ORDER BY checkin_date DESC)
      ) days
      WHERE island = latest + 1 AND latest >= ${w.today}::date - 1
    )
    SELECT
      (count(*) FILTER (WHERE ${inRange}))::int AS "rangeCount",
      (count(*) FILTER (WHERE ${inCurrent}))::int AS "currentCount",
      (count(*) FILTER (WHERE ${inPrevious}))::int AS "previousCount",
      ${Prisma.join(means, ',\n      ')},
      (SELECT days FROM streak) AS "streakDays",
      (SELECT to_char(ends_on, 'YYYY-MM-DD') FROM streak) AS "streakEndsOn"
    FROM recent`;
}

export async function summarize(db: Queryable, userId: string, w: SummaryWindow): Promise<SummaryRow> {
  const rows = await clientOf(db).$queryRaw<SummaryRow[]>(summarySql(userId, w));
  const row = rows[0];
  if (!row) throw new Error('summary query returned no row');
  return row;
}
