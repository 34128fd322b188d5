import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PageQuery, pageOf } from '../../http/pagination.js';
import { json, problem, SECURITY } from '../../openapi/components.js';

/** Far enough either way for any real schedule, and every monthly step from it still a four-digit year. */
export const EARLIEST_DATE = '1970-01-01';
export const LATEST_DATE = '2999-12-31';

/** A real calendar date (2027-02-29 is refused) as `YYYY-MM-DD`. */
const CalendarDate = z.iso
  .date({ message: 'must be a calendar date as YYYY-MM-DD' })
  .refine((d) => d >= EARLIEST_DATE && d <= LATEST_DATE, {
    message: `must be between ${EARLIEST_DATE} and ${LATEST_DATE}`,
  });

const Title = z.string().trim().min(1).max(200).meta({ example: 'Pay rent' });
const RecurrenceEnum = z.enum(['none', 'daily', 'weekly', 'monthly']);
const ChannelEnum = z.enum(['push', 'email']);

export const ReminderParams = z.object({ id: z.uuid() });

export const CreateReminderBody = z
  .strictObject({
    title: Title,
    dueDate: CalendarDate.meta({ example: '2026-12-01' }),
    recurrence: RecurrenceEnum.default('none').meta({ example: 'monthly' }),
    channel: ChannelEnum.default('push').meta({ example: 'push' }),
  })
  .meta({ id: 'CreateReminder' });
export type CreateReminderBody = z.infer<typeof CreateReminderBody>;

export const UpdateReminderBody = z
  .strictObject({
    title: Title.optional(),
    dueDate: CalendarDate.optional().meta({ example: '2026-12-02' }),
    recurrence: RecurrenceEnum.optional(),
    channel: ChannelEnum.optional(),
    completedAt: z.iso.datetime({ offset: true }).nullable().optional().meta({
      description:
        'An instant marks the reminder done (a recurring one then gets its next occurrence); null reopens it',
      example: '2026-12-01T18:04:00.000Z',
    }),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { message: 'must change at least one field' })
  .meta({ id: 'UpdateReminder' });
export type UpdateReminderBody = z.infer<typeof UpdateReminderBody>;

export const ReminderListQuery = PageQuery.extend({
  from: CalendarDate.optional().meta({ description: 'Due on or after this date', example: '2026-12-01' }),
  to: CalendarDate.optional().meta({ description: 'Due on or before this date', example: '2026-12-31' }),
  status: z
    .enum(['pending', 'completed', 'all'])
    .default('pending')
    .meta({ description: 'pending (default): not completed; completed; or all' }),
}).refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be before from', path: ['to'] });
export type ReminderListQuery = z.infer<typeof ReminderListQuery>;

export const Reminder = z
  .object({
    id: z.uuid(),
    title: z.string().meta({ example: 'Pay rent' }),
    dueDate: z.iso.date().meta({ example: '2026-12-01' }),
    recurrence: RecurrenceEnum.meta({ example: 'monthly' }),
    channel: ChannelEnum.meta({ example: 'push' }),
    completedAt: z.iso.datetime().nullable().meta({ example: null }),
    previousId: z.uuid().nullable().meta({
      description: 'The occurrence this one follows, when it was created by completing a recurring reminder',
      example: null,
    }),
    createdAt: z.iso.datetime().meta({ example: '2026-11-25T09:30:00.000Z' }),
    updatedAt: z.iso.datetime().meta({ example: '2026-11-25T09:30:00.000Z' }),
  })
  .meta({ id: 'Reminder' });
export type Reminder = z.infer<typeof Reminder>;

export const ReminderPage = pageOf(Reminder).meta({ id: 'ReminderPage' });

export interface ReminderRow {
  id: string;
  title: string;
  dueDate: Date;
  recurrence: z.infer<typeof RecurrenceEnum>;
  channel: z.infer<typeof ChannelEnum>;
  completedAt: Date | null;
  previousId: string | null;
  anchorDay: number;
  createdAt: Date;
  updatedAt: Date;
}

export const isoDate = (date: Date) => date.toISOString().slice(0, 10);

export function toReminder(row: ReminderRow): Reminder {
  return {
    id: row.id,
    title: row.title,
    dueDate: isoDate(row.dueDate),
    recurrence: row.recurrence,
    channel: row.channel,
    completedAt: row.completedAt?.toISOString() ?? null,
    previousId: row.previousId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function describeRemindersApi(registry: OpenAPIRegistry) {
  const tags = ['Reminders'];
  const security = [{ [SECURITY.bearer]: [] }];
  const base = '/api/v1/reminders';
  const notSignedIn = problem('Not signed in');
  const forbidden = problem('An API key (read-only), or a cookie session without a valid X-CSRF-Token');

  registry.registerPath({
    method: 'get',
    path: base,
    tags,
    summary: 'Your reminders, soonest due first (due date, then id)',
    security,
    request: { query: ReminderListQuery },
    responses: {
      200: json('A page of reminders', ReminderPage),
      400: problem('A cursor this API did not issue'),
      401: notSignedIn,
      422: problem('Invalid limit, status or dates, or `to` before `from`'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: base,
    tags,
    summary: 'Create a reminder',
    description: 'Honours `Idempotency-Key`: a retry with the same key and body replays the first answer.',
    security,
    request: { body: { content: { 'application/json': { schema: CreateReminderBody } } } },
    responses: {
      201: json('Created', Reminder),
      400: problem('Invalid Idempotency-Key'),
      401: notSignedIn,
      403: forbidden,
      409: problem('A request with this Idempotency-Key is still running'),
      422: problem('Invalid or unknown fields; or an Idempotency-Key reused with another body'),
    },
  });
  registry.registerPath({
    method: 'patch',
    path: `${base}/{id}`,
    tags,
    summary: 'Change a reminder, complete it (`completedAt`: an instant) or reopen it (`completedAt`: null)',
    description:
      'Completing a daily, weekly or monthly reminder creates its next occurrence in the same transaction, due one ' +
      'day, seven days or one month after this due date (monthly keeps the chosen day of the month, clamped to the ' +
      'month end: Jan 31 → Feb 28 → Mar 31). Completing the same occurrence again, even concurrently, never creates ' +
      'a second one. Reopening does not delete the next occurrence.',
    security,
    request: {
      params: ReminderParams,
      body: { content: { 'application/json': { schema: UpdateReminderBody } } },
    },
    responses: {
      200: json('The reminder as changed', Reminder),
      400: problem('The id is not a UUID'),
      401: notSignedIn,
      403: forbidden,
      404: problem('No such reminder among yours'),
      422: problem('Invalid or unknown fields, no field at all, or completedAt in the future'),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: `${base}/{id}`,
    tags,
    summary: 'Delete a reminder (its next occurrence, if any, stays)',
    security,
    request: { params: ReminderParams },
    responses: {
      204: { description: 'Deleted' },
      400: problem('The id is not a UUID'),
      401: notSignedIn,
      403: forbidden,
      404: problem('No such reminder among yours'),
    },
  });
}
