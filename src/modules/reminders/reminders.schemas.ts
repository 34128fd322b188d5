import { z } from 'zod';
import {
  CalendarDate,
  defaulted,
  Id,
  Instant,
  InstantInput,
  int32,
  JS_ARRAY_MAX_LENGTH,
  text,
} from '../../http/field-schemas.js';
import { PageQuery, pageOf } from '../../http/pagination.js';

/** Far enough either way for any real schedule, and every monthly step from it still a four-digit year. */
export const EARLIEST_DATE = '1970-01-01';
export const LATEST_DATE = '2999-12-31';

/** A real calendar date (2027-02-29 is refused) as `YYYY-MM-DD`. */
const DueDate = CalendarDate.refine((d) => d >= EARLIEST_DATE && d <= LATEST_DATE, {
  message: `must be between ${EARLIEST_DATE} and ${LATEST_DATE}`,
});

/** `title` is varchar(200). */
const TITLE_MAX_CHARS = 200;
const Title = text({ trim: true, min: 1, max: TITLE_MAX_CHARS }).meta({ example: 'Pay rent' });
const RecurrenceEnum = z.enum(['none', 'daily', 'weekly', 'monthly']);
const ChannelEnum = z.enum(['push', 'email']);

export const ReminderParams = z.object({ id: Id });

export const CreateReminderBody = z
  .strictObject({
    title: Title,
    dueDate: DueDate.meta({ example: '2026-12-01' }),
    recurrence: defaulted(RecurrenceEnum, 'none').meta({ example: 'monthly' }),
    channel: defaulted(ChannelEnum, 'push').meta({ example: 'push' }),
  })
  .meta({ id: 'CreateReminder' });
export type CreateReminderBody = z.infer<typeof CreateReminderBody>;

export const UpdateReminderBody = z
  .strictObject({
    title: Title.optional(),
    dueDate: DueDate.optional().meta({ example: '2026-12-02' }),
    recurrence: RecurrenceEnum.optional(),
    channel: ChannelEnum.optional(),
    completedAt: InstantInput.nullable().optional().meta({
      description:
        'An instant marks the reminder done (a recurring one then gets its next occurrence); null reopens it',
      example: '2026-12-01T18:04:00.000Z',
    }),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { message: 'must change at least one field' })
  .meta({ id: 'UpdateReminder' });
export type UpdateReminderBody = z.infer<typeof UpdateReminderBody>;

export const ReminderListQuery = PageQuery.extend({
  from: DueDate.optional().meta({ description: 'Due on or after this date', example: '2026-12-01' }),
  to: DueDate.optional().meta({ description: 'Due on or before this date', example: '2026-12-31' }),
  status: z
    .enum(['pending', 'completed', 'all'])
    .default('pending')
    .meta({ description: 'pending (default): not completed; completed; or all' }),
}).refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be before from', path: ['to'] });
export type ReminderListQuery = z.infer<typeof ReminderListQuery>;

export const Reminder = z
  .object({
    id: Id,
    title: z.string().max(TITLE_MAX_CHARS).meta({ example: 'Pay rent' }),
    dueDate: CalendarDate.meta({ example: '2026-12-01' }),
    recurrence: RecurrenceEnum.meta({ example: 'monthly' }),
    channel: ChannelEnum.meta({ example: 'push' }),
    completedAt: Instant.nullable().meta({ example: null }),
    previousId: Id.nullable().meta({
      description: 'The occurrence this one follows, when it was created by completing a recurring reminder',
      example: null,
    }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .meta({ id: 'Reminder' });
export type Reminder = z.infer<typeof Reminder>;

export const ReminderPage = pageOf(Reminder).meta({ id: 'ReminderPage' });

/** `reminder_deliveries.last_error_code` is varchar(64). */
const ERROR_CODE_MAX_CHARS = 64;

export const ReminderDelivery = z
  .object({
    occurrence: CalendarDate.meta({ description: 'The due date this delivery was for', example: '2026-12-01' }),
    channel: ChannelEnum.meta({ example: 'email' }),
    status: z.enum(['retrying', 'sent', 'failed', 'skipped']).meta({
      description:
        '`retrying`: an attempt failed and another is scheduled; `sent`: handed to the mail server or push ' +
        'service; `failed`: refused for good or out of attempts; `skipped`: a push reminder with no device registered',
      example: 'sent',
    }),
    attempts: int32(1, 100).meta({ example: 1 }),
    lastErrorCode: z
      .string()
      .max(ERROR_CODE_MAX_CHARS)
      .nullable()
      .meta({ description: 'Why the last attempt failed (smtp-refused, push-gone, …)', example: null }),
    sentAt: Instant.nullable().meta({ example: '2026-12-01T14:00:03.120Z' }),
  })
  .meta({ id: 'ReminderDelivery' });

/** The `reminderDeliveries` section of the GDPR export: every delivery of every reminder. */
export const ReminderDeliveriesExport = z.array(ReminderDelivery.extend({ reminderId: Id })).max(JS_ARRAY_MAX_LENGTH);

export const ReminderDetail = Reminder.extend({
  lastDelivery: ReminderDelivery.nullable().meta({
    description: 'The delivery of the latest occurrence sent or attempted; null before the first',
  }),
}).meta({ id: 'ReminderDetail' });
export type ReminderDetail = z.infer<typeof ReminderDetail>;

/**
 * The `reminders` section of the GDPR export: every reminder, completed ones included, with the day of the month
 * a monthly series returns to.
 */
export const RemindersExport = z.array(Reminder.extend({ anchorDay: int32(1, 31) })).max(JS_ARRAY_MAX_LENGTH);

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
