import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { json, problem, SECURITY } from '../../openapi/components.js';

/** The longest window a summary covers: a year, leap day included. */
export const MAX_SUMMARY_DAYS = 366;
/** The window of a summary when `from` is not given: the 30 days ending on `to`. */
export const DEFAULT_SUMMARY_DAYS = 30;
export const MAX_NOTES_CHARS = 2_000;

/** A calendar date. PostgreSQL has no year 0, so the floor keeps every accepted date storable and comparable. */
export const CalendarDate = z.iso
  .date({ message: 'must be a date YYYY-MM-DD' })
  .refine((d) => d >= '1900-01-01', { message: 'must be 1900-01-01 or later' })
  .meta({ example: '2026-11-24' });

const rating = (example: number) => z.number().int().min(1).max(10).meta({ example });
const minutes = (example: number) => z.number().int().min(0).max(1_440).meta({ example });

const fields = {
  checkinDate: CalendarDate.meta({ description: 'The day this check-in is about; not after today in your time zone' }),
  stressLevel: rating(6).meta({ description: '1 (calm) to 10 (very stressed)' }),
  moodRating: rating(7),
  relationshipsRating: rating(8),
  // Stored as decimal(4,2): two decimals are all a value may carry, so 7.25 is kept exactly and 7.333 is refused.
  sleepHours: z.number().min(0).max(24).multipleOf(0.01).meta({ example: 7.5, description: 'At most 2 decimals' }),
  physicalActivityMinutes: minutes(30),
  mindfulnessMinutes: minutes(10),
  notes: z
    .string()
    .max(MAX_NOTES_CHARS)
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

export const CheckinParams = z.object({ id: z.uuid() });

const dateRange = <T extends { from?: string | undefined; to?: string | undefined }>(query: T) =>
  query.from === undefined || query.to === undefined || query.from <= query.to;
const rangeProblem = { message: 'must not be after `to`', path: ['from'] };

export const CheckinListQuery = PageQuery.extend({
  from: CalendarDate.optional().meta({ description: 'Earliest date included' }),
  to: CalendarDate.optional().meta({ description: 'Latest date included' }),
}).refine(dateRange, rangeProblem);
export type CheckinListQuery = z.infer<typeof CheckinListQuery>;

export const CheckinSummaryQuery = z
  .object({
    from: CalendarDate.optional().meta({ description: `Default: ${DEFAULT_SUMMARY_DAYS - 1} days before \`to\`` }),
    to: CalendarDate.optional().meta({ description: 'Default: today in your time zone' }),
  })
  .refine(dateRange, rangeProblem);
export type CheckinSummaryQuery = z.infer<typeof CheckinSummaryQuery>;

const Instant = z.iso.datetime().meta({ example: '2026-11-24T21:04:05.000Z' });

export const Checkin = z
  .object({
    id: z.uuid(),
    checkinDate: z.string().meta({ example: '2026-11-24' }),
    stressLevel: z.number().int().meta({ example: 6 }),
    moodRating: z.number().int().meta({ example: 7 }),
    relationshipsRating: z.number().int().meta({ example: 8 }),
    sleepHours: z.number().meta({ example: 7.5 }),
    physicalActivityMinutes: z.number().int().meta({ example: 30 }),
    mindfulnessMinutes: z.number().int().meta({ example: 10 }),
    notes: z.string().nullable().meta({ example: 'Paid off the card; slept badly anyway' }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .meta({ id: 'Checkin' });
export type Checkin = z.infer<typeof Checkin>;

export const CheckinPage = pageOf(Checkin).meta({ id: 'CheckinPage' });

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
  from: z.string().meta({ example: '2026-11-18' }),
  to: z.string().meta({ example: '2026-11-24' }),
  count: z.number().int().meta({ example: 6 }),
  averages: Averages,
});

export const CheckinSummary = z
  .object({
    from: z.string().meta({ example: '2026-10-26' }),
    to: z.string().meta({ example: '2026-11-24' }),
    count: z.number().int().meta({ description: 'Check-ins from `from` to `to`', example: 27 }),
    averages: Averages,
    streak: z
      .object({
        days: z.number().int().meta({ example: 12 }),
        endsOn: z.string().nullable().meta({ example: '2026-11-24' }),
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

export function describeCheckinsApi(registry: OpenAPIRegistry) {
  const tags = ['Check-ins'];
  const security = [{ [SECURITY.bearer]: [] }];
  const path = '/api/v1/checkins';
  const notSignedIn = problem('Not signed in');
  const forbidden = problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token');
  const badId = problem('The id is not a UUID');
  const missing = problem('No such check-in among yours');
  const duplicate = problem('You already have a check-in on this date (`checkin-exists`)');
  const invalid = problem(
    'Invalid or unknown fields, or a `checkinDate` after today in your time zone (`checkin-date-in-future`)',
  );

  registry.registerPath({
    method: 'post',
    path,
    tags,
    summary: 'Record a daily check-in (one per date)',
    description:
      '"Today" is today in the time zone of your profile (UTC when none). Honours `Idempotency-Key`. `notes` is ' +
      'stored encrypted.',
    security,
    request: { body: { content: { 'application/json': { schema: CreateCheckinBody } } } },
    responses: {
      201: json('Recorded', Checkin),
      401: notSignedIn,
      403: forbidden,
      409: duplicate,
      422: invalid,
    },
  });
  registry.registerPath({
    method: 'get',
    path,
    tags,
    summary: 'Your check-ins, newest date first (API keys may call it)',
    security,
    request: { query: CheckinListQuery },
    responses: {
      200: json('A page of check-ins', CheckinPage),
      400: problem('A cursor this API did not issue'),
      401: notSignedIn,
      422: problem('Invalid limit or dates, or `from` after `to`'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: `${path}/summary`,
    tags,
    summary: 'Averages, current streak and week-over-week change of your check-ins',
    description: `\`from\` to \`to\` spans at most ${MAX_SUMMARY_DAYS} days; by default the last ${DEFAULT_SUMMARY_DAYS} days.`,
    security,
    request: { query: CheckinSummaryQuery },
    responses: {
      200: json('The summary', CheckinSummary),
      401: notSignedIn,
      403: problem('Your plan does not include wellness insights (`plan-required`)'),
      422: problem(`Invalid dates, \`from\` after \`to\`, or more than ${MAX_SUMMARY_DAYS} days`),
    },
  });
  registry.registerPath({
    method: 'get',
    path: `${path}/{id}`,
    tags,
    summary: 'One of your check-ins',
    security,
    request: { params: CheckinParams },
    responses: { 200: json('The check-in', Checkin), 400: badId, 401: notSignedIn, 404: missing },
  });
  registry.registerPath({
    method: 'patch',
    path: `${path}/{id}`,
    tags,
    summary: 'Change some fields of a check-in',
    description: 'Same rules as creating: a new `checkinDate` may not be after today nor taken by another check-in.',
    security,
    request: { params: CheckinParams, body: { content: { 'application/json': { schema: UpdateCheckinBody } } } },
    responses: {
      200: json('The updated check-in', Checkin),
      400: badId,
      401: notSignedIn,
      403: forbidden,
      404: missing,
      409: duplicate,
      422: invalid,
    },
  });
  registry.registerPath({
    method: 'delete',
    path: `${path}/{id}`,
    tags,
    summary: 'Delete a check-in',
    security,
    request: { params: CheckinParams },
    responses: { 204: { description: 'Deleted' }, 400: badId, 401: notSignedIn, 403: forbidden, 404: missing },
  });
}
