import { z } from 'zod';
import { CalendarDate, Id, INT32_MAX, Instant, int32, JS_ARRAY_MAX_LENGTH, text } from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';

/** The longest window a summary covers: a year, leap day included. */
export const MAX_SUMMARY_DAYS = 366;
/** The window of a summary when `from` is not given: the 30 days ending on `to`. */
export const DEFAULT_SUMMARY_DAYS = 30;
export const MAX_NOTES_CHARS = 2_000;

/** A calendar date. PostgreSQL has no year 0, so the floor keeps every accepted date storable and comparable. */
const CheckinDate = CalendarDate.refine((d) => d >= '1900-01-01', { message: 'must be 1900-01-01 or later' });

// The database's CHECK constraints hold the same ranges.
const rating = (example: number) => int32(1, 10).meta({ example });
const minutes = (example: number) => int32(0, 1_440).meta({ example });
const sleepHours = z.number().min(0).max(24);
/** Free text over several lines: tab and line breaks are kept, other control characters refused. */
const notes = text({ max: MAX_NOTES_CHARS, multiline: true });

const fields = {
  checkinDate: CheckinDate.meta({ description: 'The day this check-in is about; not after today in your time zone' }),
  stressLevel: rating(6).meta({ description: '1 (calm) to 10 (very stressed)' }),
  moodRating: rating(7),
  relationshipsRating: rating(8),
  // Stored as decimal(4,2): two decimals are all a value may carry, so 7.25 is kept exactly and 7.333 is refused.
  sleepHours: sleepHours.multipleOf(0.01).meta({ example: 7.5, description: 'At most 2 decimals' }),
  physicalActivityMinutes: minutes(30),
  mindfulnessMinutes: minutes(10),
  notes: notes
    .nullable()
    .meta({ description: 'Free text, stored encrypted', example: 'Paid off the card; slept badly anyway' }),
};

export const CreateCheckinBody = z
  .strictObject({ ...fields, notes: fields.notes.optional() })
  .meta({ id: 'CreateCheckin' });
export type CreateCheckinBody = z.infer<typeof CreateCheckinBody>;

export const UpdateCheckinBody = z
  .strictObject({
    checkinDate: fields.checkinDate.optional(),
    stressLevel: fields.stressLevel.optional(),
    moodRating: fields.moodRating.optional(),
    relationshipsRating: fields.relationshipsRating.optional(),
    sleepHours: fields.sleepHours.optional(),
    physicalActivityMinutes: fields.physicalActivityMinutes.optional(),
    mindfulnessMinutes: fields.mindfulnessMinutes.optional(),
    notes: fields.notes.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
  .meta({ id: 'UpdateCheckin', description: 'The fields to change; `notes: null` clears the notes' });
export type UpdateCheckinBody = z.infer<typeof UpdateCheckinBody>;

export const CheckinParams = z.object({ id: Id });

const dateRange = <T extends { from?: string | undefined; to?: string | undefined }>(query: T) =>
  query.from === undefined || query.to === undefined || query.from <= query.to;
const rangeProblem = { message: 'must not be after `to`', path: ['from'] };

export const CheckinListQuery = PageQuery.extend({
  from: CheckinDate.optional().meta({ description: 'Earliest date included' }),
  to: CheckinDate.optional().meta({ description: 'Latest date included' }),
}).refine(dateRange, rangeProblem);
export type CheckinListQuery = z.infer<typeof CheckinListQuery>;

export const CheckinSummaryQuery = z
  .object({
    from: CheckinDate.optional().meta({ description: `Default: ${DEFAULT_SUMMARY_DAYS - 1} days before \`to\`` }),
    to: CheckinDate.optional().meta({ description: 'Default: today in your time zone' }),
  })
  .refine(dateRange, rangeProblem);
export type CheckinSummaryQuery = z.infer<typeof CheckinSummaryQuery>;

export const Checkin = z
  .object({
    id: Id,
    checkinDate: CalendarDate,
    stressLevel: rating(6),
    moodRating: rating(7),
    relationshipsRating: rating(8),
    sleepHours: sleepHours.meta({ example: 7.5 }),
    physicalActivityMinutes: minutes(30),
    mindfulnessMinutes: minutes(10),
    notes: notes.nullable().meta({ example: 'Paid off the card; slept badly anyway' }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .meta({ id: 'Checkin' });
export type Checkin = z.infer<typeof Checkin>;

export const CheckinPage = pageOf(Checkin).meta({ id: 'CheckinPage' });

/** The `checkins` section of the GDPR export: every check-in, oldest first, notes decrypted. */
export const CheckinsExport = z.array(Checkin).max(JS_ARRAY_MAX_LENGTH);

export const METRICS = [
  'stressLevel',
  'moodRating',
  'relationshipsRating',
  'sleepHours',
  'physicalActivityMinutes',
  'mindfulnessMinutes',
] as const;
export type Metric = (typeof METRICS)[number];

const nullableNumbers = (example: Record<Metric, number | null>, description: string) =>
  z
    .object(
      Object.fromEntries(METRICS.map((m) => [m, z.number().nullable()])) as Record<Metric, z.ZodNullable<z.ZodNumber>>,
    )
    .meta({ description, example });

const Averages = nullableNumbers(
  {
    stressLevel: 5.4,
    moodRating: 6.9,
    relationshipsRating: 7.75,
    sleepHours: 7.1,
    physicalActivityMinutes: 31.5,
    mindfulnessMinutes: 8,
  },
  'Mean of each metric, to 2 decimals; null when there is no check-in',
);

const Week = z.object({
  from: CalendarDate.meta({ example: '2026-11-18' }),
  to: CalendarDate.meta({ example: '2026-11-24' }),
  count: int32(0, 7).meta({ example: 6 }),
  averages: Averages,
});

export const CheckinSummary = z
  .object({
    from: CalendarDate.meta({ example: '2026-10-26' }),
    to: CalendarDate.meta({ example: '2026-11-24' }),
    // One check-in a day at most.
    count: int32(0, MAX_SUMMARY_DAYS).meta({ description: 'Check-ins from `from` to `to`', example: 27 }),
    averages: Averages,
    streak: z
      .object({
        // As long as the user's history: nothing bounds it below what an `integer` holds.
        days: int32(0, INT32_MAX).meta({ example: 12 }),
        endsOn: CalendarDate.nullable().meta({ example: '2026-11-24' }),
      })
      .meta({
        description:
          'The current run of consecutive days with a check-in, ending today or yesterday in your time zone ' +
          "(yesterday counts so that a streak is not lost before today's check-in). 0 and `endsOn` null when " +
          'neither day has one. Independent of `from` and `to`.',
      }),
    weekOverWeek: z
      .object({
        current: Week,
        previous: Week,
        change: nullableNumbers(
          {
            stressLevel: -0.5,
            moodRating: 1.25,
            relationshipsRating: null,
            sleepHours: 0.3,
            physicalActivityMinutes: 12,
            mindfulnessMinutes: 0,
          },
          'current minus previous average, in the unit of the metric; null when either week has no check-in',
        ),
      })
      .meta({ description: 'The 7 days ending on `to` against the 7 days before them, whatever `from` is' }),
  })
  .meta({ id: 'CheckinSummary' });
export type CheckinSummary = z.infer<typeof CheckinSummary>;
